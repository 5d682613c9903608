package cli

import (
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/sandbox/capillarysim"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/rocketchatsim"
)

func TestLoginMattermostWithCode(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mattermostAdmin("mm")
	cred, ok := w.stored("mm/credential")
	if !ok || !strings.Contains(cred, w.lastIssued("mattermost", "session")) {
		t.Fatal("the stored credential is not the session the server issued")
	}
	r := w.run("", "account", "show", "mm", "--json")
	if st := decodeJSON[account.Status](t, r.out); !st.SignedIn || st.Via != "session" {
		t.Fatalf("after login: %+v", st)
	}

	// --token-stdin: a personal access token made elsewhere, checked first.
	r = w.run("", "token", "create", "mm", "elsewhere", "--json", "--reveal")
	w.want(r, 0, "create a PAT")
	pat := decodeJSON[map[string]any](t, r.out)["token"].(string)
	w.addMattermost("mm-pat", mattermostsim.AdminUsername)
	w.want(w.run("garbage-token-value-xyz\n", "login", "mm-pat", "--token-stdin"), 1, "a bad token")
	w.want(w.run(pat+"\n", "login", "mm-pat", "--token-stdin"), 0, "login with a PAT")
	r = w.run("", "account", "show", "mm-pat", "--json")
	if st := decodeJSON[account.Status](t, r.out); !st.SignedIn || st.Via != "personal access token" {
		t.Fatalf("PAT login: %+v", st)
	}

	r = w.run("", "logout", "mm")
	w.want(r, 0, "logout")
	if _, ok := w.stored("mm/credential"); ok {
		t.Fatal("logout left the credential")
	}
	r = w.run("", "account", "show", "mm")
	mustContain(t, "show after logout", r.out, "signed in:  no")
	r = w.run("", "token", "list", "mm")
	w.want(r, 1, "token list signed out")
	mustContain(t, "token list signed out", r.err, "not signed in", "keyturn login mm")
}

func TestLoginWrongCodeThenRight(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.addMattermost("mm", mattermostsim.AdminUsername)
	pw := mattermostsim.AdminPassword + "\n"

	// Scripted: a wrong --code is an error naming the server's message,
	// the right one signs in.
	r := w.run(pw, "login", "mm", "--password-stdin", "--code", "000000")
	w.want(r, 1, "wrong code")
	mustContain(t, "wrong code", r.err, "did not accept", "Invalid MFA token", "--code")
	r = w.run(pw, "login", "mm", "--password-stdin", "--code", totp(mattermostsim.AdminTOTPSecret, time.Now()))
	w.want(r, 0, "right code")
	mustContain(t, "right code", r.out, "signed in to mm")

	// At a terminal: the password with no echo, then a wrong code is asked
	// again with the server's message. (The next time step: the server
	// refuses a code twice.)
	w2 := newWorld(t)
	w2.addMattermost("mm", mattermostsim.AdminUsername)
	right := totp(mattermostsim.AdminTOTPSecret, time.Now().Add(30*time.Second))
	r, prompts := w2.runTTY("123\n"+right+"\n", []string{mattermostsim.AdminPassword}, "login", "mm")
	w2.want(r, 0, "interactive login")
	if len(prompts) != 1 || !strings.Contains(prompts[0], "Password for admin") {
		t.Fatalf("no-echo prompts: %q", prompts)
	}
	mustContain(t, "interactive login", r.err, "Mattermost asks for a code from the authenticator app", "That was not accepted")

	// Three wrong codes and it gives up.
	w3 := newWorld(t)
	w3.addMattermost("mm", mattermostsim.AdminUsername)
	r, _ = w3.runTTY("1\n2\n3\n4\n", []string{mattermostsim.AdminPassword}, "login", "mm")
	w3.want(r, 1, "three wrong codes")
	mustContain(t, "three wrong codes", r.err, "giving up")

	// A wrong password is a clear error, no prompt for a code.
	r = w3.run("nope\n", "login", "mm", "--password-stdin")
	w3.want(r, 1, "wrong password")
	mustContain(t, "wrong password", r.err, "signing in (mm, Mattermost at "+w3.sb.MattermostURL+")", "401")
}

func TestLoginWithoutAnswersExits4(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.addMattermost("mm", mattermostsim.AdminUsername)
	// No terminal, no --password-stdin.
	r := w.run("", "login", "mm")
	w.want(r, 4, "no password")
	mustContain(t, "no password", r.err, "--password-stdin")
	// A password but no code for the TOTP step.
	r = w.run(mattermostsim.AdminPassword+"\n", "login", "mm", "--password-stdin")
	w.want(r, 4, "no code")
	mustContain(t, "no code", r.err, "authenticator", "--code")
	// Bad flags are usage errors.
	w.want(w.run("", "login", "mm", "--method", "sms"), 2, "bad --method")
	w.want(w.run("", "login", "mm", "--first-factor", "magic"), 2, "bad --first-factor")
	w.want(w.run("", "login", "mm", "--token-stdin", "--password-stdin"), 2, "token and password")
	w.want(w.run("", "login"), 2, "no ACCOUNT")
	w.want(w.run("", "login", "nope", "--password-stdin"), 1, "unknown account")
}

func TestLoginRocketChatEmailCode(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.addRocketChat("rc", "bob")
	pw := rocketchatsim.BobPassword + "\n"
	r := w.run(pw, "login", "rc", "--password-stdin")
	w.want(r, 4, "email code sent")
	mustContain(t, "email code sent", r.err, "the code sent by email", "a code was sent to", "--code CODE", "--resend")
	sent := len(w.sb.RocketChat.Outbox())
	code := w.sb.RocketChat.LastEmailCode("bob")
	if code == "" {
		t.Fatal("no mail in the sandbox outbox")
	}
	r = w.run("", "account", "show", "rc")
	mustContain(t, "show while waiting", r.out, "waiting:")

	// --resend asks for a new code and still exits 4.
	r = w.run("", "login", "rc", "--resend")
	w.want(r, 4, "resend")
	if got := len(w.sb.RocketChat.Outbox()); got != sent+1 {
		t.Fatalf("--resend: outbox %d → %d", sent, got)
	}
	code = w.sb.RocketChat.LastEmailCode("bob")
	sent++

	// The same command with --code finishes, without a new mail.
	r = w.run(pw, "login", "rc", "--password-stdin", "--code", code)
	w.want(r, 0, "login with the emailed code")
	if got := len(w.sb.RocketChat.Outbox()); got != sent {
		t.Fatalf("resuming sent %d new mails", got-sent)
	}
	cred, _ := w.stored("rc/credential")
	if !strings.Contains(cred, w.lastIssued("rocketchat", "session")) {
		t.Fatal("stored credential is not the issued session")
	}
}

func TestLoginRocketChatTOTPAndToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.rocketAlice("rc")
	// --token-stdin with a PAT and its user id: checked, then stored.
	w.addRocketChat("rc-pat", "alice")
	r := w.run(rocketchatsim.AlicePAT+"\n", "login", "rc-pat", "--token-stdin")
	w.want(r, 1, "PAT without --user-id")
	mustContain(t, "PAT without --user-id", r.err, "--user-id")
	r = w.run("not-a-valid-token-at-all\n", "login", "rc-pat", "--token-stdin", "--user-id", rocketchatsim.AliceID)
	w.want(r, 1, "wrong PAT")
	r = w.run(rocketchatsim.AlicePAT+"\n", "login", "rc-pat", "--token-stdin", "--user-id", rocketchatsim.AliceID)
	w.want(r, 0, "PAT login")
	st := decodeJSON[account.Status](t, w.run("", "account", "show", "rc-pat", "--json").out)
	if !st.SignedIn || st.Via != "personal access token" {
		t.Fatalf("PAT login: %+v", st)
	}
	// Logging out never logs a PAT out on the server (that would delete it).
	w.want(w.run("", "logout", "rc-pat"), 0, "logout PAT")
	r = w.run("", "token", "list", "rc", "--json")
	w.want(r, 0, "token list")
	mustContain(t, "PAT survives logout", r.out, rocketchatsim.AlicePATName)
}

func TestLoginCapillaryOTPFirstFactorAndMFA(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// Bob: OTP first factor, then the MFA OTP; each step exits 4 until the
	// code is given.
	w.addCapillary("cap", "MOBILE", capillarysim.BobMobile)
	r := w.run("", "login", "cap")
	w.want(r, 4, "OTP sent")
	mustContain(t, "OTP sent", r.err, "the one-time code (OTP)", "mobile "+capillarysim.BobMobile, "keyturn login cap --code CODE")
	sent := len(w.sb.Capillary.Outbox())

	r = w.run("", "login", "cap", "--code", "000000")
	w.want(r, 1, "wrong OTP")
	mustContain(t, "wrong OTP", r.err, "did not accept", "Invalid OTP")
	r = w.run("", "login", "cap", "--code", w.sb.Capillary.LastOTP(capillarysim.BobMobile))
	w.want(r, 4, "MFA OTP sent")
	mustContain(t, "MFA OTP sent", r.err, "a code was sent")
	if got := len(w.sb.Capillary.Outbox()); got != sent+1 {
		t.Fatalf("resuming with the OTP must send only the MFA OTP (outbox %d → %d)", sent, got)
	}
	r = w.run("", "login", "cap", "--code", w.sb.Capillary.LastMFAOTP(capillarysim.BobMobile))
	w.want(r, 0, "MFA OTP")
	mustContain(t, "signed in", r.out, "signed in to cap", "session expires")
	if tok, _ := w.stored("cap/session"); tok != w.lastIssued(capillarysim.Service, capillarysim.KindToken) {
		t.Fatal("the stored session is not a token the server issued")
	}

	// Alice: OTP first factor by choice, then the MFA password (no echo at
	// a terminal; --code with --method password in a script).
	w.addCapillary("cap-a", "MOBILE", capillarysim.AliceMobile)
	w.want(w.run("", "login", "cap-a", "--first-factor", "otp"), 4, "alice OTP")
	r = w.run("", "login", "cap-a", "--code", w.sb.Capillary.LastOTP(capillarysim.AliceMobile))
	w.want(r, 4, "alice MFA password")
	mustContain(t, "alice MFA password", r.err, "the MFA password", "keyturn login cap-a --code -' with the password on stdin", "--method otp")
	r, prompts := w.runTTY("", []string{capillarysim.AliceMFAPassword}, "login", "cap-a")
	w.want(r, 0, "MFA password at a prompt")
	if len(prompts) != 1 || prompts[0] != "MFA password: " {
		t.Fatalf("prompts: %q", prompts)
	}

	// The same in a script: the MFA password on stdin with --code -.
	w.addCapillary("cap-c", "MOBILE", capillarysim.AliceMobile)
	w.want(w.run("", "login", "cap-c", "--first-factor", "otp"), 4, "alice OTP (script)")
	w.want(w.run("", "login", "cap-c", "--code", w.sb.Capillary.LastOTP(capillarysim.AliceMobile)), 4, "alice MFA password (script)")
	w.want(w.run(capillarysim.AliceMFAPassword+"\n", "login", "cap-c", "--code", "-"), 0, "MFA password from stdin")

	// Alice with both passwords on stdin, in one go.
	w.capillaryAlice("cap-b")
	// A pending sign-in can be forgotten with --restart.
	w.want(w.run("", "login", "cap", "--first-factor", "otp", "--restart"), 4, "restart")
	r = w.run("", "account", "show", "cap", "--json")
	if st := decodeJSON[account.Status](t, r.out); st.Pending != "otp" {
		t.Fatalf("pending after restart: %+v", st)
	}
}

// lazyReader produces its text on the first Read, for answers that exist
// only once keyturn has asked the server (an emailed code).
type lazyReader struct {
	text func() string
	r    *strings.Reader
}

func (l *lazyReader) Read(p []byte) (int, error) {
	if l.r == nil {
		l.r = strings.NewReader(l.text())
	}
	return l.r.Read(p)
}

func TestLoginRocketChatEmailCodeAtATerminal(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.addRocketChat("rc", "bob")
	emailed := func() string { return w.sb.RocketChat.LastEmailCode("bob") + "\n" }
	pw := []string{rocketchatsim.BobPassword}
	r, _ := w.runIO2(&lazyReader{text: emailed}, pw, "login", "rc")
	w.want(r, 0, "email code at a terminal")
	mustContain(t, "email code at a terminal", r.err, "Rocket.Chat asks for the code sent by email", "A code was sent to bob", "Code from the email: ")

	// --resend at a terminal: a new mail, then the password and its code.
	w.want(w.run("", "logout", "rc"), 0, "logout")
	sent := len(w.sb.RocketChat.Outbox())
	r, _ = w.runIO2(&lazyReader{text: emailed}, pw, "login", "rc", "--resend")
	w.want(r, 0, "--resend at a terminal")
	if got := len(w.sb.RocketChat.Outbox()); got != sent+1 {
		t.Fatalf("--resend: outbox %d → %d", sent, got)
	}
}
