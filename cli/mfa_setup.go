package cli

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"keyturn/account"
	"keyturn/qr"
)

type mfaSetupOptions struct {
	name             string
	json             bool
	replace          bool
	yes              bool
	storeBackupCodes bool
	sf               secondFactorFlags
}

func newMFASetupCmd(app *App) *cobra.Command {
	var o mfaSetupOptions
	cmd := &cobra.Command{
		Use:   "setup ACCOUNT",
		Short: "Generate a TOTP secret, draw its QR code, and activate it with a first code",
		Long: `Generates a new TOTP secret on the server, draws the QR code of its otpauth URI
in the terminal (when the terminal is too small, it says so and shows the secret
and URI instead), prints the secret in groups of four, then asks for a code from
the authenticator app and activates it.

Without a terminal to ask at, or with --json (which prints
{"secret":…,"otpauth_url":…} instead of drawing), finish with
'keyturn mfa activate ACCOUNT --code CODE'.

If MFA is already active, setup refuses: Mattermost would silently replace the
secret and break the authenticator entry in use. --replace does it on purpose,
after a confirmation (or --yes).

Rocket.Chat answers activation with one-time backup codes: they are shown once,
and stored as the secret ACCOUNT/backup-codes/totp with --store-backup-codes.`,
		Example: `  keyturn mfa setup work-mm
  keyturn mfa setup work-mm --json > setup.json && keyturn mfa activate work-mm --code 123456`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return runMFASetup(cmd, app, &o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.json, "json", false, `print {"secret":…,"otpauth_url":…} instead of drawing; activate with 'keyturn mfa activate'`)
	f.BoolVar(&o.replace, "replace", false, "replace an active MFA secret (breaks the current authenticator entry)")
	f.BoolVarP(&o.yes, "yes", "y", false, "with --replace: do not ask for confirmation")
	f.BoolVar(&o.storeBackupCodes, "store-backup-codes", false, "Rocket.Chat: keep the backup codes in the store")
	registerMFAChallengeFlags(cmd, &o.sf)
	return cmd
}

func runMFASetup(cmd *cobra.Command, app *App, o *mfaSetupOptions) error {
	if err := o.sf.prepare(app, "--2fa-code"); err != nil {
		return err
	}
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	if o.replace && !o.yes {
		active, err := m.MFAActive(ctx, o.name)
		if err != nil {
			return app.explain(ctx, err, "checking MFA", o.name)
		}
		if active {
			ok, err := app.confirm(fmt.Sprintf("MFA is active on %s: a new secret replaces it, and the current authenticator entry stops working. Replace it?", o.name))
			if err != nil {
				return err
			}
			if !ok {
				return exitf(ExitFailure, "MFA on %s left as it is", o.name)
			}
		}
	}
	var setup *account.MFASetup
	err = mfaAnswerer(app, o.sf, "keyturn mfa setup "+o.name).run(ctx, func(ans *account.Answer) error {
		var err error
		setup, err = m.BeginMFA(ctx, o.name, o.replace, ans)
		return err
	})
	if errors.Is(err, account.ErrMFAActive) {
		return exitf(ExitFailure, "%s: %v", app.accountLabel(ctx, o.name), err)
	}
	if err != nil {
		return app.explain(ctx, err, "setting up MFA", o.name)
	}
	if o.json {
		if err := writeJSON(app.io.Out, setup); err != nil {
			return err
		}
		fmt.Fprintf(app.io.Err, "Add the secret to your authenticator app, then run 'keyturn mfa activate %s --code CODE'.\n", o.name)
		return nil
	}
	drawSetup(app, setup)
	if !app.io.InTerminal {
		fmt.Fprintf(app.io.Err, "Add it to your authenticator app, then run 'keyturn mfa activate %s --code CODE'.\n", o.name)
		return nil
	}
	fmt.Fprint(app.io.Err, "Code from the authenticator app: ")
	line, err := app.atPrompt(fmt.Sprintf("MFA is not active yet; run 'keyturn mfa activate %s --code CODE'", o.name), func() (string, error) { return readLine(app.io.In) })
	line = strings.TrimSpace(line)
	if err != nil || line == "" {
		return exitf(ExitNeedCode, "no code read: MFA is not active yet; run 'keyturn mfa activate %s --code CODE'", o.name)
	}
	return activateMFA(cmd, app, o.name, line, o.storeBackupCodes, o.sf)
}

// drawSetup draws the QR code of the otpauth URI, or says why not, and
// prints the secret in groups of four and the URI. Where the code fills
// the terminal (an otpauth URI's code is 45×23 cells: at 80×24 nothing else
// fits), the text waits for Enter, so none of the code scrolls away while
// the person scans it.
func drawSetup(app *App, setup *account.MFASetup) {
	w := app.io.Out
	lines, err := qr.Render(setup.URL)
	if err == nil && app.io.OutTerminal && app.io.Getenv("NO_COLOR") == "" {
		lines = qr.Colorize(lines)
	}
	switch {
	case err != nil:
		fmt.Fprintf(app.io.Err, "keyturn: cannot draw the QR code (%v); enter the secret by hand.\n", err)
	case qrFits(app, lines, 4):
		fmt.Fprintln(w, "Scan this with your authenticator app:")
		fmt.Fprintln(w)
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
		fmt.Fprintln(w)
	case app.io.InTerminal && qrFits(app, lines, 1):
		for _, l := range lines {
			fmt.Fprintln(w, l)
		}
		fmt.Fprint(app.io.Err, "Scan it, then press Enter for the secret as text and the code: ")
		_, _ = app.atPrompt("", func() (string, error) { return readLine(app.io.In) })
	default:
		qw, qh := qr.Size(lines)
		need := qh + 4
		if app.io.InTerminal {
			need = qh + 1
		}
		fmt.Fprintf(app.io.Err, "The terminal is too small for the QR code (it needs %d×%d); enlarge it and run again, or enter the secret by hand.\n", qw, need)
	}
	fmt.Fprintf(w, "Secret: %s\n", shownValue(app, account.GroupSecret(setup.Secret)))
	fmt.Fprintf(w, "URI:    %s\n", shownValue(app, setup.URL))
}

// qrFits reports whether the code fits the terminal stdout is on with
// spare rows left for the text around it (any size fits when stdout is not
// a terminal).
func qrFits(app *App, lines []string, spare int) bool {
	if !app.io.OutTerminal {
		return true
	}
	cols, rows, ok := terminalSize(app.io.Out)
	if !ok {
		return true
	}
	return qr.Fits(lines, cols, rows-spare)
}

func terminalSize(w io.Writer) (cols, rows int, ok bool) {
	f, isFile := w.(*os.File)
	if !isFile {
		return 0, 0, false
	}
	c, r, err := term.GetSize(int(f.Fd()))
	if err != nil || c <= 0 || r <= 0 {
		return 0, 0, false
	}
	return c, r, true
}
