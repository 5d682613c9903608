package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

type accountRemoveOptions struct {
	name string
	yes  bool
}

func newAccountRemoveCmd(app *App) *cobra.Command {
	var o accountRemoveOptions
	cmd := &cobra.Command{
		Use:     "remove ACCOUNT",
		Aliases: []string{"rm"},
		Short:   "Remove an account and delete its credential",
		Long: `Removes the account from the config file and deletes its credential (and any
sign-in waiting for a code) from the store. It does not sign out on the server.
Tokens issued to the account stay in the store: they still work on the server;
see 'keyturn secret list'.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return runAccountRemove(cmd, app, &o)
		},
	}
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func runAccountRemove(cmd *cobra.Command, app *App, o *accountRemoveOptions) error {
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	if _, err := app.accountStatus(ctx, m, o.name); err != nil {
		return app.explain(ctx, err, "removing the account", o.name)
	}
	if !o.yes {
		ok, err := app.confirm(fmt.Sprintf("Remove account %s and delete its credential?", o.name))
		if err != nil {
			return err
		}
		if !ok {
			return exitf(ExitFailure, "not removed")
		}
	}
	if err := m.Remove(ctx, o.name); err != nil {
		return app.explain(ctx, err, "removing the account", o.name)
	}
	fmt.Fprintf(app.io.Out, "removed %s\n", o.name)
	return nil
}
