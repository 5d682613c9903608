package cli

import (
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/keystore"
	"keyturn/keystore/keystoretest"
	"keyturn/sandbox/capillarysim"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/rocketchatsim"
	"keyturn/sandbox/simnet"
)

func (w *world) tokens(name string, args ...string) []account.Token {
	w.t.Helper()
	r := w.run("", append([]string{"token", "list", name, "--json"}, args...)...)
	w.want(r, 0, "token list "+name)
	return decodeJSON[[]account.Token](w.t, r.out)
}

func firstOf(t *testing.T, toks []account.Token, kind string) account.Token {
	t.Helper()
	for _, tk := range toks {
		if tk.Kind == kind {
			return tk
		}
	}
	t.Fatalf("no %s token listed", kind)
	return account.Token{}
}

func TestTokenMattermostCommandsWebhooksUserTokens(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mattermostAdmin("mm")

	all := w.tokens("mm")
	cmds := w.tokens("mm", "--kind", "command", "--team", mattermostsim.TeamName)
	if len(cmds) != 3 || len(all) < 5 {
		t.Fatalf("listed %d commands, %d tokens", len(cmds), len(all))
	}
	w.want(w.run("", "token", "list", "mm", "--team", "nope"), 1, "unknown team")
	w.want(w.run("", "token", "list", "mm", "--kind", "pat"), 1, "a kind Mattermost lacks")
	w.want(w.run("", "token", "list", "mm", "--kind", "magic"), 2, "unknown kind")

	// Rotate a slash command: stored under mm/command/ID, the value the
	// server issued, never printed without --reveal.
	cmd := cmds[0]
	r := w.run("", "token", "rotate", "mm", cmd.RefString)
	w.want(r, 0, "rotate command")
	issued := w.lastIssued("mattermost", "command")
	name := "mm/command/" + cmd.ID
	mustContain(t, "rotate command", r.out, "saved "+name+" (…"+issued[len(issued)-4:]+") to the failing")
	if strings.Contains(r.out, issued) {
		t.Fatal("the token was printed without --reveal")
	}
	if v, _ := w.stored(name); v != issued {
		t.Fatal("the stored token is not the one the server issued")
	}
	// --json --reveal prints it, with the fields the issue names.
	r = w.run("", "token", "rotate", "mm", cmd.RefString, "--json", "--reveal")
	w.want(r, 0, "rotate --json --reveal")
	got := decodeJSON[map[string]any](t, r.out)
	if got["name"] != name || got["kind"] != "command" || got["ref"] != cmd.RefString || got["stored"] != true ||
		got["token"] != w.lastIssued("mattermost", "command") || got["fingerprint"] == "" {
		t.Fatalf("rotate JSON: name %v kind %v ref %v stored %v token-matches %v", got["name"], got["kind"], got["ref"], got["stored"], got["token"] == w.lastIssued("mattermost", "command"))
	}
	// The list marks it as held.
	for _, tk := range w.tokens("mm", "--kind", "command") {
		if tk.ID == cmd.ID && (!tk.Stored || tk.Secret != name) {
			t.Fatalf("listed after rotate: %+v", tk)
		}
	}
	r = w.run("", "token", "list", "mm", "--kind", "command")
	mustContain(t, "token list table", r.out, "REF", cmd.RefString, "/deploy", "yes (…")

	// Webhook.
	hook := firstOf(t, w.tokens("mm", "--kind", "webhook"), account.KindWebhook)
	w.want(w.run("", "token", "rotate", "mm", hook.RefString), 0, "rotate webhook")
	if v, _ := w.stored("mm/webhook/" + hook.ID); v != w.lastIssued("mattermost", "webhook") {
		t.Fatal("webhook token not stored")
	}
	r = w.run("", "token", "revoke", "mm", hook.RefString, "--yes")
	w.want(r, 1, "revoke a webhook")
	mustContain(t, "revoke a webhook", r.err, "only regenerate", "token rotate")

	// User access tokens: create, rotate (old revoked), revoke.
	r = w.run("", "token", "create", "mm", "ci-bot", "--json")
	w.want(r, 0, "create user token")
	created := decodeJSON[map[string]any](t, r.out)
	if _, has := created["token"]; has {
		t.Fatal("create --json printed the token without --reveal")
	}
	oldRef := created["ref"].(string)
	r = w.run("", "token", "rotate", "mm", oldRef)
	w.want(r, 0, "rotate user token")
	// 11.10 rotates in place: the same ref, its stored copy the new secret.
	mustContain(t, "rotate user token", r.err, "rotated in place")
	uts := w.tokens("mm", "--kind", "user-token")
	if len(uts) != 1 || uts[0].RefString != oldRef || !uts[0].Stored {
		t.Fatalf("user tokens after rotate: %+v", uts)
	}
	if v, ok := w.stored(created["name"].(string)); !ok || v != w.lastIssued("mattermost", "user-token") {
		t.Fatal("the user token's stored copy is not its new secret")
	}
	newRef := uts[0].RefString
	w.want(w.run("", "token", "revoke", "mm", newRef), 2, "revoke without --yes or terminal")
	r, _ = w.runTTY("y\n", nil, "token", "revoke", "mm", newRef)
	w.want(r, 0, "revoke confirmed")
	if len(w.tokens("mm", "--kind", "user-token")) != 0 {
		t.Fatal("revoked token still listed")
	}
	if _, ok := w.stored("mm/user-token/" + uts[0].ID); ok {
		t.Fatal("revoked token still stored")
	}
	w.want(w.run("", "token", "rotate", "mm", "bogus"), 2, "bad REF")
	w.want(w.run("", "token", "create", "mm"), 2, "create without LABEL")
}

func TestTokenRocketChatPATWithSecondFactor(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	// Bob has email 2FA: the PAT call asks for the emailed code.
	w.addRocketChat("rc", "bob")
	w.want(w.run(rocketchatsim.BobPassword+"\n", "login", "rc", "--password-stdin"), 4, "login bob")
	w.want(w.run(rocketchatsim.BobPassword+"\n", "login", "rc", "--password-stdin", "--code", w.sb.RocketChat.LastEmailCode("bob")), 0, "login bob with code")

	r := w.run("", "token", "create", "rc", "deploy")
	w.want(r, 4, "create needs the emailed code")
	mustContain(t, "create needs the emailed code", r.err, "the code sent by email", "keyturn token create rc deploy --method email --code CODE")
	before := len(w.sb.RocketChat.Outbox())
	// --code without --method: the method is taken from the challenge, and
	// the code already mailed stays valid (no new mail).
	r = w.run("", "token", "create", "rc", "deploy", "--code", w.sb.RocketChat.LastEmailCode("bob"))
	w.want(r, 0, "create with the emailed code")
	mustContain(t, "create", r.out, "saved rc/pat/deploy")
	if len(w.sb.RocketChat.Outbox()) != before {
		t.Fatal("a new mail was sent")
	}
	if v, _ := w.stored("rc/pat/deploy"); v != w.lastIssued("rocketchat", "pat") {
		t.Fatal("stored PAT is not the issued one")
	}
	// The passed second factor is remembered for a while: rotate and list
	// go through without one.
	r = w.run("", "token", "rotate", "rc", "pat:deploy", "--json")
	w.want(r, 0, "rotate PAT")
	issued := w.lastIssued("rocketchat", "pat")
	if v, _ := w.stored("rc/pat/deploy"); v != issued {
		t.Fatal("rotated PAT not stored")
	}
	pats := w.tokens("rc", "--kind", "pat")
	if len(pats) != 1 || pats[0].LastPart == "" || !strings.HasSuffix(issued, pats[0].LastPart) || !pats[0].Stored {
		t.Fatalf("PAT list: %+v", pats)
	}
	w.want(w.run("", "token", "revoke", "rc", "pat:deploy", "--yes"), 0, "revoke PAT")
	if len(w.tokens("rc")) != 0 {
		t.Fatal("revoked PAT still listed")
	}

	// Alice has TOTP: an interactive create asks for the code at a prompt
	// (unless the login's pass is remembered).
	w.rocketAlice("rc-a")
	r, _ = w.runTTY(totp(rocketchatsim.AliceTOTP, time.Now().Add(30*time.Second))+"\n", nil, "token", "create", "rc-a", "ci", "--bypass-2fa")
	w.want(r, 0, "create at a terminal")
	for _, tk := range w.tokens("rc-a") {
		if tk.ID == "ci" && (tk.Bypass2FA == nil || !*tk.Bypass2FA) {
			t.Fatalf("--bypass-2fa: %+v", tk)
		}
	}
	w.want(w.run("", "token", "create", "rc-a", strings.Repeat("n", 300)), 1, "a PAT name too long to store")
	w.want(w.run("", "token", "rotate", "rc-a", "command:abc"), 1, "a kind Rocket.Chat lacks")
}

func TestTokenCapillarySessionAndExpiry(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.capillaryAlice("cap")
	toks := w.tokens("cap")
	if len(toks) != 1 || toks[0].RefString != "session" || !toks[0].Stored || toks[0].Expires == nil {
		t.Fatalf("session listed: %+v", toks)
	}
	first, _ := w.stored("cap/session")
	w.want(w.run("", "token", "create", "cap", "x"), 1, "create on Capillary")

	// The session expires (the servers' clock moves on 20 minutes): keyturn
	// says so, and a rotate makes a new one from the stored key.
	w.sb.Env.Clock.Advance(20 * time.Minute)
	expired := time.Now().Add(20 * time.Minute)
	st := decodeJSON[account.Status](t, w.run("", "account", "show", "cap", "--json").out)
	if st.Expires == nil || st.Expires.After(expired) {
		t.Fatalf("expiry after the clock moved: %v", st.Expires)
	}
	r := w.run("", "token", "list", "cap")
	mustContain(t, "list expired", r.out, "session", "EXPIRES", "STATUS")
	r = w.run("", "token", "rotate", "cap", "session")
	w.want(r, 0, "rotate expired session")
	mustContain(t, "rotate session", r.out, "saved cap/session", "expires")
	now, _ := w.stored("cap/session")
	if now == first || now != w.lastIssued(capillarysim.Service, capillarysim.KindToken) {
		t.Fatal("regenerate did not store the new token")
	}
	st = decodeJSON[account.Status](t, w.run("", "account", "show", "cap", "--json").out)
	if st.Expires == nil || !st.Expires.After(expired) {
		t.Fatalf("the new session's expiry: %v", st.Expires)
	}
	// Revoke expires it on the server and deletes keyturn's copy.
	w.want(w.run("", "token", "revoke", "cap", "session", "--yes"), 0, "revoke session")
	if !w.sb.Capillary.TokenExpired(now) {
		t.Fatal("the server did not expire the session")
	}
	if _, ok := w.stored("cap/session"); ok {
		t.Fatal("revoked session still stored")
	}
	w.want(w.run("", "logout", "cap"), 0, "logout")
}

// A store that fails on purpose: the token comes out on stdout (the only
// copy), exit 3, and nothing the server issued is lost.
func TestTokenStoreFailsTokenOnStdout(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mattermostAdmin("mm")
	cmd := w.tokens("mm", "--kind", "command")[0]

	w.store.Ops = []string{"set"}
	r := w.run("", "token", "rotate", "mm", cmd.RefString)
	w.want(r, 3, "rotate with a failing store")
	printed := map[string]bool{strings.TrimSpace(r.out): true}
	issued := w.lastIssued("mattermost", "command")
	if strings.TrimSpace(r.out) != issued {
		t.Fatal("stdout is not exactly the issued token")
	}
	mustContain(t, "not stored", r.err, "NOT saved", "failed on purpose", "ONLY copy", "keyturn secret set mm/command/"+cmd.ID)

	// --json: stored false, and the token, even without --reveal.
	r = w.run("", "token", "create", "mm", "ci-bot", "--json")
	w.want(r, 3, "create --json with a failing store")
	got := decodeJSON[map[string]any](t, r.out)
	tok, _ := got["token"].(string)
	printed[tok] = true
	if got["stored"] != false || got["token"] != w.lastIssued("mattermost", "user-token") {
		t.Fatalf("create JSON: stored %v, token matches %v", got["stored"], got["token"] == w.lastIssued("mattermost", "user-token"))
	}
	// On a server without in-place rotation (before 11.10), a user-token
	// rotation whose new token is not stored leaves the old one active.
	w.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.OlderServer = true })
	w.store.Ops = []string{"none"}
	r = w.run("", "token", "create", "mm", "ci-bot2", "--json")
	w.want(r, 0, "create")
	oldRef := decodeJSON[map[string]any](t, r.out)["ref"].(string)
	w.store.Ops = []string{"set"}
	r = w.run("", "token", "rotate", "mm", oldRef)
	w.want(r, 3, "rotate user token with a failing store")
	printed[strings.TrimSpace(r.out)] = true
	mustContain(t, "old token kept", r.err, "NOT revoked")
	w.store.Ops = []string{"none"}
	if !activeListed(w.tokens("mm", "--kind", "user-token"), oldRef) {
		t.Fatal("the old user token was revoked though the new one was not stored")
	}
	// A hanging store (a keyring waiting for an unlock): exit 3 when the
	// store's own time runs out (the keyring's per-call timeout; the
	// command's cancellation no longer cuts an issued token's write short),
	// token on stdout.
	hang := &keystoretest.Hanging{Inner: w.store.Inner, Ops: []string{"set"}}
	testStores.Store(w.cfg, keystore.WithTimeout(hang, 500*time.Millisecond))
	r = w.run("", "token", "rotate", "mm", cmd.RefString)
	w.want(r, 3, "rotate with a hanging store")
	printed[strings.TrimSpace(r.out)] = true
	if strings.TrimSpace(r.out) != w.lastIssued("mattermost", "command") {
		t.Fatal("hanging store: stdout is not the issued token")
	}
	testStores.Store(w.cfg, keystoreBackend(w.store))

	// Nothing lost: every token the server issued after sign-in (the
	// seeded commands aside) is either in the store or was printed.
	for i, kind := range []string{"command", "user-token"} {
		for j, e := range w.ledger("mattermost", kind) {
			if i == 0 && j < 3 {
				continue
			}
			if v, ok := w.stored("mm/" + kind + "/" + e.ID); ok && v == e.Token {
				continue
			}
			if !printed[e.Token] {
				t.Errorf("the %s %s the server issued is neither stored nor printed", kind, e.ID)
			}
		}
	}
}

func activeListed(toks []account.Token, ref string) bool {
	for _, tk := range toks {
		if tk.RefString == ref && tk.Active != nil && *tk.Active {
			return true
		}
	}
	return false
}

func TestLoginStoreFails(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.addCapillary("cap", "MOBILE", capillarysim.AliceMobile)
	w.store.Ops = []string{"set"}
	r := w.run(capillarysim.AlicePassword+"\n"+capillarysim.AliceMFAPassword+"\n", "login", "cap", "--password-stdin")
	w.want(r, 3, "login with a failing store")
	if strings.TrimSpace(r.out) != w.lastIssued(capillarysim.Service, capillarysim.KindToken) {
		t.Fatal("the session token is not on stdout")
	}
	mustContain(t, "login not stored", r.err, "NOT saved", "ONLY copy")
}

func TestTokenRateLimited(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mattermostAdmin("mm")
	cmd := w.tokens("mm", "--kind", "command")[0]
	before := len(w.ledger("mattermost", "command"))

	// A 429 on a change is not retried: a clear message, nothing applied.
	w.sb.Env.Faults.Add(simnet.Rule{Method: "PUT", Path: "/regen_token", Fault: simnet.RateLimit, Times: 1, RetryAfter: 2})
	r := w.run("", "token", "rotate", "mm", cmd.RefString)
	w.want(r, 1, "rate limited rotate")
	mustContain(t, "rate limited", r.err, "rate limited", "wait 2s", "mm, Mattermost at "+w.sb.MattermostURL)
	if len(w.ledger("mattermost", "command")) != before {
		t.Fatal("a refused request was applied")
	}
	// A 429 on a read is waited out and retried.
	w.sb.Env.Faults.Add(simnet.Rule{Method: "GET", Fault: simnet.RateLimit, Times: 1, RetryAfter: 1})
	w.tokens("mm", "--kind", "command")
	w.want(w.run("", "token", "rotate", "mm", cmd.RefString), 0, "rotate after the limit")
}

// A dropped connection after the server applied a regen: exit 5, and the
// server saw exactly one regen request.
func TestTokenDroppedRegenExits5(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mattermostAdmin("mm")
	cmd := w.tokens("mm", "--kind", "command")[0]
	before := len(w.ledger("mattermost", "command"))
	w.sb.Env.Faults.Add(simnet.Rule{Path: "/regen_token", Fault: simnet.DropAfterApply, Times: 1})
	r := w.run("", "token", "rotate", "mm", cmd.RefString)
	w.want(r, 5, "dropped regen")
	mustContain(t, "dropped regen", r.err, "no answer came back", "may have rotated", "does not retry")
	if got := len(w.ledger("mattermost", "command")) - before; got != 1 {
		t.Fatalf("the server applied %d regens; keyturn must send exactly one", got)
	}
	if w.sb.Env.Faults.Hits()[simnet.DropAfterApply] != 1 {
		t.Fatal("the fault did not fire once")
	}
	// The message names the way out, and token fetch keeps the new token
	// without a second regen.
	mustContain(t, "dropped regen", r.err, "keyturn token fetch mm "+cmd.RefString)
	r = w.run("", "token", "fetch", "mm", cmd.RefString)
	w.want(r, 0, "fetch after the dropped regen")
	mustContain(t, "fetch", r.out, "saved mm/command/"+cmd.ID)
	if v, ok := w.stored("mm/command/" + cmd.ID); !ok || v != w.lastIssued("mattermost", "command") {
		t.Fatal("fetch must store the token the server holds now")
	}
	if got := len(w.ledger("mattermost", "command")) - before; got != 1 {
		t.Fatalf("fetch made the server rotate: %d regens", got)
	}
	// Tokens a server shows only once cannot be fetched.
	r = w.run("", "token", "fetch", "mm", "user-token:x")
	w.want(r, 1, "fetch a user token")
	mustContain(t, "fetch a user token", r.err, "cannot fetch")
	// A store that refuses: exit 3, the token on stdout.
	hook := w.tokens("mm", "--kind", "webhook")[0]
	w.want(w.run("", "token", "rotate", "mm", hook.RefString), 0, "rotate a webhook")
	w.store.Ops = []string{"set"}
	r = w.run("", "token", "fetch", "mm", hook.RefString)
	w.want(r, 3, "fetch with a failing store")
	if strings.TrimSpace(r.out) != w.lastIssued("mattermost", "webhook") {
		t.Fatal("stdout is not exactly the server's token")
	}
	w.store.Ops = []string{"none"}

	// Rocket.Chat: the message says how to tell (lastTokenPart).
	w.rocketAlice("rc")
	r = w.run("", "token", "create", "rc", "deploy", "--code", totp(rocketchatsim.AliceTOTP, time.Now().Add(30*time.Second)), "--method", "totp")
	w.want(r, 0, "create PAT")
	pats := len(w.ledger("rocketchat", "pat"))
	w.sb.Env.Faults.Add(simnet.Rule{Path: "regeneratePersonalAccessToken", Fault: simnet.DropAfterApply, Times: 1})
	r = w.run("", "token", "rotate", "rc", "pat:deploy")
	w.want(r, 5, "dropped PAT regen")
	mustContain(t, "dropped PAT regen", r.err, "last_token_part")
	if got := len(w.ledger("rocketchat", "pat")) - pats; got != 1 {
		t.Fatalf("the server regenerated %d times", got)
	}
}
