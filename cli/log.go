package cli

import (
	"fmt"
	"strconv"
	"time"

	"github.com/spf13/cobra"

	"keyturn/account"
	"keyturn/audit"
)

func init() { register(newLogCmd) }

type logOptions struct {
	account string
	since   string
	limit   int
	json    bool
}

func newLogCmd(app *App) *cobra.Command {
	var o logOptions
	cmd := &cobra.Command{
		Use:   "log",
		Short: "Show the audit log: what was done to which account and token, when, and how it ended",
		Long: `Every sign-in, sign-out, MFA change, token create, rotate, fetch and revoke, every
reveal, copy and exec of a stored secret, and every secret set or delete appends
one line to audit.jsonl beside the config file (mode 0600, fsynced per line,
rotated at 4 MiB into audit.jsonl.1 … .3): the time, the action, the account, the
token's REF and store name, the outcome (ok, failed, cancelled, unknown), the face
(cli, tui) and, for a command, its exit code. Never a value.`,
		Example: `  keyturn log --since 7d
  keyturn log --account work --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runLog(cmd, app, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.account, "account", "", "only this account's entries")
	f.StringVar(&o.since, "since", "", "only entries since this long ago (7d, 12h) or this time (2026-01-31, RFC 3339)")
	f.IntVar(&o.limit, "limit", 0, "only the newest N entries")
	f.BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

// parseSince reads --since: an age back from now, or a date or time.
func parseSince(s string, now time.Time) (time.Time, error) {
	if d, err := account.ParseAge(s); err == nil {
		return now.Add(-d), nil
	}
	if t, err := time.Parse(time.RFC3339, s); err == nil {
		return t, nil
	}
	if t, err := time.ParseInLocation(time.DateOnly, s, time.Local); err == nil {
		return t, nil
	}
	return time.Time{}, fmt.Errorf("--since %q: write an age (7d, 12h, 1h30m, 2w) or a time (2026-01-31 or 2026-01-31T09:00:00Z)", s)
}

func runLog(cmd *cobra.Command, app *App, o *logOptions) error {
	f := account.LogFilter{Account: o.account, Limit: o.limit}
	if o.limit < 0 {
		return usageError{fmt.Errorf("--limit %d: give a positive number", o.limit)}
	}
	if o.since != "" {
		t, err := parseSince(o.since, time.Now())
		if err != nil {
			return usageError{err}
		}
		f.Since = t
	}
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	entries, skipped, err := m.Log(ctx, f)
	if err != nil {
		return exitf(ExitFailure, "reading the audit log: %v", err)
	}
	if skipped > 0 {
		fmt.Fprintf(app.io.Err, "keyturn: %d line(s) of %s could not be read and were skipped\n", skipped, m.LogPath())
	}
	if o.json {
		if entries == nil {
			entries = []audit.Entry{}
		}
		return writeJSON(app.io.Out, entries)
	}
	if len(entries) == 0 {
		fmt.Fprintf(app.io.Err, "no entries in %s\n", m.LogPath())
		return nil
	}
	t := newTable(app.io.Out, "TIME", "ACTION", "ACCOUNT", "TOKEN", "OUTCOME", "EXIT", "FACE")
	for _, e := range entries {
		what := e.Ref
		if what == "" {
			what = e.Secret
		}
		exit := ""
		if e.Exit != nil {
			exit = strconv.Itoa(*e.Exit)
		}
		t.row(e.Time.Local().Format("2006-01-02 15:04:05"), e.Action, e.Account, what, e.Outcome, exit, e.Face)
	}
	return t.flush()
}
