package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"keyturn/account"
)

type tokenRotateOptions struct {
	name string
	ref  account.Ref
	out  tokenOutput
	sf   secondFactorFlags
	bulk bulkFlags
}

func newTokenRotateCmd(app *App) *cobra.Command {
	var o tokenRotateOptions
	cmd := &cobra.Command{
		Use:   "rotate NAME (REF | --all)",
		Short: "Replace a token with a new one and store it",
		Long: `Replaces a token. REF is command:<id>, webhook:<id>, user-token:<id>, pat:<name>
or session (Capillary: a new token from the stored key).

Mattermost user access tokens are rotated without a gap: a new token is created,
stored, checked, and only then is the old one revoked. Slash-command, webhook and
Rocket.Chat tokens are replaced in place by the server: if the request was sent
and no answer came, keyturn exits 5 and says how to check, and never retries by
itself.

With --all it rotates every matching token of the account (after a leak):
--parallel requests at a time over one connection pool, each new token stored
the moment it arrives, a 429 pausing every worker. A journal (no secrets) beside
the config file records each request before it is sent; a run stopped by Ctrl-C,
a crash or a lost network is finished with --resume and never rotates a token
twice. A slash-command or webhook token whose answer was lost is read back from
the server on resume (the server shows those tokens). The report lists each
token as ok, failed (why) or unknown (sent, no answer); the exit code is 0 only
if all are ok.`,
		Example: `  keyturn token rotate work-mm command:kq3n9x8f4bgzjm5t1d6wyc7hra
  keyturn token rotate chat pat:deploy --json
  keyturn token rotate cap session
  keyturn token rotate work-mm --all --kind command --team ops --parallel 8
  keyturn token rotate work-mm --all --resume`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.bulk.all {
				if len(args) != 1 {
					return usageError{fmt.Errorf("token rotate NAME --all takes no REF")}
				}
				return nil
			}
			if len(args) != 2 {
				return usageError{fmt.Errorf("token rotate needs NAME and REF (or NAME --all)")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			if o.bulk.all {
				return runTokenRotateAll(cmd, app, &o)
			}
			if o.bulk.set(cmd) {
				return usageError{fmt.Errorf("--kind, --team, --parallel and --resume go with --all")}
			}
			if err := parseRefArg(args[1], &o.ref); err != nil {
				return err
			}
			return runTokenRotate(cmd, app, &o)
		},
	}
	o.out.register(cmd)
	o.sf.register(cmd.Flags(), "code", "method")
	o.bulk.register(cmd)
	withSync(app, cmd)
	return cmd
}

func runTokenRotate(cmd *cobra.Command, app *App, o *tokenRotateOptions) error {
	if err := o.sf.prepare(app, "--code"); err != nil {
		return err
	}
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	var iss *account.Issued
	rerun := fmt.Sprintf("keyturn token rotate %s %s", o.name, account.ShellArg(o.ref.String()))
	err = tokenAnswerer(app, o.sf, rerun).run(ctx, func(ans *account.Answer) error {
		var err error
		iss, err = m.Rotate(ctx, o.name, o.ref, ans)
		return err
	})
	return finishIssued(app, cmd, iss, err, o.out, "rotating "+o.ref.String(), o.name)
}
