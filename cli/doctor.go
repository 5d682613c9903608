package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"keyturn/account"
	"keyturn/textsafe"
)

func init() { register(newDoctorCmd) }

func newDoctorCmd(app *App) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "doctor",
		Short: "Check the store, the config file and every account's server",
		Long: `Checks what keyturn depends on, reading no secret and signing in nowhere:

  store    the chosen store: for the keyring, the D-Bus session, the Secret Service
           and whether its collection is locked; for the file store, its path and
           modes; WSL, and what it means for the keyring
  config   the config file's path and modes
  account  each account's server: reachable, TLS, the version where the server
           says it, and this clock's skew against the server's Date header (TOTP
           codes depend on it)

Each problem comes with what to do. Exit codes: 0 no problem (warnings allowed),
1 at least one problem.`,
		Example: `  keyturn doctor
  keyturn doctor --json | jq '.checks[] | select(.status != "ok")'`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			m, err := app.manager(ctx)
			if err != nil {
				return err
			}
			rep := m.Doctor(ctx, account.DoctorOptions{Getenv: app.io.Getenv})
			if asJSON {
				if err := writeJSON(app.io.Out, rep); err != nil {
					return err
				}
			} else {
				printDoctor(app, rep)
			}
			if rep.Problems > 0 {
				return exitf(ExitFailure, "%d problem(s) found; see above for what to do", rep.Problems)
			}
			return nil
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func printDoctor(app *App, rep *account.DoctorReport) {
	w := app.io.Out
	area := ""
	for _, c := range rep.Checks {
		if c.Area != area {
			area = c.Area
			fmt.Fprintln(w, textsafe.Line(area))
		}
		mark := "ok     "
		switch c.Status {
		case account.CheckWarning:
			mark = "WARN   "
		case account.CheckProblem:
			mark = "PROBLEM"
		}
		fmt.Fprintf(w, "  %s %s: %s\n", mark, textsafe.Line(c.Name), textsafe.Line(c.Detail))
		if c.Fix != "" {
			fmt.Fprintf(w, "          → %s\n", textsafe.Line(c.Fix))
		}
	}
	fmt.Fprintf(w, "%d problem(s), %d warning(s)\n", rep.Problems, rep.Warnings)
}
