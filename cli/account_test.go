package cli

import (
	"strings"
	"testing"

	"keyturn/account"
	"keyturn/sandbox/capillarysim"
)

func TestAccountAddListShowRemove(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.addMattermost("mm", "admin")
	w.addRocketChat("rc", "alice")
	w.addCapillary("cap", "mobile", capillarysim.AliceMobile)

	// Usage errors exit 2; a bad or duplicate account exits 1.
	w.want(w.run("", "account", "add", "x", "--url", w.sb.MattermostURL), 2, "add without --service")
	w.want(w.run("", "account", "add", "x", "--service", "mattermost"), 2, "add without --url")
	w.want(w.run("", "account", "add", "x", "--service", "mattermost", "--url", w.sb.MattermostURL, "--brand", "b"), 2, "a Capillary flag on Mattermost")
	r := w.run("", "account", "add", "mm", "--service", "mattermost", "--url", w.sb.MattermostURL, "--user", "admin")
	w.want(r, 1, "duplicate")
	mustContain(t, "duplicate", r.err, "exists already")
	r = w.run("", "account", "add", "x", "--service", "mattermost", "--url", "http://chat.example.com", "--user", "u")
	w.want(r, 1, "plain http to a remote host")
	w.want(w.run("", "account", "add", "x", "--service", "mattermost", "--url", "http://chat.example.com", "--user", "u", "--insecure-http"), 0, "--insecure-http")
	w.want(w.run("", "account", "remove", "x", "--yes"), 0, "remove x")
	r = w.run("", "account", "add", "eu", "--service", "capillary", "--region", "eu", "--brand", "b", "--device-id", "d",
		"--identifier-type", "email", "--identifier", "a@example.com", "--json")
	w.want(r, 0, "add with --region")
	mustContain(t, "add with --region", r.out, `"url": "https://eu.api.capillarytech.com"`, `"identifier_type": "EMAIL"`)
	w.want(w.run("", "account", "remove", "eu", "--yes"), 0, "remove eu")

	r = w.run("", "account", "list")
	w.want(r, 0, "list")
	mustContain(t, "list", r.out, "NAME", "mm", "rc", "cap", "mattermost", w.sb.CapillaryURL)

	r = w.run("", "account", "list", "--json")
	w.want(r, 0, "list --json")
	list := decodeJSON[[]account.Status](t, r.out)
	if len(list) != 3 {
		t.Fatalf("list --json: %d accounts", len(list))
	}
	for _, st := range list {
		if st.SignedIn {
			t.Errorf("%s: signed in before any login", st.Name)
		}
		if st.Name == "cap" && (st.Extra.IdentifierType != "MOBILE" || st.Extra.Brand != capillarysim.SeedBrand) {
			t.Errorf("cap: %+v", st.Extra)
		}
	}

	r = w.run("", "account", "show", "cap")
	w.want(r, 0, "show")
	mustContain(t, "show", r.out, "Capillary", "MOBILE "+capillarysim.AliceMobile, "signed in:  no", "mfa step:   auto")
	// What account edit changes, show shows: the MFA step, a user name's contacts.
	w.want(w.run("", "account", "edit", "cap", "--identifier-type", "USERNAME", "--identifier", "alice", "--mobile", "919999000009", "--email", "al@example.com", "--mfa", "on"), 0, "edit cap")
	r = w.run("", "account", "show", "cap")
	w.want(r, 0, "show after edit")
	mustContain(t, "show after edit", r.out, "user:       alice\n", "identifier: USERNAME alice", "contact:    mobile 919999000009, email al@example.com", "mfa step:   on")
	// --user on a Capillary account is its identifier, as for account add.
	w.want(w.run("", "account", "edit", "cap", "--user", "alice2"), 0, "edit cap --user")
	r = w.run("", "account", "show", "cap", "--json")
	st0 := decodeJSON[account.Status](t, r.out)
	if st0.User != "alice2" || st0.Extra.Identifier != "alice2" {
		t.Fatalf("--user on a Capillary account: user %q, identifier %q", st0.User, st0.Extra.Identifier)
	}
	if st0.Extra.MFA != "on" || st0.Extra.Mobile != "919999000009" || st0.Extra.Email != "al@example.com" {
		t.Fatalf("show --json after edit: %+v", st0.Extra)
	}
	r = w.run("", "account", "show", "nope")
	w.want(r, 1, "show unknown")
	mustContain(t, "show unknown", r.err, `no account named "nope"`, "mm")

	// Signed in: show says where the credential lives.
	w.capillaryAlice("cap2")
	r = w.run("", "account", "show", "cap2", "--json")
	w.want(r, 0, "show --json")
	st := decodeJSON[account.Status](t, r.out)
	if !st.SignedIn || st.Store != "failing" || st.Expires == nil || st.Via != "key" {
		t.Fatalf("show --json: %+v", st)
	}

	// remove asks; without a terminal it needs --yes.
	r = w.run("", "account", "remove", "cap2")
	w.want(r, 2, "remove without --yes and no terminal")
	mustContain(t, "remove", r.err, "--yes")
	r, _ = w.runTTY("n\n", nil, "account", "remove", "cap2")
	w.want(r, 1, "remove answered no")
	if _, ok := w.stored("cap2/credential"); !ok {
		t.Fatal("a refused remove deleted the credential")
	}
	r, _ = w.runTTY("y\n", nil, "account", "remove", "cap2")
	w.want(r, 0, "remove answered yes")
	if _, ok := w.stored("cap2/credential"); ok {
		t.Fatal("remove left the credential in the store")
	}
	r = w.run("", "account", "list")
	if strings.Contains(r.out, "cap2") {
		t.Fatal("removed account still listed")
	}
}
