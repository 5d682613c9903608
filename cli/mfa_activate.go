package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"

	"keyturn/account"
)

type mfaActivateOptions struct {
	name             string
	code             string
	storeBackupCodes bool
	sf               secondFactorFlags
}

func newMFAActivateCmd(app *App) *cobra.Command {
	var o mfaActivateOptions
	cmd := &cobra.Command{
		Use:   "activate ACCOUNT --code CODE",
		Short: "Activate the TOTP secret from 'mfa setup' with a first code",
		Long: `Switches TOTP on with a code from the authenticator app that holds the secret
'keyturn mfa setup' made. Rocket.Chat answers with one-time backup codes: they
are printed once on stdout, and kept in the store as ACCOUNT/backup-codes/totp with
--store-backup-codes.`,
		Example: `  keyturn mfa activate work-mm --code 123456`,
		Args:    exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return runMFAActivate(cmd, app, &o)
		},
	}
	cmd.Flags().StringVar(&o.code, "code", "", "a code from the authenticator app (required; - reads it from stdin)")
	cmd.Flags().BoolVar(&o.storeBackupCodes, "store-backup-codes", false, "Rocket.Chat: keep the backup codes in the store")
	registerMFAChallengeFlags(cmd, &o.sf)
	return cmd
}

func runMFAActivate(cmd *cobra.Command, app *App, o *mfaActivateOptions) error {
	if o.code == "" {
		return usageError{errors.New("--code is required: a code from the authenticator app")}
	}
	if err := o.sf.check(); err != nil {
		return err
	}
	code, err := readCode(app, "--code", o.code)
	if err != nil {
		return err
	}
	o.code = code
	if o.sf.Code, err = readCode(app, "--2fa-code", o.sf.Code); err != nil {
		return err
	}
	return activateMFA(cmd, app, o.name, o.code, o.storeBackupCodes, o.sf)
}

// activateMFA switches TOTP on and deals with Rocket.Chat's backup codes.
func activateMFA(cmd *cobra.Command, app *App, name, code string, storeCodes bool, sf secondFactorFlags) error {
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	var codes []string
	err = mfaAnswerer(app, sf, fmt.Sprintf("keyturn mfa activate %s --code CODE", name)).run(ctx, func(ans *account.Answer) error {
		var err error
		codes, err = m.ActivateMFA(ctx, name, code, ans)
		return err
	})
	if err != nil {
		return app.explain(ctx, err, "activating MFA (is the code current, from the secret just set up?)", name)
	}
	fmt.Fprintf(app.io.Out, "MFA is active on %s\n", name)
	if len(codes) == 0 {
		return nil
	}
	fmt.Fprintln(app.io.Out, "Backup codes (each works once; they are shown only now):")
	for _, c := range codes {
		fmt.Fprintln(app.io.Out, "  "+shownValue(app, c))
	}
	if !storeCodes {
		fmt.Fprintln(app.io.Err, "Keep the backup codes somewhere safe (or run with --store-backup-codes next time to keep them in the store).")
		return nil
	}
	iss, err := m.StoreBackupCodes(ctx, name, codes)
	var nse *account.NotStoredError
	if errors.As(err, &nse) {
		return exitf(ExitNotStored, "%v\nThe backup codes printed above are the only copy: copy them now.", nse)
	}
	if err != nil {
		return app.explain(ctx, err, "storing the backup codes", name)
	}
	fmt.Fprintf(app.io.Out, "saved the backup codes as %s in %s\n", iss.Name, storeName(iss.Store))
	return nil
}
