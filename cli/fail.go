package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"keyturn/account"
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
		return exitf(ExitUnknownState, "%s: %v%s", prefix, err, hint(err, acct, doing))
	case errors.As(err, &ch):
		return exitf(ExitNeedCode, "%s", challengeText(where, ch))
	case errors.As(err, &na):
		return exitf(ExitFailure, "%v%s", err, hint(err, "", doing))
	}
	said := account.Explain(err)
	if said.Detail == "" {
		return exitf(ExitFailure, "%s: %v%s", prefix, err, hint(err, acct, doing))
	}
	// keyturn's words first, the server's own (its error id) on a line
	// of their own.
	return exitf(ExitFailure, "%s: %s%s\n  %s", prefix, strings.TrimSuffix(said.What, "."), hint(err, acct, doing), said.Detail)
}

// hint is what to do next, as a command line: the remedy the error carries
// or implies (account.RemedyFor), for acct when the error names no account.
func hint(err error, acct, doing string) string {
	r, ok := account.RemedyFor(err)
	if !ok {
		return ""
	}
	if r.Account == "" {
		r.Account = acct
	}
	return ". " + remedyLine(r)
}

// remedyLine is a remedy in the CLI's words: the command to run.
func remedyLine(r account.Remedy) string {
	name := r.Account
	if name == "" {
		name = "ACCOUNT"
	}
	switch r.Action {
	case account.SignIn:
		if r.Flag != "" {
			return fmt.Sprintf("Sign in with 'keyturn login %s %s'", name, r.Flag)
		}
		return fmt.Sprintf("Sign in with 'keyturn login %s'", name)
	case account.Fetch:
		return fmt.Sprintf("'keyturn token fetch %s %s' saves the token the server holds now, without rotating it again", name, account.ShellArg(r.Ref.String()))
	case account.Rotate:
		return fmt.Sprintf("Rotate it with 'keyturn token rotate %s %s'", name, account.ShellArg(r.Ref.String()))
	case account.CheckRef:
		if r.Ref.Kind != "" {
			return fmt.Sprintf("See 'keyturn token list %s --kind %s'", name, r.Ref.Kind)
		}
		return fmt.Sprintf("Check the REF against 'keyturn token list %s'", name)
	case account.CheckServer:
		return fmt.Sprintf("Check that the server is up, with no proxy in the way, and that its URL is right ('keyturn account show %s'; 'keyturn account edit %s --url URL' fixes it)", name, name)
	case account.CheckState:
		return "Check the server's state before trying again"
	case account.Wait:
		if r.After > 0 {
			return fmt.Sprintf("The server limits requests: wait %s, then run the command again", r.After.Round(time.Second))
		}
		return "The server limits requests: wait a little, then run the command again"
	case account.TryLater:
		return "The server failed: try again later"
	case account.UnlockStore:
		if r.Flag != "" {
			return "Or use " + r.Flag // the store's error says how to unlock it
		}
		return "Unlock the store, then run the command again"
	case account.UseFlag:
		return "Use " + r.Flag
	case account.AddAccount:
		return "Add one with 'keyturn account add'"
	case account.RemoveAccount:
		return fmt.Sprintf("Pick another name, or remove that account first with 'keyturn account remove %s'", name)
	case account.Resume:
		return "Run the same command again with --resume to finish it"
	case account.Revoke:
		return fmt.Sprintf("Revoke it with 'keyturn token revoke %s %s'", name, account.ShellArg(r.Ref.String()))
	case account.DisableMFA:
		return fmt.Sprintf("Disable it with 'keyturn mfa disable %s --code C'", name)
	case account.Expire:
		if r.After > 0 {
			return "Add --expires-in " + account.FormatAge(r.After) + " (the server's maximum) or less"
		}
		return "Add --expires-in with a shorter lifetime (e.g. --expires-in 30d)"
	case account.Deliver:
		return fmt.Sprintf("Fix the consumer, then hand it the stored token with 'keyturn deliver %s'", account.SecretName(name, r.Ref))
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
