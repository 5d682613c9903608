package cli

import (
	"context"
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"keyturn/keystore"
)

func init() { register(newStoreCmd) }

func newStoreCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "store",
		Short: "Work on the store itself (the team's pass store: sync)",
		Args:  cobra.NoArgs,
	}
	cmd.AddCommand(newStoreSyncCmd(app))
	return cmd
}

func newStoreSyncCmd(app *App) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "sync",
		Short: "Pull (rebase) and push the team's pass store",
		Long: `Commits what is left, pulls the pass store's git remote (rebasing onto it) and
pushes. A secret changed both here and on the remote is never overwritten: this
side stays under its name and the remote's is kept as NAME.conflict-COMMIT; the
command lists each and exits 1. A remote that cannot be reached leaves every
secret stored and committed here, says "not synced" and exits 1.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			rep, err := app.syncStore(cmd.Context(), "")
			if asJSON && rep != nil {
				if werr := writeJSON(app.io.Out, rep); werr != nil {
					return werr
				}
			}
			if err != nil {
				return exitf(ExitFailure, "%v", err)
			}
			if len(rep.Conflicts) > 0 {
				return exitf(ExitFailure, "%d secret(s) were changed here and on %s: both sides are kept (see above)", len(rep.Conflicts), rep.Remote)
			}
			if !asJSON {
				fmt.Fprintf(app.io.Out, "synced the pass store with %s\n", rep.Remote)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print what the sync did as JSON")
	return cmd
}

// syncStore syncs the store and says on stderr what needs the person:
// each conflict, kept on both sides. when ("before rotating") prefixes
// those lines. Secrets teammates added for this config's accounts are
// then indexed.
func (a *App) syncStore(ctx context.Context, when string) (*keystore.SyncReport, error) {
	m, err := a.manager(ctx)
	if err != nil {
		return nil, err
	}
	rep, err := m.Vault().Sync(ctx)
	if rep != nil {
		for _, c := range rep.Conflicts {
			switch c.Theirs {
			case "":
				fmt.Fprintf(a.io.Err, "%sconflict on %s: deleted on %s, changed here; this side is kept\n", when, c.Name, rep.Remote)
			case c.Name:
				fmt.Fprintf(a.io.Err, "%sconflict on %s: deleted here, changed on %s; theirs is kept\n", when, c.Name, rep.Remote)
			default:
				fmt.Fprintf(a.io.Err, "%sconflict on %s: changed here and on %s; both kept: this side as %s, theirs as %s. Check which one the server accepts, then drop the other with 'keyturn secret delete'\n",
					when, c.Name, rep.Remote, c.Name, c.Theirs)
			}
		}
	}
	if err == nil {
		repairIndex(ctx, a, m)
	}
	return rep, err
}

// withSync gives cmd a --sync flag: sync the team's store before the
// command (pulling what teammates rotated) and after it (pushing what it
// stored). A sync that fails says so and does not change the command's
// outcome: what it stored is kept and committed here, "not synced".
func withSync(app *App, cmd *cobra.Command) {
	var sync bool
	cmd.Flags().BoolVar(&sync, "sync", false, "with --store pass: pull the team's store before and push it after")
	run := cmd.RunE
	cmd.RunE = func(cmd *cobra.Command, args []string) error {
		if !sync {
			return run(cmd, args)
		}
		ctx := cmd.Context()
		if _, err := app.syncStore(ctx, "before: "); err != nil {
			if errors.Is(err, keystore.ErrNoSync) {
				return exitf(ExitUsage, "--sync: %v", err)
			}
			fmt.Fprintf(app.io.Err, "keyturn: before: %v\n", err)
		}
		err := run(cmd, args)
		// Whatever happened, what was stored goes out (bounded by the
		// sync timeout, even after Ctrl-C).
		if _, serr := app.syncStore(context.WithoutCancel(ctx), "after: "); serr != nil {
			fmt.Fprintf(app.io.Err, "keyturn: after: %v\n", serr)
		}
		return err
	}
}
