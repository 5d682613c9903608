package cli

import (
	"github.com/spf13/cobra"

	"keyturn/account"
)

func init() { register(newTokenCmd) }

func newTokenCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "token",
		Short: "List, create, rotate, fetch and revoke tokens on the server",
		Long: `Tokens an account holds on its server:
  user-token   Mattermost user access tokens
  command      Mattermost slash-command tokens (per team)
  webhook      Mattermost outgoing-webhook tokens (per team)
  pat          Rocket.Chat personal access tokens
  session      Capillary's current token (15 minutes), regenerated from the stored key

Every token keyturn obtains is stored, before anything else happens, under the
name ACCOUNT/KIND/ID (Capillary: ACCOUNT/session); in ID every character but
letters, digits and . _ - @ : is written %XX (a PAT "ci token" is stored as
ACCOUNT/pat/ci%20token). A REF names one token: command:<id>, webhook:<id>,
user-token:<id>, pat:<name> (any name, quoted for the shell), or session.

Exit codes: 0 ok, 1 error, 2 usage, 3 a token was issued but could not be stored
(it is printed on stdout: the only copy), 4 a second factor is needed, 5 the
request was sent and no answer came (the server may have rotated the token;
keyturn never retries that by itself).`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newTokenListCmd(app), newTokenCreateCmd(app), newTokenRotateCmd(app), newTokenFetchCmd(app), newTokenRevokeCmd(app))
	return cmd
}

// parseRefArg reads a REF argument into ref; a bad one is a usage error.
func parseRefArg(arg string, ref *account.Ref) error {
	r, err := account.ParseRef(arg)
	if err != nil {
		return usageError{err}
	}
	*ref = r
	return nil
}

// tokenAnswerer answers second-factor challenges on token calls
// (Rocket.Chat asks for one): --code and --method, else a prompt. A --code
// without --method is sent once the server's challenge names the method.
func tokenAnswerer(app *App, sf secondFactorFlags, rerun string) *answerer {
	return &answerer{app: app, flags: sf, codeFlag: "--code", methodFlag: "--method", rerun: rerun, withMethod: true, probe: true}
}

// tokenOutput are the flags of the commands that print an issued token.
type tokenOutput struct {
	json   bool
	reveal bool
}

func (t *tokenOutput) register(cmd *cobra.Command) {
	cmd.Flags().BoolVar(&t.json, "json", false, "print JSON: name, kind, ref, fingerprint, stored (and token with --reveal)")
	cmd.Flags().BoolVar(&t.reveal, "reveal", false, "print the token itself too")
}
