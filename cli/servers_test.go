package cli

import (
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
	mustContain(t, "USERNAME", r.err, "--mobile or --email")
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
