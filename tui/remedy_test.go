package tui

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"keyturn/sandbox/mattermostsim"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/client"
	"keyturn/keystore"
	"keyturn/sandbox/simnet"
)

// Every error with a way out shows it on the banner as a key that works
// here (or names the screen's key), the same table the CLI renders as a
// command line (account.RemedyFor).
func TestBannerOffersEveryWayOut(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	api := func(status int) error {
		return fmt.Errorf("listing: %w", &client.APIError{Service: "mattermost", Status: status})
	}
	cmd := account.Ref{Kind: account.KindCommand, ID: "abc"}
	wrap := func(r account.Remedy) error { return &account.RemedyError{Err: errors.New("x"), Remedy: r} }
	for _, c := range []struct {
		what string
		err  error
		want string
	}{
		{"429 with Retry-After", &client.RateLimitedError{Status: 429, RetryAfter: 12 * time.Second}, "wait 12s"},
		{"429", &client.RateLimitedError{Status: 429}, "wait a little"},
		{"unreachable", &client.TransportError{Err: errors.New("connection refused")}, "ctrl+r tries again"},
		{"sent, no answer", &client.TransportError{MayHaveReached: true, Err: errors.New("EOF")}, "ctrl+r shows the server's state"},
		{"401", api(401), "s sign in to mm"},
		{"503", api(503), "try again later"},
		{"proxy page", &client.BadResponseError{Status: 502}, "its URL"},
		{"locked keyring", &keystore.StoreError{Backend: "keyring", Other: keystore.KindFile, Err: keystore.ErrUnavailable}, "--store file"},
		{"not signed in to another", wrap(account.Remedy{Action: account.SignIn, Account: "rc"}), "s sign in to rc"},
		{"fetch", wrap(account.Remedy{Action: account.Fetch, Account: "mm", Ref: cmd}), "f fetch the token the server holds now"},
		{"rotate", wrap(account.Remedy{Action: account.Rotate, Account: "mm", Ref: cmd}), "r on the token rotates it"},
		{"ref gone", wrap(account.Remedy{Action: account.CheckRef, Account: "mm"}), "ctrl+r refreshes the token list"},
	} {
		h.m.showError("It failed", c.err)
		if s := h.flat(); !strings.Contains(s, "What to do: "+c.want) && !strings.Contains(s, c.want) {
			t.Errorf("%s: the banner lacks %q:\n%s", c.what, c.want, h.dump())
		}
		h.press("esc")
	}
	for _, a := range account.RemedyActions() {
		if got := h.m.remedyText(account.Remedy{Action: a, Account: "mm", Ref: cmd, Flag: "--brand"}); got == "" {
			t.Errorf("action %d has no words in the TUI", a)
		}
	}
}

// A 429 from the server shows how long to wait.
func TestBannerRateLimitedSaysHowLongToWait(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.cursorTo("/deploy")
	h.sb.Env.Faults.Add(simnet.Rule{Method: "PUT", Path: "regen_token", Fault: simnet.RateLimit, Times: 1, RetryAfter: 12})
	h.press("r", "y")
	h.says("✗ Could not rotate slash command /deploy", "rate limited", "wait 12s")
}

// A credential the server no longer accepts (401) offers s, and s opens
// the sign-in for that account.
func TestBanner401SignInKeyOpensSignIn(t *testing.T) {
	mem := keystore.NewMemory()
	h := newHarness(t, harnessOpts{backend: mem})
	h.signInMattermost()
	ctx := context.Background()
	raw, err := mem.Get(ctx, "mm/credential")
	if err != nil {
		t.Fatal(err)
	}
	var c map[string]any
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		t.Fatal(err)
	}
	c["token"] = "a-token-the-server-never-issued"
	b, _ := json.Marshal(c)
	if err := mem.Set(ctx, "mm/credential", string(b)); err != nil {
		t.Fatal(err)
	}
	h.press("ctrl+r")
	h.says("✗ Cannot list the tokens of mm", "401", "s sign in to mm")
	h.press("s")
	h.says("Sign in · mm")
	if h.m.banner != nil {
		t.Error("the banner stays after its key was used")
	}
}

// After a regeneration with no answer, f on the banner stores the token
// the server holds now for that very command, wherever the cursor is.
func TestBannerFetchKeyFetchesTheRef(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.cursorTo("/deploy")
	h.sb.Env.Faults.Add(simnet.Rule{Path: "regen_token", Fault: simnet.DropAfterApply, Times: 1})
	before := len(h.ledgerOf("command"))
	h.press("r", "y")
	h.says("✗ Could not rotate slash command /deploy", "f fetch the token the server holds now")
	for range 12 {
		h.press("up") // off the token: f must not depend on the cursor
	}
	h.press("f")
	h.says("Current", "✓ Saved to the memory store")
	iss := h.m.topDialog().(*resultDialog).iss
	ledger := h.ledgerOf("command")
	if len(ledger) != before+1 || iss.Value != ledger[len(ledger)-1].Token {
		t.Fatal("f must store the token the server holds now, without a regeneration")
	}
}

// A dialog's error line carries the way out too, naming the screen's key:
// the dialog's own keys mean other things (s saves again in a result).
func TestDialogErrorsNameTheirWayOut(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	for _, c := range []struct {
		err  error
		want string
	}{
		{&account.RemedyError{Err: errors.New("rc: not signed in"), Remedy: account.Remedy{Action: account.SignIn, Account: "rc"}},
			"rc: not signed in. s on rc signs in."},
		{&account.RemedyError{Err: errors.New("an account named \"mm\" exists already"), Remedy: account.Remedy{Action: account.RemoveAccount, Account: "mm"}},
			"an account named \"mm\" exists already. Pick another name, or remove mm first (d on the account list)."},
		{&keystore.StoreError{Backend: "keyring", Op: "set", Cause: "timed out", Hint: "unlock your keyring", Other: keystore.KindFile, Err: keystore.ErrUnavailable},
			"keyring store: set: timed out; unlock your keyring. Or restart keyturn with --store file."},
		{errors.New("plain."), "plain."},
	} {
		if got := h.m.errText(c.err); got != c.want {
			t.Errorf("errText = %q\nwant      %q", got, c.want)
		}
	}
}

// A regeneration that left the old token active says how to revoke it in
// the result, with the screen's key, not a command line.
func TestResultNamesTheRevokeOfTheOldToken(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	// Before 11.10 a rotation makes a new token and revokes the old one.
	h.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.OlderServer = true })
	h.signInMattermost()
	h.press("n")
	h.typeText("CI deploys")
	h.press("enter")
	h.says("New user access token")
	h.press("enter")
	h.cursorTo("CI deploys")
	h.sb.Env.Faults.Add(simnet.Rule{Path: "users/tokens/revoke", Fault: simnet.ErrorAfterApply, Times: 1})
	h.press("r", "y")
	h.says("New user access token", "could not be revoked", "x on the old token revokes it")
	h.lacks("keyturn token revoke")
}

// On the account list a 401 names no account: the banner names the list's
// own key, which signs in to the account under the cursor.
func TestBanner401OnTheListNamesTheListKey(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.selectAccount(rcAcct)
	h.m.showError("It failed", &client.APIError{Service: "rocketchat", Status: 401})
	h.says("What to do: s on the account signs in")
	h.press("s")
	h.says("Sign in · rc")
}

// The banner says what happened in keyturn's words; the server's error id
// and message come on a detail line of their own (issue 16, item 6).
func TestBannerSaysWhatHappenedWithTheServersWordsApart(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	_, err := h.mgr.Login(context.Background(), account.LoginRequest{Account: mmAcct, Password: "wrong"})
	if err == nil {
		t.Fatal("a wrong password signed in")
	}
	h.m.showError("Sign-in to "+mmAcct+" failed", err)
	what, detail := -1, -1
	for i, l := range strings.Split(h.screen(), "\n") {
		if strings.Contains(l, "The server did not accept the user name or password.") {
			what = i
			if strings.Contains(l, "api.user.login") {
				t.Fatalf("the server's id is in the sentence: %q", l)
			}
		}
		if strings.Contains(l, "api.user.login.invalid_credentials_email_username") {
			detail = i
		}
	}
	if what < 0 || detail <= what {
		t.Fatalf("want the words, then the server's id on a later line:\n%s", h.dump())
	}
}
