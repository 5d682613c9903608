// Package tui is keyturn's interactive face: a Bubble Tea v2 app over the
// operations in account/. It holds no HTTP, no keyring and no decision about
// secrets: every call goes to account.Manager inside a tea.Cmd, and Update
// only changes the model.
//
// The layout follows charmbracelet/crush's internal/ui: one root model with a
// screen enum and a dialog stack, one keys.go, one styles.go.
//
// Dialogs and screens do not change the root themselves: their update
// returns actions (action.go: close, replace, open, error, status, reload,
// quit, or a command), which Model.apply carries out within the same Update.
// Work that waits on a server or a store is an operation (ops.go): startOp
// runs a typed function in a command and hands its result, typed, to a done
// function that returns actions; bindFlow does the same for an operation the
// server may answer with a second-factor challenge.
//
// Where to add a dialog: a type in its own file with update (returning
// actions), view (frame included, within w×h) and short (its footer keys);
// open it by returning openDlg(d) from the screen or dialog that offers it,
// and close it by returning closeDlg(d). Its requests go through startOp or
// bindFlow (with runAction for a progress dialog); a confirmation is
// newConfirmDialog with an onYes that returns actions.
//
// Where to add a screen: a value in Model next to accounts, acct and vault,
// a constant in the screen enum, its update (returning actions), view, short
// and full; a case for it in Model.handleKey, render, headerView, shortHelp,
// fullHelp and reload; and a function that opens it (like openVault). A list
// on it is a list[T] (list.go).
package tui

import (
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"keyturn/account"
)

// Options configure the app.
type Options struct {
	Manager *account.Manager
	// DemoCodes, non-nil in demo mode, gives the footer line with the
	// sandbox's current codes; it is read every second.
	DemoCodes func() string

	// For tests and embedding; zero values use the process's terminal.
	Input   io.Reader
	Output  io.Writer
	Width   int                   // initial size, before the terminal reports one
	Height  int                   //
	Profile *colorprofile.Profile // force a colour profile
	Env     []string              // environment (NO_COLOR, TERM…); default os.Environ
	Dark    *bool                 // force a dark or light background instead of asking the terminal
	Now     func() time.Time
	// Signals, when set, are the process's SIGINT, SIGTERM and SIGHUP: each
	// is a request to quit, like ctrl+c (Bubble Tea's own handler, which
	// would quit at once, is off).
	Signals <-chan os.Signal
	// Quit, when set, is told after the screen closes which signal quit
	// the app, if one did, and which issuing requests the quit waited for
	// (none when forced): the command line says so and exits. A quit
	// forced by a key is not told.
	Quit func(sig os.Signal, waited []account.InFlight)
}

// signalMsg is a signal the process got.
type signalMsg struct{ sig os.Signal }

// ForcedQuitError is Run's answer when the person forced a quit while
// requests that issue tokens were on their way: their tokens may be lost.
type ForcedQuitError struct {
	InFlight []account.InFlight
}

func (e *ForcedQuitError) Error() string {
	var b strings.Builder
	b.WriteString("quit without waiting: the token from ")
	for i, f := range e.InFlight {
		if i > 0 {
			b.WriteString(" and ")
		}
		b.WriteString(f.What)
	}
	b.WriteString(" may be lost.")
	for _, f := range e.InFlight {
		b.WriteString(" " + f.Recover)
	}
	return b.String()
}

// Run opens the app and returns when the person quits or ctx ends.
func Run(ctx context.Context, opts Options) error {
	if opts.Manager == nil {
		return errors.New("tui: no account manager")
	}
	m := New(ctx, opts)
	popts := []tea.ProgramOption{tea.WithContext(ctx)}
	if opts.Input != nil {
		popts = append(popts, tea.WithInput(opts.Input))
	}
	if opts.Output != nil {
		popts = append(popts, tea.WithOutput(opts.Output))
	}
	if opts.Width > 0 && opts.Height > 0 {
		popts = append(popts, tea.WithWindowSize(opts.Width, opts.Height))
	}
	if opts.Profile != nil {
		popts = append(popts, tea.WithColorProfile(*opts.Profile))
	}
	if opts.Env != nil {
		popts = append(popts, tea.WithEnvironment(opts.Env))
	}
	if opts.Signals != nil {
		popts = append(popts, tea.WithoutSignalHandler())
	}
	p := tea.NewProgram(m, popts...)
	if opts.Signals != nil {
		stop := make(chan struct{})
		defer close(stop)
		go func() {
			for {
				select {
				case sig := <-opts.Signals:
					p.Send(signalMsg{sig})
				case <-stop:
					return
				}
			}
		}()
	}
	_, err := p.Run()
	m.cancelAll()
	if err == nil && opts.Quit != nil && (len(m.forced) == 0 || m.quitSig != nil) {
		// A quit forced by a signal still reports it (for exit 130), but
		// nothing it waited for.
		waited := m.waited
		if len(m.forced) > 0 {
			waited = nil
		}
		opts.Quit(m.quitSig, waited)
	}
	if len(m.forced) > 0 && err == nil {
		return &ForcedQuitError{InFlight: m.forced}
	}
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
