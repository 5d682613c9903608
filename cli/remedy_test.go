package cli

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/client"
	"keyturn/keystore"
)

// Every way out reads as a command line in the CLI, with the account and
// ref it applies to; the error's own words hold none (account.RemedyFor is
// the table, shared with the TUI).
func TestHintRendersEveryRemedyAsACommand(t *testing.T) {
	api := func(status int) error { return &client.APIError{Service: "mattermost", Status: status} }
	cmd := account.Ref{Kind: account.KindCommand, ID: "abc"}
	wrap := func(r account.Remedy) error { return &account.RemedyError{Err: errors.New("x"), Remedy: r} }
	for _, c := range []struct {
		what, doing string
		err         error
		want        string
	}{
		{"429", "rotating command:abc", &client.RateLimitedError{Status: 429, RetryAfter: 2 * time.Second}, "wait 2s, then run the command again"},
		{"429 unsaid", "listing", &client.RateLimitedError{Status: 429}, "wait a little, then run the command again"},
		{"unreachable", "listing", &client.TransportError{Err: errors.New("refused")}, "'keyturn account show mm'"},
		{"sent, no answer", "listing", &client.TransportError{MayHaveReached: true, Err: errors.New("EOF")}, "Check the server's state before trying again"},
		{"401", "listing", fmt.Errorf("listing: %w", api(401)), "Sign in with 'keyturn login mm'"},
		{"503", "listing", api(503), "try again later"},
		{"proxy page", "listing", &client.BadResponseError{Status: 502}, "'keyturn account show mm'"},
		{"locked keyring", "saving", &keystore.StoreError{Backend: "keyring", Other: keystore.KindFile, Err: keystore.ErrUnavailable}, "Or use --store file"},
		{"too large", "saving", &keystore.StoreError{Backend: "keyring", Other: keystore.KindFile, Err: keystore.ErrTooLarge}, "Use --store file"},
		{"not signed in", "listing", wrap(account.Remedy{Action: account.SignIn, Account: "rc"}), "Sign in with 'keyturn login rc'"},
		{"fetch", "rotating", wrap(account.Remedy{Action: account.Fetch, Account: "mm", Ref: cmd}), "'keyturn token fetch mm command:abc'"},
		{"rotate", "revoking", wrap(account.Remedy{Action: account.Rotate, Account: "mm", Ref: cmd}), "'keyturn token rotate mm command:abc'"},
		{"ref gone", "revoking", wrap(account.Remedy{Action: account.CheckRef, Account: "mm"}), "Check the REF against 'keyturn token list mm'"},
		{"brand", "adding", wrap(account.Remedy{Action: account.UseFlag, Flag: "--brand"}), "--brand"},
		{"no accounts", "", &account.NoAccountError{Name: "x"}, "'keyturn account add'"},
		{"name taken", "adding", wrap(account.Remedy{Action: account.RemoveAccount, Account: "mm"}), "'keyturn account remove mm'"},
		{"mfa on", "setting up MFA", wrap(account.Remedy{Action: account.DisableMFA, Account: "rc"}), "'keyturn mfa disable rc --code C'"},
	} {
		got := hint(c.err, "mm", c.doing)
		if !strings.Contains(got, c.want) {
			t.Errorf("%s: hint = %q, want %q in it", c.what, got, c.want)
		}
	}
	// No action is left without words.
	for _, a := range account.RemedyActions() {
		if got := remedyLine(account.Remedy{Action: a, Account: "mm", Ref: cmd, Flag: "--brand"}); got == "" {
			t.Errorf("action %d renders as nothing", a)
		}
	}
}
