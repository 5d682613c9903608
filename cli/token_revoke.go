package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"keyturn/account"
)

type tokenRevokeOptions struct {
	name string
	ref  account.Ref
	yes  bool
	sf   secondFactorFlags
}

func newTokenRevokeCmd(app *App) *cobra.Command {
	var o tokenRevokeOptions
	cmd := &cobra.Command{
		Use:   "revoke ACCOUNT REF",
		Short: "Revoke a token on the server and delete keyturn's copy",
		Long: `Revokes a token on the server and deletes the copy in the store. REF is
user-token:<id>, pat:<name> or session. Mattermost slash-command and webhook
tokens cannot be revoked, only rotated. Asks for confirmation unless --yes.`,
		Example: `  keyturn token revoke work-mm user-token:8xk3tq1ew7yd5q8u9j4gmqzwbc --yes`,
		Args:    exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			if err := parseRefArg(args[1], &o.ref); err != nil {
				return err
			}
			return runTokenRevoke(cmd, app, &o)
		},
	}
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation")
	o.sf.register(cmd.Flags(), "code", "method")
	return cmd
}

func runTokenRevoke(cmd *cobra.Command, app *App, o *tokenRevokeOptions) error {
	if err := o.sf.prepare(app, "--code"); err != nil {
		return err
	}
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	if !o.yes {
		ok, err := app.confirm(fmt.Sprintf("Revoke %s on %s? Whatever uses it stops working.", o.ref, o.name))
		if err != nil {
			return err
		}
		if !ok {
			return exitf(ExitFailure, "%s left as it is", o.ref)
		}
	}
	rerun := fmt.Sprintf("keyturn token revoke %s %s --yes", o.name, account.ShellArg(o.ref.String()))
	err = tokenAnswerer(app, o.sf, rerun).run(ctx, func(ans *account.Answer) error {
		return m.Revoke(ctx, o.name, o.ref, ans)
	})
	if err != nil {
		return app.explain(ctx, err, "revoking "+o.ref.String(), o.name)
	}
	fmt.Fprintf(app.io.Out, "revoked %s on %s\n", o.ref, o.name)
	return nil
}
