package cli

import (
	"bytes"
	"io"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/rocketchatsim"
)

func TestMFASetupRefusesWhenActiveAndReplaces(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mattermostAdmin("mm")
	r := w.run("", "mfa", "setup", "mm")
	w.want(r, 1, "setup while active")
	mustContain(t, "setup while active", r.err, "already active", "--replace")
	// --replace asks first; with no terminal it wants --yes.
	w.want(w.run("", "mfa", "setup", "mm", "--replace"), 2, "replace without --yes")
	r, _ = w.runTTY("n\n", nil, "mfa", "setup", "mm", "--replace")
	w.want(r, 1, "replace refused")
	mustContain(t, "replace refused", r.err, "stops working")

	r = w.run("", "mfa", "setup", "mm", "--replace", "--yes", "--json")
	w.want(r, 0, "replace --json")
	setup := decodeJSON[map[string]string](t, r.out)
	if setup["secret"] == "" || !strings.HasPrefix(setup["otpauth_url"], "otpauth://totp/") {
		t.Fatalf("setup JSON keys: secret %v, otpauth_url %v", setup["secret"] != "", setup["otpauth_url"] != "")
	}
	mustContain(t, "replace --json", r.err, "keyturn mfa activate mm --code CODE")
	// Until a code confirms it, account show warns: the authenticator's
	// entry no longer signs in.
	r = w.run("", "account", "show", "mm")
	w.want(r, 0, "show with the secret replaced")
	mustContain(t, "show with the secret replaced", r.out, "mfa:", "replaced", "not confirmed", "keyturn mfa activate mm --code CODE", "keyturn mfa setup mm --replace")
	w.want(w.run("", "mfa", "activate", "mm"), 2, "activate without --code")
	w.want(w.run("", "mfa", "activate", "mm", "--code", "000000"), 1, "activate with a wrong code")
	// The login used this time step; the server refuses a step twice.
	r = w.run(totp(setup["secret"], time.Now().Add(30*time.Second))+"\n", "mfa", "activate", "mm", "--code", "-")
	w.want(r, 0, "activate --code -")
	mustContain(t, "activate", r.out, "MFA is active on mm")
	r = w.run("", "account", "show", "mm")
	w.want(r, 0, "show once activated")
	if strings.Contains(r.out, "not confirmed") {
		t.Fatalf("account show still warns after activation:\n%s", r.out)
	}

	// The new secret signs in; the seeded one no longer does.
	w.want(w.run("", "logout", "mm"), 0, "logout")
	w.want(w.run(mattermostsim.AdminPassword+"\n", "login", "mm", "--password-stdin", "--code", totp(mattermostsim.AdminTOTPSecret, time.Now().Add(-30*time.Second))), 1, "old secret")
	w.want(w.run(mattermostsim.AdminPassword+"\n", "login", "mm", "--password-stdin", "--code", totp(setup["secret"], time.Now().Add(-30*time.Second))), 0, "new secret")

	w.want(w.run("", "mfa", "disable", "mm"), 2, "disable without --code or --yes")
	w.want(w.run("", "mfa", "disable", "mm", "--yes"), 0, "disable")
	w.want(w.run("", "logout", "mm"), 0, "logout")
	w.want(w.run(mattermostsim.AdminPassword+"\n", "login", "mm", "--password-stdin"), 0, "login with MFA off")
}

// secretReader answers the "Code from the authenticator app" prompt with a
// code computed from the secret that mfa setup printed on stdout.
type secretReader struct {
	mu   sync.Mutex
	out  *bytes.Buffer
	done bool
	buf  []byte
}

var secretLine = regexp.MustCompile(`Secret: ([A-Z2-7 ]+)\n`)

func (s *secretReader) Read(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.done {
		s.done = true
		m := secretLine.FindStringSubmatch(s.out.String())
		if m == nil {
			return 0, io.EOF
		}
		secret := strings.ReplaceAll(m[1], " ", "")
		s.buf = []byte(totp(secret, time.Now()) + "\n")
	}
	if len(s.buf) == 0 {
		return 0, io.EOF
	}
	n := copy(p, s.buf)
	s.buf = s.buf[n:]
	return n, nil
}

func TestMFASetupDrawsQRAndActivatesAtATerminal(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.addMattermost("mm", mattermostsim.AliceUsername)
	w.want(w.run(mattermostsim.AlicePassword+"\n", "login", "mm", "--password-stdin"), 0, "login alice")

	// Not a terminal: the code is drawn anyway, then the secret in groups
	// of four and the URI; activation is a second step.
	r := w.run("", "mfa", "setup", "mm")
	w.want(r, 0, "setup, no terminal")
	if !strings.Contains(r.out, "█") && !strings.Contains(r.out, "▀") {
		t.Fatal("no QR code drawn")
	}
	if strings.Contains(r.out, "\x1b[") {
		t.Fatal("colour codes written to a pipe")
	}
	if !regexp.MustCompile(`Secret: [A-Z2-7]{4}( [A-Z2-7]{1,4})+\n`).MatchString(r.out) || !strings.Contains(r.out, "URI:    otpauth://totp/") {
		t.Fatal("no grouped secret or URI")
	}
	mustContain(t, "setup, no terminal", r.err, "keyturn mfa activate mm --code CODE")

	// At a terminal: the code is asked for and MFA is activated in one go.
	var out bytes.Buffer
	in := &secretReader{out: &out}
	r = w.runIO(IO{In: in, Out: &out, InTerminal: true, ReadSecret: func(string) (string, error) { return "", io.EOF }}, "mfa", "setup", "mm")
	w.want(r, 0, "setup at a terminal")
	mustContain(t, "setup at a terminal", out.String(), "Scan this", "MFA is active on mm")
	mustContain(t, "setup at a terminal", r.err, "Code from the authenticator app: ")
	w.want(w.run("", "mfa", "setup", "mm"), 1, "setup again once active")
}

func TestMFASetupRocketChatBackupCodes(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// Carol has no second factor: enabling TOTP asks for her password as
	// the fallback method.
	w.addRocketChat("rc", "carol")
	w.want(w.run(rocketchatsim.CarolPassword+"\n", "login", "rc", "--password-stdin"), 0, "login carol")
	r := w.run("", "mfa", "setup", "rc", "--json")
	w.want(r, 4, "setup needs the password fallback")
	mustContain(t, "password fallback", r.err, "account password", "keyturn mfa setup rc --2fa-method password --2fa-code -' with the password on stdin")
	// The fallback answered from stdin (--2fa-code -), method from the challenge.
	r = w.run(rocketchatsim.CarolPassword+"\n", "mfa", "setup", "rc", "--json", "--2fa-code", "-")
	w.want(r, 0, "setup with the password fallback")
	setup := decodeJSON[account.MFASetup](t, r.out)

	r = w.run("", "mfa", "activate", "rc", "--code", totp(setup.Secret, time.Now()), "--store-backup-codes")
	w.want(r, 0, "activate")
	mustContain(t, "activate", r.out, "MFA is active on rc", "Backup codes", "saved the backup codes as rc/backup-codes/totp")
	codes, ok := w.stored("rc/backup-codes/totp")
	if !ok || len(strings.Fields(codes)) != 12 {
		t.Fatalf("stored backup codes: %d", len(strings.Fields(codes)))
	}
	for _, c := range strings.Fields(codes) {
		if !strings.Contains(r.out, c) {
			t.Fatal("a stored backup code was not shown")
		}
	}
	r = w.run("", "secret", "list", "--json")
	mustContain(t, "secret list", r.out, `"kind": "backup-codes"`)

	// Disabling wants a current code; a wrong one is refused.
	w.want(w.run("", "mfa", "disable", "rc", "--yes"), 4, "disable without a code")
	w.want(w.run("", "mfa", "disable", "rc", "--code", "000000"), 1, "disable with a wrong code")
	w.want(w.run("", "mfa", "disable", "rc", "--code", totp(setup.Secret, time.Now())), 0, "disable")
}
