package cli

import (
	"context"
	"strings"
	"testing"

	"keyturn/client"
	"keyturn/client/rocketchat"
	"keyturn/sandbox/rocketchatsim"
)

// webPATs makes PATs for carol as the Rocket.Chat web UI would, with names
// keyturn itself never chose.
func (w *world) webPATs(names ...string) {
	w.t.Helper()
	ctx := context.Background()
	rc, err := rocketchat.Open(client.Options{BaseURL: w.sb.RocketChatURL}, rocketchat.Credentials{})
	if err != nil {
		w.t.Fatal(err)
	}
	res, err := rc.Login(ctx, "carol", rocketchatsim.CarolPassword, "")
	if err != nil {
		w.t.Fatalf("web login: %v", err)
	}
	rc = rc.WithCredentials(res.Credentials)
	for _, n := range names {
		sf := &rocketchat.SecondFactor{Method: client.MethodPassword, Code: rocketchatsim.CarolPassword}
		if _, err := rc.GeneratePAT(ctx, n, false, sf); err != nil {
			w.t.Fatalf("web PAT %q: %v", n, err)
		}
	}
}

// issuedFor is the last token the sandbox issued for a PAT name.
func (w *world) issuedFor(name string) string {
	tok := ""
	for _, e := range w.ledger("rocketchat", "pat") {
		if e.ID == name {
			tok = e.Token
		}
	}
	return tok
}

// PATs named in the web UI with spaces, accents, slashes, dots, control
// characters: every path keyturn has to them stores them; a name no store
// name can hold is refused before anything is sent.
func TestTokenPATNamesTheServerAllows(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.addRocketChat("rc", "carol")
	w.want(w.run(rocketchatsim.CarolPassword+"\n", "login", "rc", "--password-stdin"), ExitOK, "login carol")
	long := strings.Repeat("n", 300)
	names := map[string]string{ // server name → store name
		"ci token":          "rc/pat/ci%20token",
		"déploiement":       "rc/pat/d%C3%A9ploiement",
		"a/b":               "rc/pat/a%2Fb",
		"..":                "rc/pat/%2E%2E",
		"bell\x07\x1b[31m!": "rc/pat/bell%07%1B%5B31m%21",
		"plain-name.v2":     "rc/pat/plain-name.v2",
	}
	var all []string
	for n := range names {
		all = append(all, n)
	}
	w.webPATs(append(all, long)...)
	pw := rocketchatsim.CarolPassword + "\n"

	// --all: every storable one is rotated and stored; the long one is
	// refused before its request, so the server keeps its token.
	longBefore := w.issuedFor(long)
	before := len(w.ledger("rocketchat", "pat"))
	r := w.run(pw, "token", "rotate", "rc", "--all", "--method", "password", "--code", "-", "--json")
	w.want(r, ExitFailure, "rotate --all with one name too long to store")
	rep := decodeJSON[bulkJSON](t, r.out)
	if got := len(w.ledger("rocketchat", "pat")) - before; got != len(names) {
		t.Fatalf("the server regenerated %d PATs, want %d", got, len(names))
	}
	if w.issuedFor(long) != longBefore {
		t.Fatal("the PAT whose name cannot be stored was regenerated")
	}
	for _, it := range rep.Tokens {
		if it.Ref == "pat:"+long {
			if it.Status != "failed" || !strings.Contains(it.Error, "too long") {
				t.Errorf("the long name: %s %q", it.Status, it.Error)
			}
			continue
		}
		id := strings.TrimPrefix(it.Ref, "pat:")
		if it.Status != "ok" || it.Name != names[id] {
			t.Errorf("%q: %s, stored as %q (%s), want ok as %q", id, it.Status, it.Name, it.Error, names[id])
		}
		if v, ok := w.stored(names[id]); !ok || v != w.issuedFor(id) {
			t.Errorf("%q: the store does not hold the token the server issued", id)
		}
	}

	// One by one, by the REF the person types.
	r = w.run(pw, "token", "rotate", "rc", "pat:ci token", "--method", "password", "--code", "-")
	w.want(r, ExitOK, "rotate pat:ci token")
	mustContain(t, "rotate pat:ci token", r.out, "rc/pat/ci%20token")
	if v, _ := w.stored("rc/pat/ci%20token"); v != w.issuedFor("ci token") {
		t.Fatal("rotated 'ci token' not stored")
	}
	before = len(w.ledger("rocketchat", "pat"))
	r = w.run(pw, "token", "rotate", "rc", "pat:"+long, "--method", "password", "--code", "-")
	w.want(r, ExitUsage, "rotate a name too long to store")
	mustContain(t, "rotate a name too long to store", r.err, "too long")

	// Create with such names; the unstorable one is never sent.
	r = w.run(pw, "token", "create", "rc", "nouveau déploiement", "--method", "password", "--code", "-")
	w.want(r, ExitOK, "create 'nouveau déploiement'")
	if v, _ := w.stored("rc/pat/nouveau%20d%C3%A9ploiement"); v == "" || v != w.issuedFor("nouveau déploiement") {
		t.Fatal("created PAT not stored under its escaped name")
	}
	r = w.run(pw, "token", "create", "rc", strings.Repeat("m", 300), "--method", "password", "--code", "-")
	w.want(r, ExitFailure, "create a name too long to store")
	mustContain(t, "create a name too long to store", r.err, "too long")
	if got := len(w.ledger("rocketchat", "pat")) - before; got != 1 {
		t.Fatalf("the server issued %d PATs, want only the one created", got)
	}

	// The store's name is one the person can use with secret set.
	r = w.run("a-value-set-by-hand-0123456789\n", "secret", "set", "rc/pat/a%2Fb")
	w.want(r, ExitOK, "secret set of an escaped name")

	// Revoke deletes the stored copy under the same name.
	w.want(w.run(pw, "token", "revoke", "rc", "pat:..", "--yes", "--method", "password", "--code", "-"), ExitOK, "revoke pat:..")
	if _, ok := w.stored("rc/pat/%2E%2E"); ok {
		t.Fatal("revoked PAT's copy still stored")
	}
}
