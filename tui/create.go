package tui

import (
	"context"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
)

// createDialog asks for a new token's label: a Mattermost user access
// token's description, or a Rocket.Chat PAT's name and whether it bypasses
// two-factor.
type createDialog struct {
	st     account.Status
	kind   account.TokenKind // the kind it creates
	input  textinput.Model
	bypass bool
	focus  int // 0 label, 1 bypass (Rocket.Chat)
	f      *flow
	err    string
}

// createKind is the kind of token the account's service creates.
func createKind(st account.Status) account.TokenKind {
	k, _ := account.Info(st.Service).CreateKind()
	return k
}

func newCreateDialog(m *Model, st account.Status) *createDialog {
	d := &createDialog{st: st, kind: createKind(st)}
	d.input = textinput.New()
	d.input.Prompt = "› "
	d.input.CharLimit = 64
	d.input.SetWidth(36)
	d.input.SetStyles(m.st.Input)
	d.input.Placeholder = strings.ToLower(d.kind.Label) + ", e.g. " + d.kind.Example
	d.input.Focus()
	return d
}

func (d *createDialog) restyle(m *Model) { d.input.SetStyles(m.st.Input) }

func (d *createDialog) capturesText() bool { return d.focus == 0 }

func (d *createDialog) busy(m *Model) bool { return d.f != nil && m.running(d.f.opID) }

func (d *createDialog) update(m *Model, msg tea.Msg) []action {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		var cmd tea.Cmd
		d.input, cmd = d.input.Update(msg)
		return acts(runCmd(cmd))
	}
	switch {
	case key.Matches(k, m.keys.Cancel):
		if d.busy(m) {
			return m.cancelFlow(d.f)
		}
		return acts(closeDlg(d))
	case d.busy(m):
		return nil
	case key.Matches(k, m.keys.Submit):
		label := strings.TrimSpace(d.input.Value())
		if err := d.validate(label); err != "" {
			d.err = err
			return nil
		}
		d.err = ""
		d.f = m.createFlow(d.st, label, d.bypass)
		d.f.owner, d.f.replaceOwner = d, true
		return acts(runCmd(m.runFlow(d.f, nil, false)))
	case d.kind.Bypass2FA && (key.Matches(k, m.keys.NextField) || key.Matches(k, m.keys.PrevField)):
		d.focus = 1 - d.focus
		if d.focus == 0 {
			return acts(runCmd(d.input.Focus()))
		}
		d.input.Blur()
		return nil
	case d.focus == 1 && (key.Matches(k, m.keys.Toggle) || key.Matches(k, m.keys.Left) || key.Matches(k, m.keys.Right)):
		d.bypass = !d.bypass
		return nil
	}
	if d.focus != 0 {
		return nil
	}
	var cmd tea.Cmd
	d.input, cmd = d.input.Update(k)
	d.err = d.validate(strings.TrimSpace(d.input.Value()))
	if d.input.Value() == "" {
		d.err = ""
	}
	return acts(runCmd(cmd))
}

// validate checks the label as it is typed. A PAT's name becomes part of
// the secret's name, so it must fit in one.
func (d *createDialog) validate(label string) string {
	if label == "" {
		return "A token needs a label."
	}
	if d.kind.LabelIsID {
		if err := account.CheckStorable(d.st.Name, account.Ref{Kind: d.kind.Kind, ID: label}); err != nil {
			return "Too long: the name becomes part of the secret's name, which the store limits."
		}
	}
	return ""
}

func (d *createDialog) view(m *Model, w, h int) string {
	dw := dialogWidth(66, w)
	inner := dw - 4
	var b []string
	what, label := serviceName(d.st.Service)+" "+d.kind.Noun, d.kind.Label+": "
	b = append(b, wrap("A new "+what+" for "+d.st.User+". keyturn saves it to "+storeName(m.mgr.Store())+" before showing it.", inner), "")
	lst := m.st.FieldFocus
	if d.focus != 0 {
		lst = m.st.Field
	}
	b = append(b, lst.Render(label)+d.input.View())
	if d.kind.Bypass2FA {
		box := "[ ]"
		if d.bypass {
			box = "[x]"
		}
		bst := m.st.Field
		if d.focus == 1 {
			bst = m.st.FieldFocus
		}
		check, hint := bst.Render(box+" bypass two-factor"), "(the token then works without 2FA codes)"
		if ansi.StringWidth(check)+2+len(hint) <= inner {
			b = append(b, check+m.st.Faint.Render("  "+hint))
		} else {
			b = append(b, check, m.st.Faint.Render("    "+hint))
		}
	}
	if d.err != "" {
		b = append(b, m.st.Error.Render("✗ "+wrap(d.err, inner-2)))
	}
	if d.busy(m) {
		b = append(b, "", spinnerLine(m, d.f.label))
	}
	return frame(m, "New token · "+d.st.Name, strings.Join(b, "\n"), dw, false)
}

func (d *createDialog) short(k keyMap) []key.Binding {
	bs := []key.Binding{k.Submit}
	if d.kind.Bypass2FA {
		bs = append(bs, k.NextField, k.Toggle)
	}
	return append(bs, k.Cancel)
}

func (m *Model) createFlow(st account.Status, label string, bypass bool) *flow {
	name := st.Name
	what := createKind(st).Noun + " \"" + label + "\""
	f := &flow{title: "New token · " + name, label: "Creating the " + what + "…", acct: name}
	return bindFlow(f, func(ctx context.Context, ans *account.Answer, _ bool) (*account.Issued, error) {
		return m.mgr.Create(ctx, name, label, bypass, ans)
	}, m.issuedDone(what, issuedTitles{notSaved: "Created, but NOT saved", failed: "Could not create the " + what, saved: "New"}), lateIssued)
}
