package tui

import (
	"context"
	"strings"
	"time"
	"unicode"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"keyturn/account"
)

// Second-factor methods as the servers name them (client.Method*).
const (
	methodTOTP     = "totp"
	methodEmail    = "email"
	methodPassword = "password"
	methodOTP      = "otp"
)

// challengeDialog asks for a second factor: it says which method the server
// wants and where a code went, offers the other methods and a new code
// where the server has them, and keeps itself open with the server's words
// when an answer is wrong. Esc cancels the request and the sign-in.
type challengeDialog struct {
	f     *flow
	ch    *account.Challenge
	input textinput.Model
	note  string // what the last action did ("a new code was sent")
}

// methods are the methods the person can switch to. Rocket.Chat checks
// only the user's first enabled method at sign-in (TOTP before email), so
// offering the others there would lead nowhere.
func (d *challengeDialog) methods() []string {
	if d.f.login && account.Info(d.ch.Service).Challenge.OneMethodAtSignIn {
		return []string{d.ch.Method}
	}
	return d.ch.Methods
}

func newChallengeDialog(m *Model, f *flow, ch *account.Challenge) *challengeDialog {
	d := &challengeDialog{f: f}
	d.input = textinput.New()
	d.input.Prompt = "› "
	d.input.SetStyles(m.st.Input)
	d.input.SetWidth(24)
	d.input.Focus()
	d.setChallenge(ch)
	return d
}

func (d *challengeDialog) restyle(m *Model) { d.input.SetStyles(m.st.Input) }

// setChallenge shows the server's latest answer. A wrong code keeps the
// dialog with the server's message; the input is cleared for the next try.
func (d *challengeDialog) setChallenge(ch *account.Challenge) {
	prev := d.ch
	d.ch = ch
	d.input.SetValue("")
	d.input.Placeholder = "code"
	d.input.CharLimit = 12
	d.input.EchoMode = textinput.EchoNormal
	if ch.IsPassword {
		d.input.Placeholder = "password"
		d.input.CharLimit = 256
		d.input.EchoMode = textinput.EchoPassword
		d.input.EchoCharacter = '•'
	}
	switch {
	case ch.Invalid:
		d.note = ""
	case prev != nil && prev.Step != ch.Step && !(isMFAStep(prev.Step) && isMFAStep(ch.Step)):
		d.note = "Step done. Next: " + ch.What() + "."
	case prev != nil && prev.Method != ch.Method:
		d.note = "Switched to " + methodLabel(ch, ch.Method) + "."
	case prev != nil && ch.CodeSent:
		d.note = "A new code was sent."
	}
}

func (d *challengeDialog) capturesText() bool { return d.ch.IsPassword }

func (d *challengeDialog) busy(m *Model) bool { return m.running(d.f.opID) }

func (d *challengeDialog) update(m *Model, msg tea.Msg) []action {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		if p, ok := msg.(tea.PasteMsg); ok && !d.busy(m) {
			msg = tea.PasteMsg{Content: d.filter(p.Content)}
		}
		var cmd tea.Cmd
		d.input, cmd = d.input.Update(msg)
		return acts(runCmd(cmd))
	}
	if key.Matches(k, m.keys.Cancel) {
		return m.cancelFlow(d.f)
	}
	if d.busy(m) || d.ch.Locked {
		return nil
	}
	switch {
	case key.Matches(k, m.keys.Submit):
		code := strings.TrimSpace(d.input.Value())
		if code == "" {
			d.note = "Type the " + noun(d.ch) + " first."
			return nil
		}
		d.note = ""
		ans := &account.Answer{Method: d.ch.Method, Code: code}
		if d.f.answer != nil {
			return d.f.answer(ans)
		}
		return acts(runCmd(m.runFlow(d.f, ans, false)))
	case key.Matches(k, m.keys.Method):
		next := d.nextMethod()
		if next == "" {
			return nil
		}
		d.note = ""
		if d.rocketREST() {
			return acts(runCmd(d.switchLocally(m, next)))
		}
		return acts(runCmd(m.runFlow(d.f, &account.Answer{Method: next}, false)))
	case key.Matches(k, m.keys.Resend):
		if !d.ch.CanResend {
			return nil
		}
		d.note = ""
		if d.rocketREST() && d.ch.Method == methodEmail {
			return acts(runCmd(d.sendEmailCode(m)))
		}
		return acts(runCmd(m.runFlow(d.f, &account.Answer{Method: d.ch.Method}, true)))
	}
	if t := k.Text; t != "" {
		t = d.filter(t)
		if t == "" {
			return nil
		}
		k.Text = t
	}
	var cmd tea.Cmd
	d.input, cmd = d.input.Update(k)
	return acts(runCmd(cmd))
}

// filter keeps what the answer can hold: anything for a password, digits
// for a code (letters too for Rocket.Chat, whose TOTP backup codes have them).
func (d *challengeDialog) filter(s string) string {
	if d.ch.IsPassword {
		return s
	}
	allowLetters := account.Info(d.ch.Service).Challenge.LettersInTOTP && d.ch.Method == methodTOTP
	var b strings.Builder
	for _, r := range s {
		if unicode.IsDigit(r) || (allowLetters && (unicode.IsLetter(r))) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (d *challengeDialog) nextMethod() string {
	ms := d.methods()
	if len(ms) < 2 {
		return ""
	}
	for i, x := range ms {
		if x == d.ch.Method {
			return ms[(i+1)%len(ms)]
		}
	}
	return ms[0]
}

func (d *challengeDialog) view(m *Model, w, h int) string {
	ch := d.ch
	dw := dialogWidth(68, w)
	inner := dw - 4
	var b []string
	b = append(b, wrap(serviceName(ch.Service)+" asks for "+ch.What()+".", inner))
	if d.f.intro != "" {
		b = append(b, wrap(d.f.intro, inner))
	}
	switch {
	case account.Info(ch.Service).Challenge.PasswordFallback && ch.Method == methodPassword:
		b = append(b, wrap("This is Rocket.Chat's fallback: type your account password as the code. keyturn sends only its SHA-256.", inner))
	case ch.Step == "mfa-password":
		b = append(b, wrap("Your MFA password is not your account password.", inner))
	case ch.Step == "password":
		b = append(b, wrap("Capillary wants the account password first.", inner))
	}
	if ch.CodeSent {
		to := "A code was sent"
		if ch.SentTo != "" {
			to += " to " + ch.SentTo
		}
		b = append(b, m.st.Accent.Render(to+"."))
	}
	if !ch.Expires.IsZero() {
		if left := countdown(m.clock, ch.Expires); left != "" {
			b = append(b, m.st.Subtle.Render("It expires in "+left+"."))
		} else {
			b = append(b, m.st.Warn.Render("It has expired: press esc and sign in again."))
		}
	}
	b = append(b, "")
	label := strings.ToUpper(noun(ch)[:1]) + noun(ch)[1:]
	b = append(b, m.st.FieldFocus.Render(label+": ")+d.input.View())
	switch {
	case ch.Locked, ch.Invalid:
		// keyturn's words, the server's own on a line apart.
		said := account.Explain(ch)
		b = append(b, m.st.Error.Render("✗ "+wrap(said.What, inner-2)))
		if said.Detail != "" {
			b = append(b, m.st.Faint.Render(wrap(said.Detail, inner)))
		}
		if ch.Locked {
			b = append(b, wrap("Press esc, wait a few minutes, and start again.", inner))
		} else {
			b = append(b, m.st.Subtle.Render(wrap("Try again"+tryAgainHint(ch)+".", inner)))
		}
	}
	if d.note != "" {
		b = append(b, m.st.Accent.Render(wrap(d.note, inner)))
	}
	if len(d.methods()) > 1 {
		var ms []string
		for _, x := range d.methods() {
			if x == ch.Method {
				ms = append(ms, m.st.ChoiceOn.Render(" "+methodLabel(ch, x)+" "))
			} else {
				ms = append(ms, m.st.Choice.Render(" "+methodLabel(ch, x)+" "))
			}
		}
		b = append(b, "", "Method: "+strings.Join(ms, " ")+m.st.Faint.Render("  tab switches"))
	}
	if d.busy(m) {
		b = append(b, "", spinnerLine(m, d.f.label))
	}
	return frame(m, d.f.title, strings.Join(b, "\n"), dw, ch.Locked)
}

func tryAgainHint(ch *account.Challenge) string {
	switch {
	case ch.IsPassword:
		return ""
	case ch.Method == methodTOTP:
		// Servers take each code once, and say no more than "invalid".
		return " with the code now shown in the authenticator app. A code works once: if you just used this one, wait for the next (codes change every 30 seconds)"
	case ch.CanResend:
		return ", or press ctrl+r for a new code"
	}
	return ""
}

func (d *challengeDialog) short(k keyMap) []key.Binding {
	if d.ch.Locked {
		return []key.Binding{k.Cancel}
	}
	bs := []key.Binding{k.Submit}
	if len(d.methods()) > 1 {
		bs = append(bs, k.Method)
	}
	if d.ch.CanResend {
		bs = append(bs, k.Resend)
	}
	return append(bs, k.Cancel)
}

// noun names what the person types.
func noun(ch *account.Challenge) string {
	switch {
	case ch.Step == "mfa-password":
		return "MFA password"
	case ch.IsPassword:
		return "password"
	}
	return "code"
}

func isMFAStep(step string) bool { return strings.HasPrefix(step, "mfa-") }

// methodLabel names a method for the person; Capillary's MFA step has its
// own password and one-time code.
func methodLabel(ch *account.Challenge, method string) string {
	if isMFAStep(ch.Step) {
		switch method {
		case methodPassword:
			return "MFA password"
		case methodOTP:
			return "MFA one-time code"
		}
	}
	switch method {
	case methodTOTP:
		return "authenticator app"
	case methodEmail:
		return "email code"
	case methodPassword:
		return "password"
	case methodOTP:
		return "one-time code"
	}
	return method
}

// rocketREST is a Rocket.Chat challenge on a call other than sign-in. The
// answer travels in the x-2fa-method and x-2fa-code headers, so the method
// is chosen here; only an email code needs asking for first.
func (d *challengeDialog) rocketREST() bool {
	return account.Info(d.ch.Service).Challenge.MethodInAnswer && !d.f.login
}

// switchLocally changes the method a Rocket.Chat call will be answered
// with. The server names email and totp in the header; an email code must
// be sent first.
func (d *challengeDialog) switchLocally(m *Model, next string) tea.Cmd {
	if next == methodEmail {
		return d.sendEmailCode(m)
	}
	c := *d.ch
	c.Method, c.Invalid, c.Locked, c.Message, c.CodeSent, c.SentTo = next, false, false, "", false, ""
	c.IsPassword = next == methodPassword
	c.CanResend = false
	d.setChallenge(&c)
	return nil
}

// sendEmailCode has Rocket.Chat email a code for a call that is not a
// sign-in, so the call can be answered by email instead of the
// authenticator.
func (d *challengeDialog) sendEmailCode(m *Model) tea.Cmd {
	name := d.ch.Account
	var cmd tea.Cmd
	d.f.opID, cmd = startOp(m, "Asking for an email code…", func(ctx context.Context) (*account.Challenge, error) {
		return m.mgr.SendEmailCode(ctx, name)
	}, func(ch *account.Challenge, err error) []action {
		if err != nil {
			d.note = "Could not send an email code: " + err.Error()
			return nil
		}
		c := *d.ch
		c.Method, c.Invalid, c.Locked, c.Message, c.IsPassword, c.CanResend = methodEmail, false, false, "", false, true
		c.CodeSent, c.SentTo, c.Expires = true, "", time.Time{}
		if ch != nil {
			c.SentTo, c.Expires = ch.SentTo, ch.Expires
		}
		d.setChallenge(&c)
		return nil
	})
	return cmd
}
