package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"keyturn/account"
)

func init() {
	register(newStatusCmd)
	register(newCheckCmd)
}

// inventoryFlags are what status and check share.
type inventoryFlags struct {
	account string
	warn    string
	json    bool
}

func (f *inventoryFlags) register(cmd *cobra.Command) {
	cmd.Flags().StringVar(&f.account, "account", "", "only this account")
	cmd.Flags().StringVar(&f.warn, "warn-within", "7d", "count tokens that expire or fall due within this time (e.g. 7d, 12h, 2w)")
	cmd.Flags().BoolVar(&f.json, "json", false, "print JSON")
}

// options reads the flags: which account, and the warning window.
func (f *inventoryFlags) options() (account.InventoryOptions, error) {
	d, err := account.ParseAge(f.warn)
	if err != nil {
		return account.InventoryOptions{}, usageError{fmt.Errorf("--warn-within: %v", err)}
	}
	return account.InventoryOptions{Account: f.account, WarnWithin: d}, nil
}

func newStatusCmd(app *App) *cobra.Command {
	var f inventoryFlags
	cmd := &cobra.Command{
		Use:   "status",
		Short: "Every token on every account: age, expiry, policy, whether keyturn holds it",
		Long: `Lists every token keyturn can see on every account (never a value): its kind and
label, when its current value was issued (ROTATED: the server's date, or when keyturn
stored it, whichever is later), its expiry where the server has one, the policy's
deadline, and whether keyturn holds it. Rocket.Chat PATs that bypass two-factor are
flagged. Accounts are asked in parallel; an account that cannot be asked shows its
error on its own line, with the tokens the store holds for it, and the others are
listed all the same (exit 1 then).`,
		Example: `  keyturn status
  keyturn status --account work-mm --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runStatus(cmd, app, &f)
		},
	}
	f.register(cmd)
	return cmd
}

func runStatus(cmd *cobra.Command, app *App, f *inventoryFlags) error {
	opts, err := f.options()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	inv, err := m.Inventory(ctx, opts)
	if err != nil {
		return app.explain(ctx, err, "listing tokens", f.account)
	}
	if f.json {
		if err := writeJSON(app.io.Out, inv); err != nil {
			return err
		}
	} else {
		printInventory(app, inv)
	}
	return accountFailures(inv)
}

func printInventory(app *App, inv *account.Inventory) {
	if len(inv.Accounts) == 0 {
		fmt.Fprintln(app.io.Err, "no accounts; add one with 'keyturn account add'")
		return
	}
	t := newTable(app.io.Out, "ACCOUNT", "REF", "LABEL", "ROTATED", "EXPIRES", "DUE", "HELD", "STATE")
	for _, a := range inv.Accounts {
		if a.Error != "" {
			t.row(a.Account, "ERROR", "", "", "", "", "", a.Error)
		}
		for _, tk := range a.Tokens {
			t.row(a.Account, tk.RefString, tk.Label, age(tk.Rotated, inv.Time), when(tk.Expires, inv.Time), when(tk.Due, inv.Time),
				held(tk), stateText(tk))
		}
	}
	_ = t.flush()
}

// age is how long ago t was, roughly.
func age(t *time.Time, now time.Time) string {
	if t == nil {
		return ""
	}
	if d := now.Sub(*t); d > 0 {
		return roughDuration(d) + " ago"
	}
	return "now"
}

func held(tk account.InventoryToken) string {
	if !tk.Stored {
		return "no"
	}
	if tk.Fingerprint != "" {
		return "yes (…" + tk.Fingerprint + ")"
	}
	return "yes"
}

// stateText is the state with what else the person should notice.
func stateText(tk account.InventoryToken) string {
	parts := []string{tk.State}
	if tk.Bypass2FA != nil && *tk.Bypass2FA {
		parts = append(parts, "BYPASSES 2FA")
	}
	if tk.Active != nil && !*tk.Active {
		parts = append(parts, "inactive")
	}
	if !tk.OnServer {
		parts = append(parts, "not listed by the server")
	}
	return strings.Join(parts, ", ")
}

// accountFailures is exit 1 naming the accounts that could not be asked.
func accountFailures(inv *account.Inventory) error {
	var failed []string
	for _, a := range inv.Accounts {
		if a.Error != "" {
			failed = append(failed, a.Account)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	return exitf(ExitFailure, "could not list the tokens of %s (see the ERROR rows)", strings.Join(failed, ", "))
}

func newCheckCmd(app *App) *cobra.Command {
	var f inventoryFlags
	cmd := &cobra.Command{
		Use:   "check",
		Short: "List tokens that are overdue, expired or expiring; exit 6 when there is any",
		Long: `Lists every token that is past its server's expiry (expired), older than its policy
allows (overdue, see 'keyturn policy'), or expiring or falling due within
--warn-within (expiring, due). For cron and CI: exit 6 when there is any, 0 when
there is none, 1 when an account could not be asked and nothing was found.
A Capillary session lives 15 minutes and is made again from the stored key, so
its expiry is never counted.`,
		Example: `  keyturn check
  keyturn check --warn-within 14d --json`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runCheck(cmd, app, &f)
		},
	}
	f.register(cmd)
	return cmd
}

// checkJSON is check's --json report.
type checkJSON struct {
	Time       time.Time                `json:"time"`
	WarnWithin string                   `json:"warn_within"`
	Tokens     []account.InventoryToken `json:"tokens"`
	Errors     []accountErrorJSON       `json:"errors,omitempty"`
}

type accountErrorJSON struct {
	Account string `json:"account"`
	Error   string `json:"error"`
}

func runCheck(cmd *cobra.Command, app *App, f *inventoryFlags) error {
	opts, err := f.options()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	inv, found, err := m.Check(ctx, opts)
	if err != nil {
		return app.explain(ctx, err, "checking tokens", f.account)
	}
	if f.json {
		rep := checkJSON{Time: inv.Time, WarnWithin: inv.WarnWithin, Tokens: found}
		if rep.Tokens == nil {
			rep.Tokens = []account.InventoryToken{}
		}
		for _, a := range inv.Accounts {
			if a.Error != "" {
				rep.Errors = append(rep.Errors, accountErrorJSON{Account: a.Account, Error: a.Error})
			}
		}
		if err := writeJSON(app.io.Out, rep); err != nil {
			return err
		}
	} else if len(found) > 0 {
		t := newTable(app.io.Out, "ACCOUNT", "REF", "LABEL", "STATE", "WHEN", "FIX")
		for _, tk := range found {
			t.row(tk.Account, tk.RefString, tk.Label, tk.State, checkWhen(tk, inv.Time), "keyturn token rotate "+account.ShellArg(tk.Account)+" "+account.ShellArg(tk.RefString))
		}
		_ = t.flush()
	}
	for _, a := range inv.Accounts {
		if a.Error != "" && !f.json {
			fmt.Fprintf(app.io.Err, "keyturn: %s\n", a.Error)
		}
	}
	if len(found) > 0 {
		return &ExitError{Code: ExitAttention, Err: fmt.Errorf("%d token(s) need rotating or renewing", len(found))}
	}
	if err := accountFailures(inv); err != nil {
		return err
	}
	if !f.json {
		fmt.Fprintf(app.io.Err, "nothing overdue, expired or expiring within %s\n", inv.WarnWithin)
	}
	return nil
}

// checkWhen is the date that makes a token a finding.
func checkWhen(tk account.InventoryToken, now time.Time) string {
	switch tk.State {
	case account.StateExpired, account.StateExpiring:
		return when(tk.Expires, now)
	}
	return when(tk.Due, now)
}
