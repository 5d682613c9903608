package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"keyturn/account"
)

type mfaDisableOptions struct {
	name string
	code string
	yes  bool
}

func newMFADisableCmd(app *App) *cobra.Command {
	var o mfaDisableOptions
	cmd := &cobra.Command{
		Use:   "disable ACCOUNT --code CODE",
		Short: "Switch TOTP off",
		Long: `Switches TOTP sign-in off. Rocket.Chat wants a current code from the
authenticator app (--code); Mattermost needs none. Without --code, keyturn asks
for confirmation (and, for Rocket.Chat, the code) unless --yes is given.`,
		Example: `  keyturn mfa disable chat --code 123456
  keyturn mfa disable work-mm --yes`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return runMFADisable(cmd, app, &o)
		},
	}
	cmd.Flags().StringVar(&o.code, "code", "", "a current code from the authenticator app (- reads it from stdin)")
	cmd.Flags().BoolVarP(&o.yes, "yes", "y", false, "do not ask for confirmation")
	return cmd
}

func runMFADisable(cmd *cobra.Command, app *App, o *mfaDisableOptions) error {
	code, err := readCode(app, "--code", o.code)
	if err != nil {
		return err
	}
	o.code = code
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	st, err := app.accountStatus(ctx, m, o.name)
	if err != nil {
		return app.explain(ctx, err, "disabling MFA", o.name)
	}
	if o.code == "" && !o.yes {
		ok, err := app.confirm(fmt.Sprintf("Switch MFA off on %s?", o.name))
		if err != nil {
			return err
		}
		if !ok {
			return exitf(ExitFailure, "MFA on %s left as it is", o.name)
		}
	}
	// The code is the answer: a wrong one is re-asked at a prompt.
	an := &answerer{app: app, flags: secondFactorFlags{Code: o.code}, codeFlag: "--code", methodFlag: "--method",
		rerun: "keyturn mfa disable " + o.name}
	err = an.run(ctx, func(ans *account.Answer) error {
		code := ""
		if ans != nil {
			code = ans.Code
		}
		if mfa := account.Info(st.Service).MFA; code == "" && mfa != nil && mfa.DisableNeedsCode {
			// Rocket.Chat needs a current code: ask for one like a challenge.
			return &account.Challenge{Account: o.name, Service: st.Service, Step: "2fa", Method: "totp", Methods: []string{"totp"}}
		}
		return m.DisableMFA(ctx, o.name, strings.TrimSpace(code))
	})
	if err != nil {
		return app.explain(ctx, err, "disabling MFA", o.name)
	}
	fmt.Fprintf(app.io.Out, "MFA is off on %s\n", o.name)
	return nil
}
