package cli

import (
	"fmt"

	"github.com/spf13/cobra"
)

type logoutOptions struct {
	name string
}

func init() { register(newLogoutCmd) }

func newLogoutCmd(app *App) *cobra.Command {
	var o logoutOptions
	return &cobra.Command{
		Use:   "logout ACCOUNT",
		Short: "End the session on the server and delete the credential",
		Long: `Ends the session on the server where the API has it and deletes the credential
from the store. A personal access token keyturn signed in with is never logged
out on the server (for Rocket.Chat that would delete the token); only keyturn's
copy is deleted. Issued tokens stay in the store.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return runLogout(cmd, app, &o)
		},
	}
}

func runLogout(cmd *cobra.Command, app *App, o *logoutOptions) error {
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	if err := m.Logout(ctx, o.name); err != nil {
		return app.explain(ctx, err, "signing out", o.name)
	}
	fmt.Fprintf(app.io.Out, "signed out of %s\n", o.name)
	return nil
}
