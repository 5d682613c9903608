package cli

import (
	"context"
	"fmt"
	"os"

	"keyturn/account"
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
	opts := tui.Options{Manager: mgr, Quit: a.tuiQuit}
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

// tuiQuit says, once the screen is closed, what the app's quit waited for.
// A signal that quit it counts as one that stopped a command: the exit
// code is then ExitInterrupted and finish says so.
func (a *App) tuiQuit(sig os.Signal, waited []account.InFlight) {
	if sig != nil && a.sig != nil {
		a.sig.stoppedTUI(sig, waited)
		return
	}
	if len(waited) > 0 {
		fmt.Fprintf(a.io.Err, "keyturn: waited for %s to answer and be stored before quitting\n", whats(waited))
	}
}
