package tui

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
)

// createDialog asks for a new token's label: a Mattermost user access
// token's description and expiry, or a Rocket.Chat PAT's name and whether
// it bypasses two-factor.
type createDialog struct {
	st     account.Status
	kind   account.TokenKind // the kind it creates
	input  textinput.Model
	bypass bool
	focus  int // a field: fieldLabel, fieldBypass, fieldExpiry, fieldDate
	f      *flow
	err    string
	detail string // the server's own words for err

	// The expiry, for kinds that can expire: a preset, or a date typed in.
	presets []expiryPreset
	preset  int
	date    textinput.Model
	limit   int // the server's maximum lifetime in days (0: none known)
}

// The dialog's fields, in tab order; those the kind lacks are skipped.
const (
	fieldLabel = iota
	fieldBypass
	fieldExpiry
	fieldDate
)

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
	if d.kind.Expires {
		d.presets = expiryPresets(0)
		d.date = textinput.New()
		d.date.Prompt = "› "
		d.date.CharLimit = 25
		d.date.SetWidth(20)
		d.date.SetStyles(m.st.Input)
		d.date.Placeholder = "2027-01-31"
	}
	return d
}

// loadLimit asks the server's maximum token lifetime in the background;
// the presets follow it when it comes.
func (d *createDialog) loadLimit(m *Model) tea.Cmd {
	if !d.kind.Expires {
		return nil
	}
	name := d.st.Name
	_, cmd := startQuietOp(m, "Reading the server's token lifetime…", func(ctx context.Context) (int, error) {
		return m.mgr.TokenLifetimeLimit(ctx, name)
	}, func(days int, err error) []action {
		if err == nil {
			d.setLimit(days)
		}
		return nil
	})
	return cmd
}

// setLimit narrows the presets to the server's maximum, keeping the
// choice when it is still offered.
func (d *createDialog) setLimit(days int) {
	was := d.presets[d.preset]
	d.limit, d.presets, d.preset = days, expiryPresets(days), 0
	for i, p := range d.presets {
		if p == was {
			d.preset = i
		}
	}
	if d.focus == fieldDate && !d.presets[d.preset].date {
		d.focus = fieldExpiry
	}
}

// expiryPreset is one expiry the dialog offers: no expiry (days 0), a
// number of days, or a date typed in.
type expiryPreset struct {
	days int
	date bool
}

func (p expiryPreset) String() string {
	switch {
	case p.date:
		return "a date"
	case p.days == 0:
		return "no expiry"
	case p.days == 365:
		return "1 year"
	case p.days == 1:
		return "1 day"
	}
	return fmt.Sprintf("%d days", p.days)
}

// expiryPresets are the choices under a server maximum of limit days (0:
// none): without "no expiry" and nothing beyond the maximum, which is
// offered itself.
func expiryPresets(limit int) []expiryPreset {
	all := []expiryPreset{{}, {days: 7}, {days: 30}, {days: 90}, {days: 365}}
	if limit <= 0 {
		return append(all, expiryPreset{date: true})
	}
	var out []expiryPreset
	for _, p := range all[1:] {
		if p.days < limit {
			out = append(out, p)
		}
	}
	return append(out, expiryPreset{days: limit}, expiryPreset{date: true})
}

// fields are the dialog's fields in tab order.
func (d *createDialog) fields() []int {
	f := []int{fieldLabel}
	if d.kind.Bypass2FA {
		f = append(f, fieldBypass)
	}
	if d.kind.Expires {
		f = append(f, fieldExpiry)
		if d.presets[d.preset].date {
			f = append(f, fieldDate)
		}
	}
	return f
}

// move goes to the next (or previous) field.
func (d *createDialog) move(step int) []action {
	f := d.fields()
	i := 0
	for j, x := range f {
		if x == d.focus {
			i = j
		}
	}
	return d.focusOn(f[(i+step+len(f))%len(f)])
}

// focusOn moves the focus to field, and the cursor with it.
func (d *createDialog) focusOn(field int) []action {
	d.focus = field
	d.input.Blur()
	if d.kind.Expires {
		d.date.Blur()
	}
	switch d.focus {
	case fieldLabel:
		return acts(runCmd(d.input.Focus()))
	case fieldDate:
		return acts(runCmd(d.date.Focus()))
	}
	return nil
}

// expiryRefused narrows the choices after the server refused the expiry:
// to the maximum it named, or at least without "no expiry". A date typed
// in stays, to be corrected; any other choice becomes the longest one
// allowed, so enter tries again with it.
func (d *createDialog) expiryRefused(maxDays int) []action {
	if !d.kind.Expires {
		return nil
	}
	typed := d.presets[d.preset].date
	if maxDays > 0 {
		d.setLimit(maxDays)
	} else if d.presets[0] == (expiryPreset{}) {
		d.presets = d.presets[1:]
	}
	if typed {
		d.preset = len(d.presets) - 1
		return d.focusOn(fieldDate)
	}
	d.preset = len(d.presets) - 2 // the last before "a date"
	return d.focusOn(fieldExpiry)
}

// expiry is the expiry chosen (the zero time: none).
func (d *createDialog) expiry(now time.Time) (time.Time, error) {
	if !d.kind.Expires {
		return time.Time{}, nil
	}
	p := d.presets[d.preset]
	if p.date {
		at := strings.TrimSpace(d.date.Value())
		if at == "" {
			return time.Time{}, fmt.Errorf("type the date the token expires, e.g. 2027-01-31")
		}
		return account.ParseExpiry("", at, now)
	}
	if p.days == 0 {
		return time.Time{}, nil
	}
	return now.Add(time.Duration(p.days) * 24 * time.Hour), nil
}

func (d *createDialog) restyle(m *Model) {
	d.input.SetStyles(m.st.Input)
	if d.kind.Expires {
		d.date.SetStyles(m.st.Input)
	}
}

func (d *createDialog) capturesText() bool { return d.focus == fieldLabel || d.focus == fieldDate }

func (d *createDialog) busy(m *Model) bool { return d.f != nil && m.running(d.f.opID) }

func (d *createDialog) update(m *Model, msg tea.Msg) []action {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		var cmd tea.Cmd
		if d.focus == fieldDate {
			d.date, cmd = d.date.Update(msg)
			return acts(runCmd(cmd))
		}
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
		expires, err := d.expiry(m.now())
		if err != nil {
			d.err = upperFirst(err.Error()) + "."
			return nil
		}
		d.err, d.detail = "", ""
		d.f = m.createFlow(d.st, label, d.bypass, expires)
		d.f.owner, d.f.replaceOwner = d, true
		d.f.inline = func(err error) ([]action, bool) { return d.failed(m, err) }
		return acts(runCmd(m.runFlow(d.f, nil, false)))
	case len(d.fields()) > 1 && key.Matches(k, m.keys.NextField):
		return d.move(1)
	case len(d.fields()) > 1 && key.Matches(k, m.keys.PrevField):
		return d.move(-1)
	case d.focus == fieldBypass && (key.Matches(k, m.keys.Toggle) || key.Matches(k, m.keys.Left) || key.Matches(k, m.keys.Right)):
		d.bypass = !d.bypass
		return nil
	case d.focus == fieldExpiry && (key.Matches(k, m.keys.Left) || key.Matches(k, m.keys.Right) || key.Matches(k, m.keys.Toggle)):
		step := 1
		if key.Matches(k, m.keys.Left) {
			step = len(d.presets) - 1
		}
		d.preset = (d.preset + step) % len(d.presets)
		d.err = ""
		return nil
	case d.focus == fieldDate:
		var cmd tea.Cmd
		d.date, cmd = d.date.Update(k)
		d.err = ""
		return acts(runCmd(cmd))
	}
	if d.focus != fieldLabel {
		return nil
	}
	var cmd tea.Cmd
	d.input, cmd = d.input.Update(k)
	d.err, d.detail = d.validate(strings.TrimSpace(d.input.Value())), ""
	if d.input.Value() == "" {
		d.err = ""
	}
	return acts(runCmd(cmd))
}

// failed keeps a refused creation in the dialog, with the label typed,
// for another try (an expiry refused narrows the choices); a token issued
// but not saved, or a request with no answer, goes to its own dialog.
func (d *createDialog) failed(m *Model, err error) ([]action, bool) {
	var ns *account.NotStoredError
	var uo *account.UnknownOutcomeError
	if errors.As(err, &ns) || errors.As(err, &uo) || errors.Is(err, context.Canceled) {
		return nil, false
	}
	var lr *account.LifetimeRequiredError
	if errors.As(err, &lr) && d.kind.Expires {
		d.err, d.detail = m.errWords(err, account.Expire) // the dialog's own words say what to do
		then := d.expiryRefused(lr.MaxDays)
		d.err = joinHints(strings.TrimSuffix(d.err, ".")+".", d.expiryHint())
		return then, true
	}
	d.err, d.detail = m.errWords(err, account.NoRemedy)
	return nil, true
}

// expiryHint says what to do after a refused expiry, as expiryRefused left
// the choices.
func (d *createDialog) expiryHint() string {
	p := d.presets[d.preset]
	switch {
	case p.date && d.limit > 0:
		return fmt.Sprintf("Type a date within %d days", d.limit)
	case p.date:
		return "Type an earlier date"
	}
	return "Expires is now " + p.String() + ", the longest offered: enter creates the token with it"
}

// validate checks the label as it is typed. A PAT's name becomes part of
// the secret's name, so it must fit in one.
func (d *createDialog) validate(label string) string {
	if label == "" {
		return "Type a " + strings.ToLower(d.kind.Label) + " first." // as the field is labelled
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
		if d.focus == fieldBypass {
			bst = m.st.FieldFocus
		}
		check, hint := bst.Render(box+" bypass two-factor"), "(the token then works without 2FA codes)"
		if ansi.StringWidth(check)+2+len(hint) <= inner {
			b = append(b, check+m.st.Faint.Render("  "+hint))
		} else {
			b = append(b, check, m.st.Faint.Render("    "+hint))
		}
	}
	if d.kind.Expires {
		b = append(b, d.expiryLines(m, inner)...)
	}
	if d.err != "" {
		b = append(b, m.st.Error.Render("✗ "+wrap(d.err, inner-2)))
	}
	if d.detail != "" {
		b = append(b, m.st.Faint.Render(wrap(d.detail, inner)))
	}
	if d.busy(m) {
		b = append(b, "", spinnerLine(m, d.f.label))
	}
	return frame(m, "New token · "+d.st.Name, strings.Join(b, "\n"), dw, false)
}

// expiryLines are the expiry's field: the preset, the date when typed in,
// and what the server allows.
func (d *createDialog) expiryLines(m *Model, inner int) []string {
	est := m.st.Field
	if d.focus == fieldExpiry {
		est = m.st.FieldFocus
	}
	lines := []string{est.Render("Expires: ") + "‹ " + d.presets[d.preset].String() + " ›"}
	if d.presets[d.preset].date {
		dst := m.st.Field
		if d.focus == fieldDate {
			dst = m.st.FieldFocus
		}
		lines = append(lines, dst.Render("Date: ")+d.date.View())
	}
	if d.limit > 0 {
		lines = append(lines, m.st.Faint.Render(wrap(fmt.Sprintf("This server requires tokens to expire within %d days.", d.limit), inner)))
	}
	return lines
}

func (d *createDialog) short(k keyMap) []key.Binding {
	bs := []key.Binding{k.Submit}
	if d.kind.Bypass2FA || d.kind.Expires {
		bs = append(bs, k.NextField, k.Toggle)
	}
	return append(bs, k.Cancel)
}

func (m *Model) createFlow(st account.Status, label string, bypass bool, expires time.Time) *flow {
	name := st.Name
	what := createKind(st).Noun + " \"" + label + "\""
	f := &flow{title: "New token · " + name, label: "Creating the " + what + "…", acct: name}
	return bindFlow(f, func(ctx context.Context, ans *account.Answer, _ bool) (*account.Issued, error) {
		return m.mgr.CreateExpiring(ctx, name, label, bypass, ans, expires)
	}, m.issuedDone(what, issuedTitles{notSaved: "Created, but NOT saved", failed: "Could not create the " + what, saved: "New"}), lateIssued)
}
