// Package tui is keyturn's interactive face: a Bubble Tea v2 app over the
// operations in account/. It holds no HTTP, no keyring and no decision about
// secrets: every call goes to account.Manager inside a tea.Cmd, and Update
// only changes the model.
//
// The layout follows charmbracelet/crush's internal/ui: one root model with a
// screen enum and a dialog stack, one keys.go, one styles.go.
package tui

import (
	"context"
	"errors"
	"io"
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
	p := tea.NewProgram(m, popts...)
	_, err := p.Run()
	m.cancelAll()
	if errors.Is(err, tea.ErrProgramKilled) && ctx.Err() != nil {
		return ctx.Err()
	}
	return err
}
