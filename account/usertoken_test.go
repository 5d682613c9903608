package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/config"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/simnet"
)

func (w *world) facts(name string) config.ServerFacts {
	w.t.Helper()
	c, err := w.cfg.Load()
	if err != nil {
		w.t.Fatal(err)
	}
	a, ok := c.Account(name)
	if !ok || a.Server == nil {
		return config.ServerFacts{}
	}
	return *a.Server
}

func (w *world) userToken(name string, ref account.Ref) account.Token {
	w.t.Helper()
	toks, err := w.mgr.Tokens(context.Background(), name, account.ListFilter{Kind: account.KindUserToken})
	if err != nil {
		w.t.Fatal(err)
	}
	for _, tk := range toks {
		if tk.Ref == ref {
			return tk
		}
	}
	w.t.Fatalf("%s is not listed", ref)
	return account.Token{}
}

func near(a, b time.Time) bool { d := a.Sub(b); return d < time.Minute && d > -time.Minute }

// A token made with an expiry carries it in the answer, the index and the
// list, with its state.
func TestCreateWithExpiryListsIt(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	at := time.Now().Add(3 * 24 * time.Hour).Truncate(time.Millisecond)
	iss, err := w.mgr.CreateExpiring(ctx, "mm", "ci", false, nil, at)
	if err != nil || iss.Expires == nil || !iss.Expires.Equal(at) {
		t.Fatalf("create: %+v, %v", iss, err)
	}
	ref, _ := account.ParseRef(iss.Ref)
	tk := w.userToken("mm", ref)
	if tk.Expires == nil || !tk.Expires.Equal(at) || account.TokenState(tk, time.Now()) != account.StateActive {
		t.Fatalf("listed: %+v", tk)
	}
	if soon := account.ExpiringSoon([]account.Token{tk}, time.Now()); len(soon) != 1 {
		t.Fatal("a token expiring in 3 days must be warned of")
	}
	if _, err := w.mgr.CreateExpiring(ctx, "mm", "past", false, nil, time.Now().Add(-time.Hour)); err == nil || !strings.Contains(err.Error(), "in the past") {
		t.Fatalf("a past expiry: %v", err)
	}
}

// On a server with a maximum lifetime, a token without an expiry, or with
// one too far, is refused before any request, naming the maximum; within
// it, it is made.
func TestLifetimePolicyRefusesBeforeTheRequest(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	w.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.MaximumPersonalAccessTokenLifetimeDays = 30 })
	before := len(w.issuedTokens("mattermost", "user-token"))
	for _, at := range []time.Time{{}, time.Now().Add(60 * 24 * time.Hour)} {
		_, err := w.mgr.CreateExpiring(ctx, "mm", "ci", false, nil, at)
		var lr *account.LifetimeRequiredError
		if !errors.As(err, &lr) || lr.MaxDays != 30 || lr.Account != "mm" || lr.TooFar == at.IsZero() {
			t.Fatalf("expiry %v under a 30-day maximum: %v", at, err)
		}
		if !strings.Contains(err.Error(), "within 30 days") {
			t.Errorf("message %q does not name the maximum", err)
		}
	}
	if n := len(w.issuedTokens("mattermost", "user-token")); n != before {
		t.Fatalf("%d tokens issued by refused requests", n-before)
	}
	if f := w.facts("mm"); f.MaxTokenLifetimeDays != 30 || f.Version != "11.10.0" {
		t.Fatalf("facts %+v", f)
	}
	limit, err := w.mgr.TokenLifetimeLimit(ctx, "mm")
	if err != nil || limit != 30 {
		t.Fatalf("TokenLifetimeLimit = %d, %v", limit, err)
	}
	if _, err := w.mgr.CreateExpiring(ctx, "mm", "ci", false, nil, time.Now().Add(29*24*time.Hour)); err != nil {
		t.Fatal(err)
	}
}

// When the client config cannot be read, the server's own refusal teaches
// the maximum: the error names it and the account remembers it.
func TestLifetimeLearnedFromTheRefusal(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	w.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.MaximumPersonalAccessTokenLifetimeDays = 30 })
	w.sb.Env.Faults.Add(simnet.Rule{Path: "/config/client", Fault: simnet.ErrorAfterApply})
	defer w.sb.Env.Faults.Clear()
	_, err := w.mgr.CreateExpiring(ctx, "mm", "ci", false, nil, time.Now().Add(60*24*time.Hour))
	var lr *account.LifetimeRequiredError
	if !errors.As(err, &lr) || lr.MaxDays != 30 || !lr.TooFar {
		t.Fatalf("refused by the server: %v", err)
	}
	if f := w.facts("mm"); f.MaxTokenLifetimeDays != 30 {
		t.Fatalf("the maximum was not remembered: %+v", f)
	}
	// Without an expiry the server says it is required, and the remembered
	// maximum names the limit.
	_, err = w.mgr.CreateExpiring(ctx, "mm", "ci", false, nil, time.Time{})
	if !errors.As(err, &lr) || lr.MaxDays != 30 || lr.TooFar {
		t.Fatalf("no expiry: %v", err)
	}
}

// A maximum set after this session read the server's settings: the
// server's refusal does not name it, so keyturn reads the settings again
// and the error names the maximum.
func TestLifetimeSetDuringTheSessionIsLearned(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	if _, err := w.mgr.CreateExpiring(ctx, "mm", "before", false, nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	w.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.MaximumPersonalAccessTokenLifetimeDays = 30 })
	_, err := w.mgr.CreateExpiring(ctx, "mm", "after", false, nil, time.Time{})
	var lr *account.LifetimeRequiredError
	if !errors.As(err, &lr) || lr.MaxDays != 30 || lr.TooFar {
		t.Fatalf("no expiry under a maximum set since: %v", err)
	}
	if f := w.facts("mm"); f.MaxTokenLifetimeDays != 30 {
		t.Fatalf("the maximum was not remembered: %+v", f)
	}
	// The next request is checked before it is sent.
	before := len(w.issuedTokens("mattermost", "user-token"))
	if _, err := w.mgr.CreateExpiring(ctx, "mm", "after", false, nil, time.Now().Add(60*24*time.Hour)); !errors.As(err, &lr) || !lr.TooFar {
		t.Fatalf("too far: %v", err)
	}
	if n := len(w.issuedTokens("mattermost", "user-token")); n != before {
		t.Fatal("a refused request issued a token")
	}
}

// On 11.10 a user token rotates in place: the same id, a new secret
// stored, the old one dead at once, the lifetime kept, the mode remembered.
func TestUserTokenRotatesInPlaceKeepingItsLifetime(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	first, err := w.mgr.CreateExpiring(ctx, "mm", "ci", false, nil, time.Now().Add(10*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := account.ParseRef(first.Ref)
	mark := len(w.issuedTokens("mattermost", "user-token"))
	iss, err := w.mgr.Rotate(ctx, "mm", ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	issued := w.issuedTokens("mattermost", "user-token")[mark:]
	if len(issued) != 1 || iss.Ref != first.Ref || iss.Value != issued[0] || w.stored(first.Name) != issued[0] {
		t.Fatalf("in place: one new secret under the same id, stored (%d issued, ref %s)", len(issued), iss.Ref)
	}
	if w.mattermostTokenWorks(first.Value) || !w.mattermostTokenWorks(iss.Value) {
		t.Fatal("the old secret must stop and the new one work")
	}
	if iss.Expires == nil || !near(*iss.Expires, time.Now().Add(10*24*time.Hour)) {
		t.Fatalf("the lifetime (10 days) was not kept: %v", iss.Expires)
	}
	if f := w.facts("mm"); f.UserTokenRotation != "in-place" || f.Version != "11.10.0" {
		t.Fatalf("facts %+v", f)
	}
	// An expiry given for the rotation wins; a server maximum caps the
	// kept lifetime.
	iss, err = w.mgr.RotateExpiring(ctx, "mm", ref, nil, time.Now().Add(2*24*time.Hour))
	if err != nil || !near(*iss.Expires, time.Now().Add(2*24*time.Hour)) {
		t.Fatalf("rotate with an expiry: %v, %v", iss, err)
	}
	w.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.MaximumPersonalAccessTokenLifetimeDays = 1 })
	iss, err = w.mgr.Rotate(ctx, "mm", ref, nil)
	if err != nil || iss.Expires == nil || iss.Expires.After(time.Now().Add(24*time.Hour)) {
		t.Fatalf("rotate under a 1-day maximum: %v, %v", iss, err)
	}
}

// A token that never expired stays so when rotated (expires_at 0 is sent,
// not left out), and gets the maximum when the server has one.
func TestNeverExpiringTokenRotation(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	first, err := w.mgr.Create(ctx, "mm", "forever", false, nil)
	if err != nil || first.Expires != nil {
		t.Fatalf("create: %v, %v", first, err)
	}
	ref, _ := account.ParseRef(first.Ref)
	iss, err := w.mgr.Rotate(ctx, "mm", ref, nil)
	if err != nil || iss.Expires != nil {
		t.Fatalf("rotate a never-expiring token: %v, %v", iss, err)
	}
	w.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.MaximumPersonalAccessTokenLifetimeDays = 30 })
	iss, err = w.mgr.Rotate(ctx, "mm", ref, nil)
	if err != nil || iss.Expires == nil || !near(*iss.Expires, time.Now().Add(30*24*time.Hour-time.Hour)) {
		t.Fatalf("rotate under a 30-day maximum: %v, %v", iss, err)
	}
}

// An older server has no rotate route: keyturn creates, stores, verifies
// and revokes, remembers that, and finds out again when the version
// changes.
func TestOlderServerRotatesByCreateAndRemembers(t *testing.T) {
	w := newWorld(t)
	w.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.OlderServer = true })
	w.mattermostSignedIn()
	ctx := context.Background()
	first, err := w.mgr.CreateExpiring(ctx, "mm", "ci", false, nil, time.Now().Add(10*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Notes) == 0 || !strings.Contains(strings.Join(first.Notes, " "), "does not support token expiry") {
		t.Fatalf("an ignored expiry must be said: %v", first.Notes)
	}
	ref, _ := account.ParseRef(first.Ref)
	iss, err := w.mgr.Rotate(ctx, "mm", ref, nil)
	if err != nil || iss.Ref == first.Ref {
		t.Fatalf("create/revoke: %v, %v", iss, err)
	}
	if f := w.facts("mm"); f.UserTokenRotation != "create-revoke" || f.Version != "11.2.0" {
		t.Fatalf("facts %+v", f)
	}
	// Remembered: the next rotation sends no rotate request at all.
	w.sb.Env.Faults.Add(simnet.Rule{Path: "/users/tokens/rotate", Fault: simnet.ErrorAfterApply})
	ref2, _ := account.ParseRef(iss.Ref)
	iss2, err := w.mgr.Rotate(ctx, "mm", ref2, nil)
	if err != nil || w.sb.Env.Faults.Hits()[simnet.ErrorAfterApply] != 0 {
		t.Fatalf("a remembered create/revoke server was asked to rotate in place: %v", err)
	}
	w.sb.Env.Faults.Clear()
	// The server is upgraded: the new version is found out again.
	w.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.OlderServer = false })
	ref3, _ := account.ParseRef(iss2.Ref)
	iss3, err := w.mgr.Rotate(ctx, "mm", ref3, nil)
	if err != nil || iss3.Ref != iss2.Ref {
		t.Fatalf("after the upgrade: %v, %v", iss3, err)
	}
	if f := w.facts("mm"); f.UserTokenRotation != "in-place" || f.Version != "11.10.0" {
		t.Fatalf("facts after the upgrade %+v", f)
	}
}

// A bulk run of user tokens on 11.10 rotates each in place, with the
// journal's rules for in-place kinds: a lost answer is unknown, and a
// resume does not send it again.
func TestRotateAllUserTokensInPlace(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	var refs []string
	for _, n := range []string{"a", "b", "c"} {
		iss, err := w.mgr.CreateExpiring(ctx, "mm", n, false, nil, time.Now().Add(20*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, iss.Ref)
	}
	w.sb.Env.Faults.Add(simnet.Rule{Path: "/users/tokens/rotate", Fault: simnet.DropAfterApply, Times: 1})
	rep, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindUserToken, Parallel: 1})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK != 2 || rep.Unknown != 1 {
		t.Fatalf("ok %d unknown %d failed %d", rep.OK, rep.Unknown, rep.Failed)
	}
	for _, it := range rep.Items {
		if !contains(refs, it.Ref) {
			t.Fatalf("%s: in place, every token keeps its ref", it.Ref)
		}
		if it.Status == account.BulkUnknown && !strings.Contains(it.Error, "cannot read it back") {
			t.Errorf("the unknown one must say fetch cannot read it back: %s", it.Error)
		}
	}
	mark := len(w.issuedTokens("mattermost", "user-token"))
	rep, err = w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindUserToken, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(w.issuedTokens("mattermost", "user-token")) - mark; n != 0 || rep.Unknown != 1 || rep.Skipped != 2 {
		t.Fatalf("resume sent %d rotations (unknown %d skipped %d)", n, rep.Unknown, rep.Skipped)
	}
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// Workers of a bulk run share the session and its server facts: a run of
// user tokens in parallel (go test -race finds a careless one).
func TestRotateAllUserTokensInPlaceInParallel(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	for i := range 6 {
		if _, err := w.mgr.CreateExpiring(ctx, "mm", "bot-"+string(rune('a'+i)), false, nil, time.Now().Add(20*24*time.Hour)); err != nil {
			t.Fatal(err)
		}
	}
	rep, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindUserToken, Parallel: 4})
	if err != nil || !rep.AllOK() || rep.OK != 6 {
		t.Fatalf("ok %d failed %d: %v", rep.OK, rep.Failed, err)
	}
	if f := w.facts("mm"); f.UserTokenRotation != "in-place" {
		t.Fatalf("facts %+v", f)
	}
}
