package cli

import (
	"github.com/spf13/cobra"

	"keyturn/account"
)

type tokenFetchOptions struct {
	name string
	ref  account.Ref
	out  tokenOutput
}

func newTokenFetchCmd(app *App) *cobra.Command {
	var o tokenFetchOptions
	cmd := &cobra.Command{
		Use:   "fetch ACCOUNT REF",
		Short: "Store the token the server holds now for a slash command or webhook",
		Long: `Reads the token the server holds now for a Mattermost slash command or outgoing
webhook and stores it, without rotating it: to keep an existing integration's
token in the store, or, after a rotation that exited 5 (sent, no answer), to
keep the new token if the rotation went through. REF is command:<id> or
webhook:<id>; other tokens are shown by their servers only when issued.`,
		Example: `  keyturn token fetch work-mm command:kq3n9x8f4bgzjm5t1d6wyc7hra
  keyturn token fetch work-mm webhook:5bq1x9tj3ffd8cyzuaxpnm4o7r --json`,
		Args: exactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			if err := parseRefArg(args[1], &o.ref); err != nil {
				return err
			}
			return runTokenFetch(cmd, app, &o)
		},
	}
	o.out.register(cmd)
	return cmd
}

func runTokenFetch(cmd *cobra.Command, app *App, o *tokenFetchOptions) error {
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	iss, err := m.Fetch(ctx, o.name, o.ref)
	return finishIssued(app, cmd, iss, err, o.out, "fetching "+o.ref.String(), o.name)
}
