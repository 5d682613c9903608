package cli

import (
	"strings"
	"testing"

	"keyturn/sandbox/capillarysim"
	"keyturn/sandbox/rocketchatsim"
)

// Capillary by its docs: a USERNAME identifier with its mobile, a password
// with spaces, --mfa on for a brand whose token says USER, a logout of a
// session without MFA, EXTERNALID refused when the account is added.
func TestCapillaryByItsDocs(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	add := func(name string, extra ...string) result {
		return w.run("", append([]string{"account", "add", name, "--service", "capillary", "--url", w.sb.CapillaryURL, "--brand", capillarysim.SeedBrand,
			"--device-id", capillarysim.SeedDeviceID}, extra...)...)
	}
	r := add("ext", "--identifier-type", "EXTERNALID", "--identifier", "x-1")
	w.want(r, 1, "EXTERNALID")
	mustContain(t, "EXTERNALID", r.err, "MOBILE, EMAIL or USERNAME")
	r = add("dave", "--identifier-type", "USERNAME", "--identifier", capillarysim.DaveUsername)
	w.want(r, 1, "USERNAME without mobile or email")
	mustContain(t, "USERNAME", r.err, "mobile number or email address", "Use --mobile or --email")
	w.want(add("dave", "--identifier-type", "USERNAME", "--identifier", capillarysim.DaveUsername, "--mobile", capillarysim.DaveMobile), 0, "USERNAME with --mobile")
	w.want(w.run(capillarysim.DavePassword+"\n", "login", "dave", "--password-stdin"), 0, "sign-in with a spaced password")

	// The brand's first-factor token says USER though alice is enrolled.
	w.sb.Capillary.SetMFARoleMarked(false)
	w.want(add("alice", "--identifier-type", "MOBILE", "--identifier", capillarysim.AliceMobile, "--mfa", "on"), 0, "--mfa on")
	w.want(add("bad", "--identifier-type", "MOBILE", "--identifier", capillarysim.AliceMobile, "--mfa", "maybe"), 1, "--mfa maybe")
	r = w.run(capillarysim.AlicePassword+"\n"+capillarysim.AliceMFAPassword+"\n", "login", "alice", "--password-stdin")
	w.want(r, 0, "sign-in with --mfa on")
	r = w.run("", "logout", "alice")
	w.want(r, 0, "logout with MFA")

	// dave signed in without MFA: forgotten here, the server ends it later.
	r = w.run("", "logout", "dave")
	w.want(r, 0, "logout without MFA")
	mustContain(t, "logout dave", r.out, "signed out of dave")
	mustContain(t, "logout dave", r.err, "stays valid on the server until it expires")
}

// Rocket.Chat 7.4 and later answer logout with an empty body: signed out,
// exit 0; an older server's JSON body too.
func TestRocketChatLogoutEmptyBody(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	for _, older := range []bool{false, true} {
		w.sb.RocketChat.SetOlderLogout(older)
		w.addRocketChat("rc", "carol")
		w.want(w.run(rocketchatsim.CarolPassword+"\n", "login", "rc", "--password-stdin"), 0, "login carol")
		r := w.run("", "logout", "rc")
		w.want(r, 0, "logout")
		mustContain(t, "logout", r.out, "signed out of rc")
		if r.err != "" {
			t.Fatalf("older %v: logout said %q", older, r.err)
		}
		w.want(w.run("", "account", "remove", "rc", "--yes"), 0, "remove")
	}
}

// linesReader gives one line per read burst, fetched when the last one is
// used up: the next e-mail code, read when the command asks for it.
type linesReader struct {
	next func() string
	r    *strings.Reader
}

func (l *linesReader) Read(p []byte) (int, error) {
	if l.r == nil || l.r.Len() == 0 {
		l.r = strings.NewReader(l.next())
	}
	return l.r.Read(p)
}

// A Rocket.Chat server that remembers no passed second factor: a bulk run
// says how many tokens are left and that each needs a code (exit 4), and
// with --code - it reads one e-mail code per token from stdin in one run.
func TestRotateAllPATsWithACodePerToken(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.addRocketChat("rc", "bob")
	w.want(w.run(rocketchatsim.BobPassword+"\n", "login", "rc", "--password-stdin"), 4, "login bob")
	w.want(w.run(rocketchatsim.BobPassword+"\n", "login", "rc", "--password-stdin", "--code", w.sb.RocketChat.LastEmailCode("bob")), 0, "login bob with code")
	w.want(w.run("", "token", "create", "rc", "a"), 4, "create needs a code")
	w.want(w.run("", "token", "create", "rc", "a", "--code", w.sb.RocketChat.LastEmailCode("bob")), 0, "create a")
	w.want(w.run("", "token", "create", "rc", "b"), 0, "create b (remembered)")
	w.want(w.run("", "token", "create", "rc", "c"), 0, "create c (remembered)")

	w.sb.RocketChat.SetForgetsSecondFactor(true)
	w.want(w.run("", "token", "rotate", "rc", "--all", "--kind", "pat"), 4, "a run without a code")
	r := w.run("", "token", "rotate", "rc", "--all", "--kind", "pat", "--resume", "--code", w.sb.RocketChat.LastEmailCode("bob"))
	w.want(r, 4, "one code for a server that forgets")
	mustContain(t, "one code", r.err, "asks for a new code for each token", "2 token(s) left", "--code -")

	emailed := func() string { return w.sb.RocketChat.LastEmailCode("bob") + "\n" }
	before := len(w.sb.RocketChat.Outbox())
	r = w.runIO(IO{In: &linesReader{next: emailed}}, "token", "rotate", "rc", "--all", "--kind", "pat", "--resume", "--code", "-")
	w.want(r, 0, "a code per line")
	mustContain(t, "a code per line", r.err, "1 token(s) left")
	if n := len(w.sb.RocketChat.Outbox()) - before; n != 1 {
		t.Fatalf("%d codes mailed for the last two tokens, want 1 (the one read second)", n)
	}
	mustContain(t, "report", r.out, "2 ok")
}
