package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"keyturn/account"
	"keyturn/config"
	"keyturn/keystore"
	"keyturn/textsafe"
)

func init() { register(newSecretCmd) }

// maxSecretInput caps what `secret set` reads from stdin.
const maxSecretInput = 1 << 20

func newSecretCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "secret",
		Short: "List, get, set and delete stored secrets",
		Long: `Secrets are the credentials keyturn signs in with and the tokens it issued, kept
in the store (--store keyring|file). The index of their names and metadata lives in
the config file; values never do. These commands work on the store directly: they
do not revoke or create anything on a server.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newSecretListCmd(app), newSecretGetCmd(app), newSecretSetCmd(app), newSecretDeleteCmd(app))
	return cmd
}

// secretFailure turns a store error into an exit error (not found gets a hint).
func secretFailure(v *keystore.Vault, name, doing string, err error) error {
	if errors.Is(err, keystore.ErrNotFound) {
		return exitf(ExitFailure, "secret %s is not in the %s store; see 'keyturn secret list'", name, v.Backend())
	}
	var se *keystore.StoreError
	if errors.As(err, &se) {
		return exitf(ExitFailure, "%v", err) // names the store, the operation and the secret
	}
	return exitf(ExitFailure, "%s %s: %v", doing, name, err)
}

type secretListOptions struct {
	json    bool
	noCheck bool
}

func newSecretListCmd(app *App) *cobra.Command {
	var o secretListOptions
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List stored secrets: names and metadata, never values",
		Long: `Lists the index of stored secrets. Each name is also looked up in the store, and
one whose value has gone is shown as MISSING (use --no-check to read the index only).
With --store pass, the secrets teammates added are listed too ("not indexed here").`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSecretList(cmd, app, &o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	cmd.Flags().BoolVar(&o.noCheck, "no-check", false, "do not ask the store whether each secret is still there")
	return cmd
}

func runSecretList(cmd *cobra.Command, app *App, o *secretListOptions) error {
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	v := m.Vault()
	if !o.noCheck {
		repairIndex(ctx, app, m)
	}
	list, err := v.List(ctx, !o.noCheck)
	var checkErr error
	if err != nil && !o.noCheck {
		// The store could not be asked: still show the index, say so, fail.
		checkErr = err
		list, err = v.List(ctx, false)
	}
	if err != nil {
		return exitf(ExitFailure, "listing secrets: %v", err)
	}
	if o.json {
		if err := writeJSON(app.io.Out, list); err != nil {
			return err
		}
	} else if len(list) == 0 {
		fmt.Fprintf(app.io.Err, "no secrets in the index (store: %s)\n", v.Backend())
	} else {
		now := time.Now()
		t := newTable(app.io.Out, "NAME", "ACCOUNT", "KIND", "ID", "CREATED", "ROTATED", "EXPIRES", "ENDS WITH", "IN STORE")
		for _, e := range list {
			state := "yes"
			switch {
			case checkErr != nil || o.noCheck:
				state = "?"
			case e.Missing:
				state = "MISSING"
			case e.Unindexed:
				// A teammate's, through the shared store.
				state = "yes (not indexed here)"
				if acct, ref, ok := account.ParseSecretName(e.Name); ok {
					e.Account, e.Kind, e.ID = acct, ref.Kind, ref.ID
				}
			}
			created := e.Created
			t.row(e.Name, e.Account, e.Kind, e.ID, when(&created, now), when(e.Rotated, now), when(e.Expires, now), e.Fingerprint, state)
		}
		if err := t.flush(); err != nil {
			return err
		}
	}
	if checkErr != nil {
		return exitf(ExitFailure, "could not check the %s store, so the list above is the index only: %v", v.Backend(), checkErr)
	}
	missing := 0
	for _, e := range list {
		if e.Missing {
			missing++
		}
	}
	if missing > 0 && !o.json {
		fmt.Fprintf(app.io.Err, "%d secret(s) in the index are missing from the %s store; 'keyturn secret delete NAME' drops an entry\n", missing, v.Backend())
	}
	return nil
}

func newSecretGetCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "get NAME",
		Short: "Print a secret's value alone on stdout",
		Long: `Prints the value and nothing else, for $(keyturn secret get NAME). A newline
follows only when stdout is a terminal.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := validSecretName(name); err != nil {
				return usageError{err}
			}
			m, err := app.manager(cmd.Context())
			if err != nil {
				return err
			}
			v := m.Vault()
			value, err := m.ReadSecret(cmd.Context(), name, account.ActReveal)
			if err != nil {
				return secretFailure(v, name, "reading secret", err)
			}
			if app.io.OutTerminal {
				value = shownValue(app, value) + "\n"
			}
			_, err = io.WriteString(app.io.Out, value)
			return err
		},
	}
}

type secretSetOptions struct {
	account, kind, id, expires string
}

func newSecretSetCmd(app *App) *cobra.Command {
	var o secretSetOptions
	cmd := &cobra.Command{
		Use:   "set NAME",
		Short: "Store a value read from stdin (to import a token made elsewhere)",
		Long: `Reads the value from stdin (one trailing newline is dropped), or asks for it with
no echo on a terminal, and stores it under NAME, replacing any value there. Names
are like "work/pat" or "prod/command/abc123": letters, digits and . _ - / @ : %
(keyturn writes other characters of a token's name as %XX: chat/pat/ci%20token).`,
		Example: `  printf %s "$TOKEN" | keyturn secret set work/pat --account work --kind pat`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSecretSet(cmd, app, args[0], &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.account, "account", "", "the account it belongs to (for the index)")
	f.StringVar(&o.kind, "kind", "imported", "what it is, for the index")
	f.StringVar(&o.id, "id", "", "its server-side id, if any")
	f.StringVar(&o.expires, "expires", "", "when it expires: RFC 3339 (2026-01-31T00:00:00Z) or a date (2026-01-31)")
	return cmd
}

func runSecretSet(cmd *cobra.Command, app *App, name string, o *secretSetOptions) error {
	if err := validSecretName(name); err != nil {
		return usageError{err}
	}
	meta := config.SecretMeta{Name: name, Account: o.account, Kind: o.kind, ID: o.id}
	if !cmd.Flags().Changed("account") && !cmd.Flags().Changed("kind") && !cmd.Flags().Changed("id") {
		meta = indexedAsIssued(app, meta)
	}
	if o.expires != "" {
		t, err := time.Parse(time.RFC3339, o.expires)
		if err != nil {
			if t, err = time.Parse(time.DateOnly, o.expires); err != nil {
				return usageError{fmt.Errorf("--expires %q: use RFC 3339 (2026-01-31T00:00:00Z) or a date (2026-01-31)", o.expires)}
			}
		}
		t = t.UTC()
		meta.Expires = &t
	}
	value, err := readSecretValue(app, name)
	if err != nil {
		return err
	}
	m, err := app.manager(cmd.Context())
	if err != nil {
		return err
	}
	v := m.Vault()
	if err := m.SetSecret(cmd.Context(), meta, value); err != nil {
		if errors.Is(err, keystore.ErrIndexNotUpdated) {
			return exitf(ExitFailure, "%v", err)
		}
		return exitf(ExitFailure, "storing secret %s: %v (nothing was stored; you still have the value you gave)", name, err)
	}
	fp := keystore.Fingerprint(value)
	if fp != "" {
		fp = ", ends with " + textsafe.Line(fp)
	}
	fmt.Fprintf(app.io.Out, "stored %s in the %s store%s\n", name, v.Backend(), fp)
	return nil
}

// indexedAsIssued gives a name keyturn gives issued tokens (such as a
// not-saved token's, which keyturn told the person to store with secret
// set) the index entry the token would have had: its account, kind and
// id, when the account is one of this config's.
func indexedAsIssued(app *App, meta config.SecretMeta) config.SecretMeta {
	acct, ref, ok := account.ParseSecretName(meta.Name)
	if !ok {
		return meta
	}
	f, err := app.configFile()
	if err != nil {
		return meta
	}
	c, err := f.Load()
	if err != nil {
		return meta
	}
	if _, known := c.Account(acct); !known {
		return meta
	}
	meta.Account, meta.Kind, meta.ID = acct, ref.Kind, ref.ID
	return meta
}

// readSecretValue reads the value: a no-echo prompt on a terminal, else all
// of stdin less one trailing newline.
func readSecretValue(app *App, name string) (string, error) {
	if app.io.InTerminal && app.io.ReadSecret != nil {
		v, err := app.atPrompt("", func() (string, error) { return app.io.ReadSecret("Value for " + name + " (not shown): ") })
		if err != nil {
			return "", exitf(ExitFailure, "reading the value: %v", err)
		}
		if v == "" {
			return "", exitf(ExitFailure, "no value given; nothing stored")
		}
		return v, nil
	}
	if app.io.In == nil {
		return "", exitf(ExitFailure, "no value on stdin; pipe it in: printf %%s \"$TOKEN\" | keyturn secret set %s", name)
	}
	b, err := io.ReadAll(io.LimitReader(app.io.In, maxSecretInput+1))
	if err != nil {
		return "", exitf(ExitFailure, "reading the value from stdin: %v", err)
	}
	if len(b) > maxSecretInput {
		return "", exitf(ExitFailure, "the value on stdin is over %d bytes; nothing stored", maxSecretInput)
	}
	v := strings.TrimSuffix(strings.TrimSuffix(string(b), "\n"), "\r")
	if v == "" {
		return "", exitf(ExitFailure, "no value on stdin; pipe it in: printf %%s \"$TOKEN\" | keyturn secret set %s", name)
	}
	return v, nil
}

type secretDeleteOptions struct {
	yes bool
}

func newSecretDeleteCmd(app *App) *cobra.Command {
	var o secretDeleteOptions
	cmd := &cobra.Command{
		Use:     "delete NAME",
		Aliases: []string{"rm"},
		Short:   "Delete a secret from the store and the index",
		Long: `Deletes the value from the store and its entry from the index. It does not
revoke the token on the server. A name whose value is already gone from the store
still has its index entry removed.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			name := args[0]
			if err := validSecretName(name); err != nil {
				return usageError{err}
			}
			m, err := app.manager(cmd.Context())
			if err != nil {
				return err
			}
			v := m.Vault()
			if !o.yes {
				ok, err := app.confirm(fmt.Sprintf("Delete secret %s from the %s store? (It is not revoked on the server.)", name, v.Backend()))
				if err != nil {
					return err
				}
				if !ok {
					return exitf(ExitFailure, "not deleted")
				}
			}
			if err := m.DeleteSecret(cmd.Context(), name); err != nil {
				return secretFailure(v, name, "deleting secret", err)
			}
			fmt.Fprintf(app.io.Out, "deleted %s\n", name)
			return nil
		},
	}
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

// repairIndex puts back the index entries a crash lost (a bulk run's batch
// not yet written), where the store can list what it holds, and says so on
// stderr. A store that cannot list is no error here: the list still shows
// the index.
func repairIndex(ctx context.Context, app *App, m *account.Manager) {
	added, err := m.RepairIndex(ctx, "")
	switch {
	case errors.Is(err, keystore.ErrCannotList):
	case err != nil:
		fmt.Fprintf(app.io.Err, "keyturn: could not compare the index with the %s store: %v\n", m.Store(), err)
	case len(added) == 1:
		fmt.Fprintf(app.io.Err, "put back 1 index entry for a secret the %s store holds: %s\n", m.Store(), added[0])
	case len(added) > 1:
		fmt.Fprintf(app.io.Err, "put back %d index entries for secrets the %s store holds: %s\n", len(added), m.Store(), strings.Join(added, ", "))
	}
}

// validSecretName is keystore.ValidName. A name written the way keyturn
// names an issued token, but with the server's characters left in its id (a
// PAT called "my deploy bot"), is told the escaped name keyturn gives it.
func validSecretName(name string) error {
	err := keystore.ValidName(name)
	if err == nil {
		return nil
	}
	if parts := strings.SplitN(name, "/", 3); len(parts) == 3 {
		if ref, perr := account.ParseRef(parts[1] + ":" + parts[2]); perr == nil {
			if esc := account.SecretName(parts[0], ref); keystore.ValidName(esc) == nil {
				return fmt.Errorf("%w; keyturn names this token %s", err, esc)
			}
		}
	}
	return err
}
