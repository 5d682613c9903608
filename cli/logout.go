package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"keyturn/account"
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
copy is deleted. A Capillary session signed in without MFA cannot be ended on
the server (its mfa/token/expire takes only MFA tokens): keyturn forgets it and
says when it expires. Issued tokens stay in the store.`,
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
	err = m.Logout(ctx, o.name)
	var local *account.LocalOnlyError
	if errors.As(err, &local) {
		// Signed out here; the server has no call that ends this session.
		fmt.Fprintf(app.io.Out, "signed out of %s\n", o.name)
		fmt.Fprintf(app.io.Err, "keyturn: %s\n", local)
		return nil
	}
	if err != nil {
		return app.explain(ctx, err, "signing out", o.name)
	}
	fmt.Fprintf(app.io.Out, "signed out of %s\n", o.name)
	return nil
}
