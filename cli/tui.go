package cli

import (
	"context"

	"keyturn/tui"
)

// runTUI opens the interactive app over the account operations; demo adds
// the footer line with the sandbox's current codes.
func (a *App) runTUI(ctx context.Context, demo bool) error {
	if !a.io.InTerminal || !a.io.OutTerminal {
		return exitf(ExitUsage, "the interactive app needs a terminal; from scripts use the commands ('keyturn --help')")
	}
	a.unlockInTUI = true
	mgr, err := a.manager(ctx)
	if err != nil {
		return err
	}
	opts := tui.Options{Manager: mgr}
	if a.sig != nil {
		var done func()
		opts.Signals, done = a.sig.forTUI()
		defer done()
	}
	if demo {
		opts.DemoCodes = a.demoCodes
	}
	return tui.Run(ctx, opts)
}
