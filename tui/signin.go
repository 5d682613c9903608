package tui

import (
	"context"
	"errors"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"keyturn/account"
)

// signInDialog asks for the password (masked), then hands over to the
// challenge dialog whenever the server wants a second factor. For Capillary
// the password is optional: without one the server sends a one-time code.
type signInDialog struct {
	st    account.Status
	input textinput.Model
	f     *flow
	err   string
}

func newSignInDialog(m *Model, st account.Status) *signInDialog {
	d := &signInDialog{st: st}
	d.input = textinput.New()
	d.input.Prompt = "› "
	d.input.EchoMode = textinput.EchoPassword
	d.input.EchoCharacter = '•'
	d.input.CharLimit = 256
	d.input.SetWidth(36)
	d.input.SetStyles(m.st.Input)
	if account.Info(st.Service).SignIn.PasswordOptional {
		d.input.Placeholder = "empty: sign in with a one-time code"
	}
	d.input.Focus()
	return d
}

func (d *signInDialog) restyle(m *Model) { d.input.SetStyles(m.st.Input) }

func (d *signInDialog) capturesText() bool { return true }

func (d *signInDialog) busy(m *Model) bool { return d.f != nil && m.running(d.f.opID) }

func (d *signInDialog) update(m *Model, msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		var cmd tea.Cmd
		d.input, cmd = d.input.Update(msg)
		return cmd
	}
	switch {
	case key.Matches(k, m.keys.Cancel):
		if d.f != nil && d.busy(m) {
			return m.cancelFlow(d.f)
		}
		m.closeDialog(d)
		return nil
	case d.busy(m):
		return nil
	case key.Matches(k, m.keys.Submit):
		pw := d.input.Value()
		if pw == "" && !account.Info(d.st.Service).SignIn.PasswordOptional {
			d.err = "Type the password first."
			return nil
		}
		d.err = ""
		d.f = m.loginFlow(d.st, pw)
		d.f.owner, d.f.replaceOwner = d, true
		// The password lives on in the flow (Mattermost wants it again with
		// the code); the input forgets it.
		d.input.SetValue("")
		return m.runFlow(d.f, nil, false)
	}
	var cmd tea.Cmd
	d.input, cmd = d.input.Update(k)
	return cmd
}

func (d *signInDialog) view(m *Model, w, h int) string {
	dw := dialogWidth(64, w)
	inner := dw - 4
	st := d.st
	var b []string
	who := st.User
	if account.Info(st.Service).SignIn.Identity {
		who = strings.ToLower(st.Extra.IdentifierType) + " " + st.Extra.Identifier + " (brand " + st.Extra.Brand + ")"
	}
	b = append(b, m.st.badge(st.Service)+" "+m.st.Bold.Render(st.Name))
	b = append(b, wrap("Signing in as "+who+" on "+host(st.URL)+".", inner), "")
	label := "Password: "
	if account.Info(st.Service).SignIn.PasswordOptional {
		b = append(b, wrap("Type the account password, or leave it empty and press enter to get a one-time code.", inner), "")
	}
	b = append(b, m.st.FieldFocus.Render(label)+d.input.View())
	if d.err != "" {
		b = append(b, m.st.Error.Render("✗ "+d.err))
	}
	if d.busy(m) {
		b = append(b, "", spinnerLine(m, d.f.label))
	}
	return frame(m, "Sign in · "+st.Name, strings.Join(b, "\n"), dw, false)
}

func (d *signInDialog) short(m *Model) []key.Binding {
	return []key.Binding{m.keys.Submit, m.keys.Cancel}
}

// loginFlow signs in with a password and answers challenges until done.
func (m *Model) loginFlow(st account.Status, password string) *flow {
	req := account.LoginRequest{Account: st.Name, Password: password}
	if account.Info(st.Service).SignIn.PasswordOptional {
		req.FirstFactor = "otp"
		if password != "" {
			req.FirstFactor = "password"
		}
	}
	startOver := account.Info(st.Service).SignIn.PasswordOptional && st.Pending != ""
	name := st.Name
	f := &flow{
		title: "Sign in · " + name,
		label: "Signing in…",
		login: true,
		acct:  name,
	}
	f.run = func(ctx context.Context, ans *account.Answer, resend bool) (any, error) {
		r := req
		if ans == nil && !resend && startOver {
			// A sign-in left waiting (by an earlier run) would otherwise
			// be resumed with a password it does not want.
			if err := m.mgr.CancelPending(ctx, name); err != nil {
				return nil, err
			}
		}
		r.Answer, r.Resend = ans, resend
		return m.mgr.Login(ctx, r)
	}
	f.done = func(val any, err error) tea.Cmd {
		req.Password = ""
		var ns *account.NotStoredError
		switch {
		case errors.As(err, &ns):
			return tea.Batch(m.showIssued("Signed in, but NOT saved", "The server signed you in, but the store refused the credential.", ns.Issued, ns.Err), m.reload())
		case err != nil:
			m.showError("Sign-in to "+name+" failed", err)
			return m.reload()
		}
		m.succeeded(name, "Signed in to "+name)
		if m.screen == screenAccounts {
			return tea.Batch(m.loadAccounts(), m.openAccount(name))
		}
		return m.reload()
	}
	f.cancelled = func() tea.Cmd { req.Password = ""; return nil }
	return f
}
