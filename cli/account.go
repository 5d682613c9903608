package cli

import "github.com/spf13/cobra"

func init() { register(newAccountCmd) }

func newAccountCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "account",
		Short: "Add, edit, list, show and remove accounts",
		Long: `An account is one login on one Mattermost, Rocket.Chat or Capillary server. It
lives in the config file and never holds a secret: the credential keyturn signs in
with is in the store.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newAccountAddCmd(app), newAccountEditCmd(app), newAccountListCmd(app), newAccountShowCmd(app), newAccountRemoveCmd(app))
	return cmd
}
