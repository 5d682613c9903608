// Package cli is keyturn's scriptable face: thin cobra commands over the
// operations in account/. Every command reads and writes through the
// streams in IO, so tests run them in-process.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"

	"github.com/spf13/cobra"
	"golang.org/x/term"

	"keyturn/textsafe"
	"keyturn/version"
)

// Exit codes, the same for every command.
const (
	ExitOK           = 0
	ExitFailure      = 1
	ExitUsage        = 2
	ExitNotStored    = 3 // a token was issued but could not be stored: it is on stdout
	ExitNeedCode     = 4 // a second factor is needed and none was given
	ExitUnknownState = 5 // the request was sent and no answer came: the server may have applied it
	ExitAttention    = 6 // keyturn check found tokens overdue, expired or expiring
)

// IO is where a command reads and writes.
type IO struct {
	In  io.Reader
	Out io.Writer
	Err io.Writer
	// InTerminal reports whether In is an interactive terminal (prompts
	// with no echo are possible); OutTerminal likewise for Out.
	InTerminal  bool
	OutTerminal bool
	// ReadSecret reads one line with no echo from the terminal; nil when
	// there is none.
	ReadSecret func(prompt string) (string, error)
	// SaveTerminal notes the terminal's state before a prompt and returns
	// what puts it back (a read with no echo cut short leaves it off); nil
	// when In is no terminal.
	SaveTerminal func() (restore func())
	// Getenv reads the environment (tests replace it).
	Getenv func(string) string
}

// SystemIO is the process's own streams.
func SystemIO() IO {
	in := int(os.Stdin.Fd())
	out := int(os.Stdout.Fd())
	s := IO{In: os.Stdin, Out: os.Stdout, Err: os.Stderr, InTerminal: term.IsTerminal(in), OutTerminal: term.IsTerminal(out), Getenv: os.Getenv}
	if s.InTerminal {
		s.ReadSecret = func(prompt string) (string, error) {
			fmt.Fprint(os.Stderr, prompt)
			b, err := term.ReadPassword(in)
			fmt.Fprintln(os.Stderr)
			return string(b), err
		}
		s.SaveTerminal = func() func() {
			st, err := term.GetState(in)
			if err != nil {
				return func() {}
			}
			return func() { _ = term.Restore(in, st) }
		}
	}
	return s
}

// ExitError carries an exit code with its message.
type ExitError struct {
	Code int
	Err  error
}

func (e *ExitError) Error() string {
	if e.Err == nil {
		return fmt.Sprintf("exit %d", e.Code)
	}
	return e.Err.Error()
}
func (e *ExitError) Unwrap() error { return e.Err }

// exitf is an error with an exit code.
func exitf(code int, format string, args ...any) error {
	return &ExitError{Code: code, Err: fmt.Errorf(format, args...)}
}

// usageError marks wrong words on the command line (exit 2).
type usageError struct{ error }

// Execute runs keyturn with args and returns the exit code.
func Execute(ctx context.Context, args []string, streams IO) int {
	return execute(ctx, args, streams, nil)
}

// execute is Execute, with the process's signals when sigs is set.
func execute(ctx context.Context, args []string, streams IO, sigs <-chan os.Signal) int {
	if streams.Getenv == nil {
		streams.Getenv = os.Getenv
	}
	app := newApp(streams)
	defer app.close()
	if sigs != nil {
		var cancel context.CancelFunc
		ctx, cancel = context.WithCancel(ctx)
		defer cancel()
		app.sig = &interrupts{app: app, cancel: cancel, exit: func(code int) {
			app.flushAudit(code)
			os.Exit(code)
		}}
		stop := make(chan struct{})
		defer close(stop)
		go app.sig.watch(sigs, stop)
	}
	root := newRootCmd(app)
	root.SetArgs(args)
	root.SetIn(streams.In)
	root.SetOut(streams.Out)
	root.SetErr(streams.Err)
	cmd, err := root.ExecuteContextC(ctx)
	code := exitCode(streams, err, cmd)
	if app.sig != nil {
		code = app.sig.finish(code)
	}
	app.flushAudit(code)
	return code
}

// exitCode reports err on stderr and turns it into the exit code; a usage
// error also shows the usage of cmd, the command it was given to.
func exitCode(streams IO, err error, cmd *cobra.Command) int {
	if err == nil {
		return ExitOK
	}
	var ee *ExitError
	var ue usageError
	// An error may quote a server, and carries no secret: it is cleaned
	// whole of what a terminal would act on.
	switch {
	case errors.As(err, &ee):
		if ee.Err != nil {
			fmt.Fprintln(streams.Err, "keyturn:", textsafe.Text(ee.Err.Error()))
		}
		return ee.Code
	case errors.As(err, &ue) || isCobraUsage(err):
		fmt.Fprintln(streams.Err, "keyturn:", textsafe.Text(err.Error()))
		path := "keyturn"
		if cmd != nil && cmd.HasParent() {
			fmt.Fprintln(streams.Err, "Usage: "+strings.TrimSuffix(cmd.UseLine(), " [flags]"))
			path = cmd.CommandPath()
		}
		fmt.Fprintf(streams.Err, "Run '%s --help' for more.\n", path)
		return ExitUsage
	}
	fmt.Fprintln(streams.Err, "keyturn:", textsafe.Text(err.Error()))
	return ExitFailure
}

// newRootCmd is the cobra root, run by plain cobra rather than charm's
// fang (v2.0.1, weighed for issue 12): fang asks the terminal for its
// background colour (OSC 11 and DA1 on stdout, the answer read from stdin)
// before every help page and every error whenever stdout is a terminal,
// whatever the theme, error handler or NO_COLOR: escape sequences under
// NO_COLOR, typed-ahead input read, and 4 s more per failing command on a
// terminal that does not answer. Its man command also writes to the
// process's stdout, not IO. So help stays cobra's, errors stay exitCode's,
// completion is cobra's own command, and 'keyturn man' (man.go) uses the
// generator fang uses, mango-cobra. TestBinaryHelpCompletionAndErrors
// fails with fang in place.
func newRootCmd(app *App) *cobra.Command {
	root := &cobra.Command{
		Use:   "keyturn",
		Short: "Sign in with two-factor codes, issue and rotate tokens, keep them in the OS keyring",
		Long: `keyturn signs in to Mattermost, Rocket.Chat and Capillary servers with two-factor
codes, sets up MFA from a QR code drawn in the terminal, issues, regenerates and
revokes tokens, and keeps every token it obtains in the OS keyring.

Run it with no command for the interactive app; 'keyturn demo' tries everything
against built-in simulated servers.`,
		Version:       version.Version,
		SilenceUsage:  true,
		SilenceErrors: true,
		Args:          cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return app.runTUI(cmd.Context(), false)
		},
	}
	root.SetFlagErrorFunc(flagError)
	f := root.PersistentFlags()
	f.StringVar(&app.flags.config, "config", "", "config file (default $KEYTURN_CONFIG, else the user config dir)")
	f.StringVar(&app.flags.store, "store", "", "where secrets live: keyring, file or pass (a team's pass store; default $KEYTURN_STORE, else as remembered, else keyring)")
	f.StringVar(&app.flags.storeFile, "store-file", "", "the encrypted file for --store file (default $KEYTURN_STORE_FILE)")
	f.StringVar(&app.flags.debug, "debug", "", "trace HTTP to stderr (--debug=1) or a file (--debug=PATH), secrets redacted; also $KEYTURN_DEBUG")
	root.Flag("debug").NoOptDefVal = "1"
	root.AddCommand(newVersionCmd(app))
	for _, add := range commands {
		root.AddCommand(add(app))
	}
	groupsRefuseUnknownWords(root)
	return root
}

// commands are added by the files that define them, so each command lives
// in one file with its options and run function.
var commands []func(*App) *cobra.Command

func register(c func(*App) *cobra.Command) { commands = append(commands, c) }

func newVersionCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print keyturn's version",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			fmt.Fprintln(app.io.Out, "keyturn", version.Version)
			return nil
		},
	}
}

// isCobraUsage recognises cobra's own argument errors.
func isCobraUsage(err error) bool {
	msg := err.Error()
	for _, p := range []string{"unknown command", "unknown flag", "unknown shorthand", "accepts ", "requires at least", "requires exactly", "received ", "flag needs an argument", "invalid argument"} {
		if strings.Contains(msg, p) {
			return true
		}
	}
	return false
}
