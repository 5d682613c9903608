package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"keyturn/account"
)

type tokenCreateOptions struct {
	name      string
	label     string
	bypass2FA bool
	expiry    expiryFlags
	out       tokenOutput
	sf        secondFactorFlags
}

func newTokenCreateCmd(app *App) *cobra.Command {
	var o tokenCreateOptions
	cmd := &cobra.Command{
		Use:   "create ACCOUNT LABEL",
		Short: "Create a Mattermost user access token or a Rocket.Chat personal access token",
		Long: `Creates a token and stores it before printing anything: a Mattermost user access
token (LABEL is its description) or a Rocket.Chat personal access token (LABEL is
its name). Prints the stored name and fingerprint, or JSON with --json; the token
itself only with --reveal (or when it could not be stored: then it is the only
copy and the exit code is 3).

A Mattermost user access token expires with --expires-in or --expires-at
(Mattermost 11.10 and later; an older server makes it without an expiry and
keyturn says so). A server with a maximum token lifetime refuses a token
without one, or beyond it, before anything is sent.`,
		Example: `  keyturn token create work-mm ci-bot
  keyturn token create work-mm ci-bot --expires-in 90d
  keyturn token create work-mm release --expires-at 2027-01-31
  keyturn token create chat deploy --bypass-2fa --json`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name, o.label = args[0], args[1]
			return runTokenCreate(cmd, app, &o)
		},
	}
	cmd.Flags().BoolVar(&o.bypass2FA, "bypass-2fa", false, "Rocket.Chat: the token skips two-factor checks")
	o.expiry.register(cmd, "the token")
	o.out.register(cmd)
	o.sf.register(cmd.Flags(), "code", "method")
	return cmd
}

func runTokenCreate(cmd *cobra.Command, app *App, o *tokenCreateOptions) error {
	if err := o.sf.prepare(app, "--code"); err != nil {
		return err
	}
	expires, err := o.expiry.when()
	if err != nil {
		return err
	}
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	rerun := fmt.Sprintf("keyturn token create %s %s", o.name, account.ShellArg(o.label)) + o.expiry.rerun()
	if o.bypass2FA {
		rerun += " --bypass-2fa"
	}
	var iss *account.Issued
	err = tokenAnswerer(app, o.sf, rerun).run(ctx, func(ans *account.Answer) error {
		var err error
		iss, err = m.CreateExpiring(ctx, o.name, o.label, o.bypass2FA, ans, expires)
		return err
	})
	return finishIssued(app, cmd, iss, err, o.out, "creating a token", o.name)
}

// finishIssued prints what a token call gave: the stored token, or the
// token that could not be stored (exit 3), or the error.
func finishIssued(app *App, cmd *cobra.Command, iss *account.Issued, err error, out tokenOutput, doing, name string) error {
	var nse *account.NotStoredError
	if errors.As(err, &nse) {
		return reportNotStored(app, nse, out.json)
	}
	if err != nil {
		return app.explain(cmd.Context(), err, doing, name)
	}
	return printIssued(app, iss, out.json, out.reveal)
}
