package cli

import (
	"github.com/spf13/cobra"
)

func init() { register(newMFACmd) }

func newMFACmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "mfa",
		Short: "Set up, activate and disable TOTP two-factor sign-in",
		Long: `Sets up TOTP (authenticator app) sign-in on Mattermost and Rocket.Chat (8.8+)
accounts: keyturn generates the secret on the server, draws its QR code in the
terminal, and activates it with a first code.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newMFASetupCmd(app), newMFAActivateCmd(app), newMFADisableCmd(app))
	return cmd
}

// mfaChallengeFlags are how the mfa commands answer the account's own
// second factor (Rocket.Chat asks for one before changing TOTP): their
// --code is the new authenticator's code.
func mfaAnswerer(app *App, sf secondFactorFlags, rerun string) *answerer {
	return &answerer{app: app, flags: sf, codeFlag: "--2fa-code", methodFlag: "--2fa-method", rerun: rerun, withMethod: true, probe: true}
}

func registerMFAChallengeFlags(cmd *cobra.Command, sf *secondFactorFlags) {
	sf.register(cmd.Flags(), "2fa-code", "2fa-method")
	cmd.Flags().Lookup("2fa-code").Usage = "answer the account's own second-factor challenge, when the server asks for one before changing MFA"
}
