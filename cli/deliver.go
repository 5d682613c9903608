package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"keyturn/account"
	"keyturn/textsafe"
)

func init() { register(newDeliverCmd) }

func newDeliverCmd(app *App) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "deliver SECRET",
		Short: "Hand a stored token to its consumers again",
		Long: `Writes the stored value of SECRET to each of its consumers (see 'keyturn consumer')
and runs their verify commands, as a rotation does once the new token is stored:
to retry a delivery that failed, or to fill a consumer added since. Each consumer
is reported delivered or failed (why); the exit code is 1 if any failed.`,
		Example: `  keyturn deliver work-mm/command/kq3n9x8f4bgzjm5t1d6wyc7hra
  keyturn deliver chat/pat/deploy --json`,
		Args: exactArgs(1, "deliver needs the SECRET's name (see 'keyturn consumer list')"),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			m, err := app.manager(ctx)
			if err != nil {
				return err
			}
			ds, err := m.Deliver(ctx, args[0])
			if err != nil {
				return consumerErr(app, cmd, err, "delivering "+args[0])
			}
			if asJSON {
				if err := writeJSON(app.io.Out, map[string]any{"secret": args[0], "deliveries": ds}); err != nil {
					return err
				}
			} else {
				printDeliveries(app, ds)
			}
			return deliveryFailures(args[0], ds)
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// consumerErr turns an error of the consumer commands into an exit: bad
// input (an *account.InputError) is a usage error (exit 2).
func consumerErr(app *App, cmd *cobra.Command, err error, doing string) error {
	return app.explain(cmd.Context(), err, doing, "")
}

// printDeliveries writes one line per consumer: delivered, or failed and why.
func printDeliveries(app *App, ds []account.Delivery) {
	for _, d := range ds {
		if d.Status == account.Delivered {
			fmt.Fprintf(app.io.Out, "delivered %s to %s\n", textsafe.Line(d.Secret), textsafe.Line(d.Consumer))
			continue
		}
		fmt.Fprintf(app.io.Out, "delivery FAILED: %s to %s: %s\n", textsafe.Line(d.Secret), textsafe.Line(d.Consumer), textsafe.Line(d.Error))
	}
}

// deliveryFailures is exit 1 when a consumer did not get the token, which
// stays stored; nil when every one did.
func deliveryFailures(secret string, ds []account.Delivery) error {
	failed := 0
	var remedy account.Remedy
	for _, d := range ds {
		if d.Status != account.Delivered {
			failed++
			remedy, _ = d.Remedy()
		}
	}
	if failed == 0 {
		return nil
	}
	return exitf(ExitFailure, "%d of %d consumer(s) of %s did not get the token (it is stored). %s", failed, len(ds), secret, remedyLine(remedy))
}
