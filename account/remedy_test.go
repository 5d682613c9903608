package account_test

import (
	"context"
	"errors"
	"fmt"
	"keyturn/sandbox/mattermostsim"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/client"
	"keyturn/config"
	"keyturn/keystore"
	"keyturn/sandbox/capillarysim"
	"keyturn/sandbox/simnet"
)

// Errors from account operations carry their way out as data: the message
// has no command line in it (the TUI would show it verbatim), and
// RemedyFor gives the action with the account and ref it applies to.
func TestErrorsCarryTheirRemedyAsData(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	w.add(config.Account{Name: "rc", Service: account.RocketChat, URL: w.sb.RocketChatURL, User: "alice"})
	cmd := account.Ref{Kind: account.KindCommand, ID: "abc"}

	_, notSignedIn := w.mgr.Tokens(ctx, "rc", account.ListFilter{})
	revokeCmd := w.mgr.Revoke(ctx, "mm", cmd, nil)
	_, noBrand := w.mgr.Add(ctx, config.Account{Name: "cap", Service: account.Capillary, URL: w.sb.CapillaryURL,
		DeviceID: capillarysim.SeedDeviceID, IdentifierType: "MOBILE", Identifier: capillarysim.BobMobile})
	_, noAccount := account.New(config.Open(t.TempDir()+"/c.json"), keystore.NewVault(keystore.NewMemory(), nil),
		account.Options{}).Tokens(ctx, "ghost", account.ListFilter{})
	_, gone := w.mgr.Rotate(ctx, "mm", account.Ref{Kind: account.KindUserToken, ID: "no-such-token-id"}, nil)
	if err := w.store.Inner.Set(ctx, "mm/credential", "not json"); err != nil {
		t.Fatal(err)
	}
	_, damaged := w.mgr.Tokens(ctx, "mm", account.ListFilter{})

	for _, c := range []struct {
		what string
		err  error
		want account.Remedy
	}{
		{"not signed in", notSignedIn, account.Remedy{Action: account.SignIn, Account: "rc"}},
		{"damaged credential", damaged, account.Remedy{Action: account.SignIn, Account: "mm"}},
		{"revoke a command token", revokeCmd, account.Remedy{Action: account.Rotate, Account: "mm", Ref: cmd}},
		{"capillary without a brand", noBrand, account.Remedy{Action: account.UseFlag, Flag: "--brand"}},
		{"no accounts at all", noAccount, account.Remedy{Action: account.AddAccount}},
		{"rotate a token the server does not have", gone, account.Remedy{Action: account.CheckRef, Account: "mm"}},
	} {
		if c.err == nil {
			t.Errorf("%s: no error", c.what)
			continue
		}
		if strings.Contains(c.err.Error(), "keyturn ") || strings.Contains(c.err.Error(), "--") {
			t.Errorf("%s: the message holds command-line text: %q", c.what, c.err)
		}
		got, ok := account.RemedyFor(c.err)
		if !ok || got != c.want {
			t.Errorf("%s: RemedyFor(%q) = %+v, %v; want %+v", c.what, c.err, got, ok, c.want)
		}
	}
}

// The client's and the store's errors imply their way out; RemedyFor is
// the one table both faces read it from.
func TestRemedyForClientAndStoreErrors(t *testing.T) {
	api := func(status int) error {
		return fmt.Errorf("listing: %w", &client.APIError{Service: "mattermost", Status: status})
	}
	for _, c := range []struct {
		what string
		err  error
		want account.Remedy
	}{
		{"429 with Retry-After", &client.RateLimitedError{Status: 429, RetryAfter: 12 * time.Second},
			account.Remedy{Action: account.Wait, After: 12 * time.Second}},
		{"429 without", &client.RateLimitedError{Status: 429}, account.Remedy{Action: account.Wait}},
		{"unreachable", &client.TransportError{Err: errors.New("connection refused")}, account.Remedy{Action: account.CheckServer}},
		{"sent, no answer", &client.TransportError{MayHaveReached: true, Err: errors.New("EOF")}, account.Remedy{Action: account.CheckState}},
		{"401", api(401), account.Remedy{Action: account.SignIn}},
		{"503", api(503), account.Remedy{Action: account.TryLater}},
		{"proxy page", &client.BadResponseError{Status: 502}, account.Remedy{Action: account.CheckServer}},
		{"locked keyring", &keystore.StoreError{Backend: "keyring", Other: keystore.KindFile, Err: keystore.ErrUnavailable},
			account.Remedy{Action: account.UnlockStore, Flag: "--store file"}},
		{"too large for the keyring", &keystore.StoreError{Backend: "keyring", Other: keystore.KindFile, Err: keystore.ErrTooLarge},
			account.Remedy{Action: account.UseFlag, Flag: "--store file"}},
		{"unknown outcome of a command regen", &account.UnknownOutcomeError{Account: "mm", Ref: account.Ref{Kind: account.KindCommand, ID: "x"},
			Remedy: account.Remedy{Action: account.Fetch, Account: "mm", Ref: account.Ref{Kind: account.KindCommand, ID: "x"}}},
			account.Remedy{Action: account.Fetch, Account: "mm", Ref: account.Ref{Kind: account.KindCommand, ID: "x"}}},
		{"interrupted run", &account.InterruptedRunError{Ref: "command:x", Journal: "/j"}, account.Remedy{Action: account.Resume}},
	} {
		if strings.Contains(c.err.Error(), "--") {
			t.Errorf("%s: the message holds a flag: %q", c.what, c.err)
		}
		got, ok := account.RemedyFor(c.err)
		got.Until = time.Time{} // a wall-clock time; After is what the server said
		if !ok || got != c.want {
			t.Errorf("%s: RemedyFor = %+v, %v; want %+v", c.what, got, ok, c.want)
		}
	}
	for _, err := range []error{nil, errors.New("plain"), &client.TransportError{Canceled: true, Err: context.Canceled}, api(403)} {
		if r, ok := account.RemedyFor(err); ok {
			t.Errorf("RemedyFor(%v) = %+v, want none", err, r)
		}
	}
}

// A rotation whose old token could not be revoked says so in its notes and
// carries the revoke as its next step, with no command line in the words.
func TestRotationNotesCarryTheRevokeAsData(t *testing.T) {
	w := newWorld(t)
	// Before 11.10 a rotation makes a new token and revokes the old one.
	w.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.OlderServer = true })
	w.mattermostSignedIn()
	ctx := context.Background()
	first, err := w.mgr.Create(ctx, "mm", "ci-bot", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	oldRef, _ := account.ParseRef(first.Ref)
	w.sb.Env.Faults.Add(simnet.Rule{Path: "users/tokens/revoke", Fault: simnet.ErrorAfterApply, Times: 1})
	iss, err := w.mgr.Rotate(ctx, "mm", oldRef, nil)
	if err != nil {
		t.Fatal(err)
	}
	notes := strings.Join(iss.Notes, "\n")
	if !strings.Contains(notes, "could not be revoked") || strings.Contains(notes, "keyturn token") {
		t.Errorf("notes: %q", notes)
	}
	want := account.Remedy{Action: account.Revoke, Account: "mm", Ref: oldRef}
	if len(iss.Next) != 1 || iss.Next[0] != want {
		t.Errorf("Next = %+v, want [%+v]", iss.Next, want)
	}
}
