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
	st     account.Status
	input  textinput.Model
	f      *flow
	err    string
	detail string // the server's own words for err
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

func (d *signInDialog) update(m *Model, msg tea.Msg) []action {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		var cmd tea.Cmd
		d.input, cmd = d.input.Update(msg)
		return acts(runCmd(cmd))
	}
	switch {
	case key.Matches(k, m.keys.Cancel):
		if d.f != nil && d.busy(m) {
			return m.cancelFlow(d.f)
		}
		return acts(closeDlg(d))
	case d.busy(m):
		return nil
	case key.Matches(k, m.keys.Submit):
		pw := d.input.Value()
		if pw == "" && !account.Info(d.st.Service).SignIn.PasswordOptional {
			d.err = "Type the password first."
			return nil
		}
		d.err, d.detail = "", ""
		d.f = m.loginFlow(d.st, pw)
		d.f.owner, d.f.replaceOwner = d, true
		d.f.inline = func(err error) ([]action, bool) { return nil, d.failed(m, err) }
		// The password lives on in the flow (Mattermost wants it again with
		// the code); the input forgets it.
		d.input.SetValue("")
		return acts(runCmd(m.runFlow(d.f, nil, false)))
	}
	var cmd tea.Cmd
	d.input, cmd = d.input.Update(k)
	return acts(runCmd(cmd))
}

// failed keeps a sign-in error in the dialog, for another try: all but a
// session the store refused, which has its own dialog.
func (d *signInDialog) failed(m *Model, err error) bool {
	var ns *account.NotStoredError
	if errors.As(err, &ns) || errors.Is(err, context.Canceled) {
		return false
	}
	d.err, d.detail = m.errWords(err, account.SignIn) // this is the sign-in
	return true
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
		b = append(b, m.st.Error.Render(wrap("✗ "+d.err, inner)))
	}
	if d.detail != "" {
		b = append(b, m.st.Faint.Render(wrap(d.detail, inner)))
	}
	if d.busy(m) {
		b = append(b, "", spinnerLine(m, d.f.label))
	}
	return frame(m, "Sign in · "+st.Name, strings.Join(b, "\n"), dw, false)
}

func (d *signInDialog) short(k keyMap) []key.Binding {
	return []key.Binding{k.Submit, k.Cancel}
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
	bindFlow(f, func(ctx context.Context, ans *account.Answer, resend bool) (*account.Status, error) {
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
	}, func(_ *account.Status, err error) []action {
		req.Password = ""
		var ns *account.NotStoredError
		switch {
		case errors.As(err, &ns):
			return append(m.showIssued("Signed in, but NOT saved", "The server signed you in, but the store refused the credential.", ns.Issued, ns.Err), reloadScreen())
		case err != nil:
			return acts(errorBanner("Sign-in to "+name+" failed", err), reloadScreen())
		}
		if m.screen == screenAccounts {
			// Opening the account clears the status line, so the
			// "Signed in" status is not said here.
			return acts(resolved(name), runCmd(tea.Batch(m.loadAccounts(), m.openAccount(name))))
		}
		return acts(succeeded(name, "Signed in to "+name), reloadScreen())
	}, lateSignIn)
	f.cancelled = func() []action { req.Password = ""; return nil }
	return f
}
