package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"keyturn/account"
)

type tokenRotateOptions struct {
	name   string
	ref    account.Ref
	expiry expiryFlags
	out    tokenOutput
	sf     secondFactorFlags
	bulk   bulkFlags
}

func newTokenRotateCmd(app *App) *cobra.Command {
	var o tokenRotateOptions
	cmd := &cobra.Command{
		Use:   "rotate ACCOUNT (REF | --all)",
		Short: "Replace a token with a new one and store it",
		Long: `Replaces a token. REF is command:<id>, webhook:<id>, user-token:<id>, pat:<name>
or session (Capillary: a new token from the stored key).

Mattermost user access tokens are rotated in place where the server can
(Mattermost 11.10 and later: one request, the token keeps its id, the old secret
stops at once); on an older server without a gap: a new token is created,
stored, checked, and only then is the old one revoked. keyturn finds out which
once per account and remembers it until the server's version changes. The new
token keeps its lifetime (capped by the server's maximum) unless --expires-in or
--expires-at says otherwise; one that never expired stays so where the server
allows it. Slash-command, webhook, Rocket.Chat and in-place user-token rotations
are replaced by the server: if the request was sent and no answer came, keyturn
exits 5 and says how to check, and never retries by itself.

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
  keyturn token rotate work-mm user-token:5o8r3ntqkbga58cj8pkj46runc --expires-in 30d
  keyturn token rotate chat pat:deploy --json
  keyturn token rotate cap session
  keyturn token rotate work-mm --all --kind command --team ops --parallel 8
  keyturn token rotate work-mm --all --resume`,
		Args: func(cmd *cobra.Command, args []string) error {
			if o.bulk.all {
				if len(args) != 1 {
					return usageError{fmt.Errorf("token rotate ACCOUNT --all takes no REF")}
				}
				return nil
			}
			if len(args) == 1 {
				return usageError{fmt.Errorf("missing REF (or --all)")}
			}
			return exactArgs(2)(cmd, args)
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			if o.bulk.all {
				if o.expiry.in != "" || o.expiry.at != "" {
					return usageError{fmt.Errorf("--expires-in and --expires-at go with one REF; --all keeps each token's lifetime")}
				}
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
	o.expiry.register(cmd, "the new token")
	withSync(app, cmd)
	return cmd
}

func runTokenRotate(cmd *cobra.Command, app *App, o *tokenRotateOptions) error {
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
	var iss *account.Issued
	rerun := fmt.Sprintf("keyturn token rotate %s %s", o.name, account.ShellArg(o.ref.String())) + o.expiry.rerun()
	err = tokenAnswerer(app, o.sf, rerun).run(ctx, func(ans *account.Answer) error {
		var err error
		iss, err = m.RotateExpiring(ctx, o.name, o.ref, ans, expires)
		return err
	})
	return finishIssued(app, cmd, iss, err, o.out, "rotating "+o.ref.String(), o.name)
}
