package cli

import (
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/simnet"
)

// token create --expires-in: the token expires then; the list shows its
// expiry and status; account show warns of one expiring within 7 days.
func TestTokenCreateWithExpiryAndList(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mattermostAdmin("mm")
	r := w.run("", "token", "create", "mm", "ci", "--expires-in", "90d", "--json")
	w.want(r, 0, "create --expires-in 90d")
	got := decodeJSON[map[string]any](t, r.out)
	exp, err := time.Parse(time.RFC3339, got["expires"].(string))
	if err != nil || exp.Sub(time.Now().Add(90*24*time.Hour)).Abs() > time.Minute {
		t.Fatalf("expires %v (%v), want in 90 days", got["expires"], err)
	}
	w.want(w.run("", "token", "create", "mm", "soon", "--expires-in", "3d"), 0, "create --expires-in 3d")
	w.want(w.run("", "token", "create", "mm", "forever"), 0, "create without an expiry")
	r = w.run("", "token", "list", "mm", "--kind", "user-token")
	w.want(r, 0, "token list")
	mustContain(t, "token list", r.out, "STATUS", "EXPIRES", "active", "never", " soon")
	for _, tk := range w.tokens("mm", "--kind", "user-token") {
		if tk.Status != account.StateActive {
			t.Errorf("%s: status %q", tk.Label, tk.Status)
		}
	}
	r = w.run("", "account", "show", "mm")
	w.want(r, 0, "account show")
	mustContain(t, "account show", r.out, "warning:", "expires", "keyturn token rotate mm user-token:")
	if strings.Count(r.out, "('keyturn token rotate") != 1 {
		t.Fatalf("only the token expiring within 7 days is warned of:\n%s", r.out)
	}
	w.want(w.run("", "token", "create", "mm", "x", "--expires-in", "90d", "--expires-at", "2030-01-01"), 2, "both flags")
	w.want(w.run("", "token", "create", "mm", "x", "--expires-in", "5y"), 2, "a unit ParseAge does not read")
	w.want(w.run("", "token", "rotate", "mm", "--all", "--expires-in", "5d"), 2, "--all with an expiry")
}

// A server with a maximum lifetime: a token without an expiry is refused
// before any request, saying the maximum; within it, it is made.
func TestTokenCreatePolicyRefusal(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mattermostAdmin("mm")
	w.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.MaximumPersonalAccessTokenLifetimeDays = 30 })
	before := len(w.ledger("mattermost", "user-token"))
	r := w.run("", "token", "create", "mm", "ci")
	w.want(r, 1, "create without an expiry under a 30-day maximum")
	mustContain(t, "refusal", r.err, "within 30 days", "Add --expires-in 30d (the server's maximum) or less")
	r = w.run("", "token", "create", "mm", "ci", "--expires-in", "60d")
	w.want(r, 1, "create beyond the maximum")
	mustContain(t, "refusal", r.err, "within 30 days", "Add --expires-in 30d")
	if n := len(w.ledger("mattermost", "user-token")); n != before {
		t.Fatalf("%d tokens issued by refused creates", n-before)
	}
	w.want(w.run("", "token", "create", "mm", "ci", "--expires-in", "30d"), 0, "create within the maximum")
}

// Rotation in place, and the same against an older server: create/revoke.
func TestTokenRotateUserTokenInPlaceAndOlder(t *testing.T) {
	t.Parallel()
	for _, older := range []bool{false, true} {
		w := newWorld(t)
		w.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.OlderServer = older })
		w.mattermostAdmin("mm")
		w.want(w.run("", "token", "create", "mm", "ci", "--expires-in", "10d"), 0, "create")
		tk := firstOf(t, w.tokens("mm", "--kind", "user-token"), account.KindUserToken)
		r := w.run("", "token", "rotate", "mm", tk.RefString, "--json")
		w.want(r, 0, "rotate")
		got := decodeJSON[map[string]any](t, r.out)
		sameRef := got["ref"] == tk.RefString
		if sameRef == older {
			t.Fatalf("older %v: rotated to %v from %s", older, got["ref"], tk.RefString)
		}
		if v, ok := w.stored(got["name"].(string)); !ok || v != w.lastIssued("mattermost", "user-token") {
			t.Fatalf("older %v: the new token is not the stored one", older)
		}
	}
}

// A team admin without the token role: token list prints the team's
// commands and webhooks and says on stderr that user tokens are not
// permitted; asked for user tokens alone, it fails.
func TestTokenListNotPermittedSection(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.addMattermost("carol", mattermostsim.CarolUsername)
	w.want(w.run(mattermostsim.CarolPassword+"\n", "login", "carol", "--password-stdin"), 0, "login carol")
	r := w.run("", "token", "list", "carol")
	w.want(r, 0, "token list carol")
	mustContain(t, "token list carol", r.out, "command:", "webhook:")
	mustContain(t, "token list carol stderr", r.err, "user-token: not permitted for this user", "personal access tokens")
	w.want(w.run("", "token", "list", "carol", "--kind", "user-token"), 1, "only user tokens")
	w.want(w.run("", "token", "list", "carol", "--kind", "command"), 0, "only commands")
}

// An in-place rotation whose answer is lost exits 5, says fetching cannot
// read the secret back, and names the way out; it is never retried.
func TestTokenRotateUserTokenInPlaceNoAnswer(t *testing.T) {
	t.Parallel()
	w := newWorld(t)
	w.mattermostAdmin("mm")
	w.want(w.run("", "token", "create", "mm", "ci", "--expires-in", "10d"), 0, "create")
	tk := firstOf(t, w.tokens("mm", "--kind", "user-token"), account.KindUserToken)
	before := len(w.ledger("mattermost", "user-token"))
	w.sb.Env.Faults.Add(simnet.Rule{Path: "/users/tokens/rotate", Fault: simnet.DropAfterApply, Times: 1})
	r := w.run("", "token", "rotate", "mm", tk.RefString)
	w.want(r, ExitUnknownState, "rotate with the answer lost")
	mustContain(t, "no answer", r.err, "fetching cannot read it back", "Revoke it with 'keyturn token revoke mm "+tk.RefString+"'")
	if n := len(w.ledger("mattermost", "user-token")) - before; n != 1 {
		t.Fatalf("the server rotated %d times, want 1 (never retried)", n)
	}
}
