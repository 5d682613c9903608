package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"keyturn/account"
	"keyturn/client"
	"keyturn/keystore"
)

// explain turns an operation's error into what the person reads on stderr,
// with the exit code the issue gives it: it names the account and its
// server, what failed, and what to do next. doing is what was being done
// ("signing in", "rotating command:abc"); acct is the account's name.
func (a *App) explain(ctx context.Context, err error, doing, acct string) error {
	if err == nil {
		return nil
	}
	var ee *ExitError
	var ue usageError
	if errors.As(err, &ee) || errors.As(err, &ue) {
		return err
	}
	where := acct
	if acct != "" {
		where = a.accountLabel(ctx, acct)
	}
	prefix := doing
	if where != "" {
		prefix = doing + " (" + where + ")"
	}

	var nse *account.NotStoredError
	var uo *account.UnknownOutcomeError
	var ch *account.Challenge
	var na *account.NoAccountError
	var ie *account.InputError
	switch {
	case errors.As(err, &ie):
		return usageError{err}
	case errors.As(err, &nse):
		return exitf(ExitNotStored, "%s: %v", prefix, err)
	case errors.As(err, &uo):
		return exitf(ExitUnknownState, "%s: %v", prefix, err)
	case errors.As(err, &ch):
		return exitf(ExitNeedCode, "%s", challengeText(where, ch))
	case errors.As(err, &na):
		return exitf(ExitFailure, "%v", err)
	}
	return exitf(ExitFailure, "%s: %v%s", prefix, err, hint(err, acct, doing))
}

// hint is what to do next for the errors that do not say it themselves.
func hint(err error, acct, doing string) string {
	var rl *client.RateLimitedError
	var te *client.TransportError
	var ae *client.APIError
	var be *client.BadResponseError
	var se *keystore.StoreError
	switch {
	case errors.As(err, &rl):
		if rl.RetryAfter > 0 {
			return fmt.Sprintf(". The server limits requests: wait %s, then run the command again", rl.RetryAfter.Round(time.Second))
		}
		return ". The server limits requests: wait a little, then run the command again"
	case errors.As(err, &te):
		if te.Canceled {
			return ""
		}
		if te.MayHaveReached {
			return ". Check the server's state before trying again"
		}
		return fmt.Sprintf(". Check that the server is reachable and its URL is right ('keyturn account show %s')", acct)
	case errors.As(err, &ae):
		if ae.Unauthorized() && acct != "" && !strings.Contains(err.Error(), "keyturn login") {
			return fmt.Sprintf(". Sign in again with 'keyturn login %s'", acct)
		}
		if ae.Status >= 500 {
			return ". The server failed: try again later"
		}
		if (ae.Status == 400 || ae.Status == 404) && (strings.HasPrefix(doing, "rotating ") || strings.HasPrefix(doing, "revoking ")) {
			return fmt.Sprintf(". Check the REF against 'keyturn token list %s'", acct)
		}
	case errors.As(err, &be):
		return ". Is the URL right, or is a proxy in the way? ('keyturn account show " + acct + "')"
	case errors.As(err, &se):
		// StoreError carries its own way out.
	}
	return ""
}

// accountLabel is "NAME, SERVICE at URL" for messages, or NAME when the
// account is unknown. It reads the config only, never the store.
func (a *App) accountLabel(ctx context.Context, name string) string {
	if a.mgr == nil {
		return name
	}
	list, err := a.mgr.List(ctx)
	if err != nil {
		return name
	}
	for _, st := range list {
		if st.Name == name {
			return fmt.Sprintf("%s, %s at %s", name, account.ServiceName(st.Service), st.URL)
		}
	}
	return name
}

// accountStatus reads one account from the config, without the store.
func (a *App) accountStatus(ctx context.Context, m *account.Manager, name string) (*account.Status, error) {
	list, err := m.List(ctx)
	if err != nil {
		return nil, err
	}
	var known []string
	for i := range list {
		if list[i].Name == name {
			return &list[i], nil
		}
		known = append(known, list[i].Name)
	}
	return nil, &account.NoAccountError{Name: name, Known: known}
}
