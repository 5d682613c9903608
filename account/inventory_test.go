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
	"keyturn/sandbox/rocketchatsim"
	"keyturn/sandbox/simnet"
)

const day = 24 * time.Hour

func findToken(inv *account.Inventory, acct, ref string) (account.InventoryToken, bool) {
	for _, a := range inv.Accounts {
		for _, t := range a.Tokens {
			if t.Account == acct && t.RefString == ref {
				return t, true
			}
		}
	}
	return account.InventoryToken{}, false
}

func TestInventoryShowsEveryAccountAndAFailureOnlyOnItsRows(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.mattermostSignedIn()
	w.rocketAliceByPAT()
	// A second Mattermost account that was never signed in.
	w.add(config.Account{Name: "mm-bob", Service: account.Mattermost, URL: w.sb.MattermostURL, User: mattermostsim.BobUsername})
	toks, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	if err != nil || len(toks) == 0 {
		t.Fatal(toks, err)
	}
	w.sb.Mattermost.Backdate(toks[0].ID, 10*day)
	inv, err := w.mgr.Inventory(ctx, account.InventoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(inv.Accounts) != 3 {
		t.Fatalf("accounts = %d, want 3", len(inv.Accounts))
	}
	for _, a := range inv.Accounts {
		switch a.Account {
		case "mm-bob":
			if !errors.Is(a.Err(), account.ErrNotSignedIn) || a.Error == "" || len(a.Tokens) != 0 {
				t.Errorf("mm-bob: error %q, %d tokens", a.Error, len(a.Tokens))
			}
		default:
			if a.Error != "" || len(a.Tokens) == 0 {
				t.Errorf("%s: error %q, %d tokens", a.Account, a.Error, len(a.Tokens))
			}
		}
	}
	cmd, _ := findToken(inv, "mm", toks[0].Ref.String())
	if cmd.Created == nil || cmd.Rotated == nil || time.Since(*cmd.Rotated) < 10*day || cmd.Stored || !cmd.OnServer || cmd.State != account.StateOK {
		t.Errorf("command before rotation: %+v", cmd)
	}
	pat, ok := findToken(inv, "rc", "pat:"+rocketchatsim.AlicePATName)
	if !ok || pat.Bypass2FA == nil || pat.Created == nil || time.Since(*pat.Rotated) < 300*day {
		t.Errorf("seeded PAT: %+v", pat)
	}
	// Once keyturn rotates it, it holds it and its age starts again.
	if _, err := w.mgr.Rotate(ctx, "mm", cmd.Ref, nil); err != nil {
		t.Fatal(err)
	}
	inv, err = w.mgr.Inventory(ctx, account.InventoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	after, _ := findToken(inv, "mm", cmd.RefString)
	if !after.Stored || after.Fingerprint == "" || after.Rotated == nil || time.Since(*after.Rotated) > time.Minute {
		t.Errorf("command after rotation: stored %v fp %q rotated %v (was %v)", after.Stored, after.Fingerprint, after.Rotated, cmd.Rotated)
	}
}

func TestInventoryAsksServersInParallel(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.mattermostSignedIn()
	w.rocketAliceByPAT()
	const hold = 1500 * time.Millisecond
	w.sb.Env.Faults.Add(simnet.Rule{Path: "/api/v4/users/me/teams", Fault: simnet.Slow, Delay: hold})
	w.sb.Env.Faults.Add(simnet.Rule{Path: "/api/v1/users.getPersonalAccessTokens", Fault: simnet.Slow, Delay: hold})
	start := time.Now()
	inv, err := w.mgr.Inventory(ctx, account.InventoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if took := time.Since(start); took >= 2*hold {
		t.Errorf("two accounts each held %v took %v: asked one after the other", hold, took)
	}
	for _, a := range inv.Accounts {
		if a.Error != "" {
			t.Errorf("%s: %s", a.Account, a.Error)
		}
	}
}

func TestInventoryKeepsStoredRowsWhenTheServerFails(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.mattermostSignedIn()
	toks, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	if err != nil || len(toks) == 0 {
		t.Fatal(toks, err)
	}
	if _, err := w.mgr.Rotate(ctx, "mm", toks[0].Ref, nil); err != nil {
		t.Fatal(err)
	}
	w.sb.Env.Faults.Add(simnet.Rule{Path: "/api/v4/users/me/teams", Fault: simnet.ErrorAfterApply})
	inv, err := w.mgr.Inventory(ctx, account.InventoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	a := inv.Accounts[0]
	if a.Error == "" || !strings.Contains(a.Error, "500") {
		t.Errorf("error = %q", a.Error)
	}
	got, ok := findToken(inv, "mm", toks[0].Ref.String())
	if !ok || got.OnServer || !got.Stored || got.Rotated == nil {
		t.Errorf("stored row: %+v (found %v)", got, ok)
	}
}

func TestCheckOverdueUntilRotated(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.mattermostSignedIn()
	if _, err := w.mgr.SetPolicy(ctx, account.KindCommand, "90d", ""); err != nil {
		t.Fatal(err)
	}
	toks, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	if err != nil || len(toks) < 2 {
		t.Fatal(toks, err)
	}
	old := toks[0]
	if !w.sb.Mattermost.Backdate(old.ID, 100*day) {
		t.Fatal("backdate")
	}
	// A second command is 85 days old: due within a 7-day window.
	if !w.sb.Mattermost.Backdate(toks[1].ID, 85*day) {
		t.Fatal("backdate")
	}
	_, found, err := w.mgr.Check(ctx, account.InventoryOptions{WarnWithin: 7 * day})
	if err != nil {
		t.Fatal(err)
	}
	states := map[string]string{}
	for _, f := range found {
		states[f.RefString] = f.State
	}
	if len(found) != 2 || states[old.Ref.String()] != account.StateOverdue || states[toks[1].Ref.String()] != account.StateDue {
		t.Fatalf("findings = %v", states)
	}
	if _, found, _ = w.mgr.Check(ctx, account.InventoryOptions{}); len(found) != 1 {
		t.Fatalf("with no window: %d findings, want the overdue one", len(found))
	}
	if _, err := w.mgr.Rotate(ctx, "mm", old.Ref, nil); err != nil {
		t.Fatal(err)
	}
	if _, found, _ = w.mgr.Check(ctx, account.InventoryOptions{}); len(found) != 0 {
		t.Fatalf("after rotating: %+v", found)
	}
}

func TestCheckExpiryOfMattermostUserTokens(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.mattermostSignedIn()
	iss, err := w.mgr.Create(ctx, "mm", "ci", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	_, ref, _ := account.ParseSecretName(iss.Name)
	w.sb.Mattermost.ExpireUserToken(ref.ID, time.Now().Add(3*day))
	inv, found, err := w.mgr.Check(ctx, account.InventoryOptions{WarnWithin: 7 * day})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := findToken(inv, "mm", ref.String())
	if got.Expires == nil || len(found) != 1 || found[0].State != account.StateExpiring {
		t.Fatalf("expiring in 3 days, window 7: %+v, findings %d", got, len(found))
	}
	if _, found, _ = w.mgr.Check(ctx, account.InventoryOptions{WarnWithin: day}); len(found) != 0 {
		t.Fatalf("window 1 day: %d findings", len(found))
	}
	w.sb.Mattermost.ExpireUserToken(ref.ID, time.Now().Add(-time.Hour))
	if _, found, _ = w.mgr.Check(ctx, account.InventoryOptions{}); len(found) != 1 || found[0].State != account.StateExpired {
		t.Fatalf("expired: %+v", found)
	}
}

func TestPolicyRulesAndErrors(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.rocketAliceByPAT()
	var ie *account.InputError
	if _, err := w.mgr.SetPolicy(ctx, "hook", "90d", ""); !errors.As(err, &ie) || !strings.Contains(err.Error(), "user-token, command, webhook, pat, session") {
		t.Errorf("bad kind: %v", err)
	}
	if _, err := w.mgr.SetPolicy(ctx, "pat", "90 days", ""); !errors.As(err, &ie) || !strings.Contains(err.Error(), "e.g. 90d") {
		t.Errorf("bad duration: %v", err)
	}
	if _, err := w.mgr.SetPolicy(ctx, "command", "90d", "rc"); !errors.As(err, &ie) || !strings.Contains(err.Error(), "rocketchat account") {
		t.Errorf("kind of another service: %v", err)
	}
	var na *account.NoAccountError
	if _, err := w.mgr.SetPolicy(ctx, "pat", "90d", "nope"); !errors.As(err, &na) {
		t.Errorf("unknown account: %v", err)
	}
	if _, err := w.mgr.SetPolicy(ctx, "pat", "2w", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.mgr.SetPolicy(ctx, "pat", "1000d", "rc"); err != nil {
		t.Fatal(err)
	}
	ps, err := w.mgr.Policies(ctx)
	if err != nil || len(ps) != 2 || ps[0].Account != "" || ps[0].Text != "14d" || ps[1].Account != "rc" {
		t.Fatalf("policies = %+v, %v", ps, err)
	}
	// The account's own policy wins: the year-old seeded PAT is not overdue.
	inv, err := w.mgr.Inventory(ctx, account.InventoryOptions{})
	if err != nil {
		t.Fatal(err)
	}
	pat, _ := findToken(inv, "rc", "pat:"+rocketchatsim.AlicePATName)
	if pat.MaxAge != "1000d" || pat.State != account.StateOK {
		t.Errorf("with rc's own policy: %+v", pat)
	}
	if err := w.mgr.UnsetPolicy(ctx, "pat", "rc"); err != nil {
		t.Fatal(err)
	}
	inv, _ = w.mgr.Inventory(ctx, account.InventoryOptions{})
	if pat, _ = findToken(inv, "rc", "pat:"+rocketchatsim.AlicePATName); pat.MaxAge != "14d" || pat.State != account.StateOverdue {
		t.Errorf("with the general policy: %+v", pat)
	}
	if err := w.mgr.UnsetPolicy(ctx, "pat", "rc"); err == nil || !strings.Contains(err.Error(), "no policy is set for pat tokens of rc") {
		t.Errorf("unset twice: %v", err)
	}
	// Removing an account removes its own policies, not the general ones.
	if _, err := w.mgr.SetPolicy(ctx, "pat", "30d", "rc"); err != nil {
		t.Fatal(err)
	}
	if err := w.mgr.Remove(ctx, "rc"); err != nil {
		t.Fatal(err)
	}
	if ps, _ := w.mgr.Policies(ctx); len(ps) != 1 || ps[0].Account != "" {
		t.Errorf("policies after removing rc: %+v", ps)
	}
}

func TestRotateAllOverdueRotatesOnlyTheOverdue(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.mattermostSignedIn()
	if _, err := w.mgr.SetPolicy(ctx, account.KindCommand, "30d", "mm"); err != nil {
		t.Fatal(err)
	}
	toks, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	if err != nil || len(toks) < 3 {
		t.Fatal(toks, err)
	}
	w.sb.Mattermost.Backdate(toks[0].ID, 40*day)
	w.sb.Mattermost.Backdate(toks[2].ID, 31*day)
	rep, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Overdue: true})
	if err != nil || !rep.AllOK() {
		t.Fatal(rep, err)
	}
	var refs []string
	for _, it := range rep.Items {
		refs = append(refs, it.Ref)
	}
	if len(refs) != 2 || !strings.Contains(strings.Join(refs, " "), toks[0].Ref.String()) || !strings.Contains(strings.Join(refs, " "), toks[2].Ref.String()) {
		t.Fatalf("rotated %v, want %s and %s", refs, toks[0].Ref, toks[2].Ref)
	}
	if _, found, _ := w.mgr.Check(ctx, account.InventoryOptions{}); len(found) != 0 {
		t.Fatalf("after rotating the overdue: %+v", found)
	}
	// Nothing overdue: nothing to do.
	if rep, err = w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Overdue: true}); err != nil || len(rep.Items) != 0 {
		t.Fatalf("second run: %+v, %v", rep, err)
	}
}

// A rotation of the overdue that lost its answer is resumed with the token
// still in it, though the server now shows a fresh createdAt: it stays
// unknown and is never sent again.
func TestRotateAllOverdueResumeKeepsTheUnsettledToken(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.add(config.Account{Name: "rc", Service: account.RocketChat, URL: w.sb.RocketChatURL, User: "alice"})
	req := account.LoginRequest{Account: "rc", Password: rocketchatsim.AlicePassword}
	_, err := w.mgr.Login(ctx, req)
	req.Answer = &account.Answer{Method: asChallenge(t, err).Method, Code: simnet.TOTPCode(rocketchatsim.AliceTOTP, time.Now())}
	if _, err := w.mgr.Login(ctx, req); err != nil {
		t.Fatal(err)
	}
	if _, err := w.mgr.SetPolicy(ctx, account.KindPAT, "30d", ""); err != nil {
		t.Fatal(err)
	}
	w.sb.Env.Faults.Add(simnet.Rule{Path: "users.regeneratePersonalAccessToken", Fault: simnet.DropAfterApply, Times: 1})
	ans := &account.Answer{Method: "totp", Code: simnet.TOTPCode(rocketchatsim.AliceTOTP, time.Now().Add(30*time.Second))}
	rep, err := w.mgr.RotateAll(ctx, "rc", account.BulkOptions{Overdue: true, Answer: ans})
	if err != nil || len(rep.Items) != 1 || rep.Items[0].Status != account.BulkUnknown {
		t.Fatalf("first run: %+v, %v", rep, err)
	}
	sent := len(w.issuedTokens("rocketchat", "pat"))
	// The server rotated it: its createdAt is new, so it is no longer overdue.
	if _, found, _ := w.mgr.Check(ctx, account.InventoryOptions{}); len(found) != 0 {
		t.Fatalf("still overdue after the server rotated it: %+v", found)
	}
	rep, err = w.mgr.RotateAll(ctx, "rc", account.BulkOptions{Overdue: true, Resume: true, Answer: ans})
	if err != nil || len(rep.Items) != 1 || rep.Items[0].Ref != "pat:"+rocketchatsim.AlicePATName || rep.Items[0].Status != account.BulkUnknown {
		t.Fatalf("resume: %+v, %v", rep, err)
	}
	if got := len(w.issuedTokens("rocketchat", "pat")); got != sent {
		t.Fatalf("the resume sent the PAT again (%d issued, was %d)", got, sent)
	}
}
