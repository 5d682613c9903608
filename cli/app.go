package cli

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"net/http"
	"os"
	"strings"
	"sync/atomic"

	"keyturn/account"
	"keyturn/client"
	"keyturn/config"
	"keyturn/keystore"
	"keyturn/textsafe"
)

// App is what every command shares: the streams, the global flags, and the
// config, store and operations, opened on first use.
type App struct {
	io    IO
	flags struct {
		config, store, storeFile, debug string
	}

	// Set by the demo and by tests: a ready manager over the sandbox.
	mgr       *account.Manager
	transport http.RoundTripper
	// demoCodes, set by `keyturn demo`, feeds the TUI's footer line with
	// the sandbox's current codes.
	demoCodes func() string
	// unlockInTUI: the file store's passphrase comes from the TUI's dialog.
	unlockInTUI bool
	closers     []func() error

	// sig handles the process's signals (nil in tests that run in-process);
	// live is the manager once open, for it to read what is in flight.
	sig  *interrupts
	live atomic.Pointer[account.Manager]
}

// inFlight lists the issuing requests on their way, if the manager is open.
func (a *App) inFlight() []account.InFlight {
	if m := a.live.Load(); m != nil {
		return m.InFlight()
	}
	return nil
}

func newApp(streams IO) *App { return &App{io: streams} }

// flushAudit writes the audit entries the command held back, with its exit
// code; a failure is a warning on stderr (the manager says it), never a
// different exit.
func (a *App) flushAudit(code int) {
	if m := a.live.Load(); m != nil {
		_ = m.FlushAudit(code)
	}
}

func (a *App) close() {
	for i := len(a.closers) - 1; i >= 0; i-- {
		_ = a.closers[i]()
	}
	a.closers = nil
}

// configFile is --config, else KEYTURN_CONFIG, else the user config dir.
func (a *App) configFile() (*config.File, error) {
	path := a.flags.config
	if path == "" {
		path = a.io.Getenv(config.EnvPath)
	}
	if path == "" {
		p, err := config.DefaultPath()
		if err != nil {
			return nil, err
		}
		path = p
	}
	return config.Open(path), nil
}

// manager opens the config, the chosen store and the operations over them.
func (a *App) manager(ctx context.Context) (*account.Manager, error) {
	if a.mgr != nil {
		return a.mgr, nil
	}
	cf, err := a.configFile()
	if err != nil {
		return nil, err
	}
	cfg, err := cf.Load()
	if err != nil {
		return nil, err
	}
	kind, err := keystore.Choose(a.flags.store, a.io.Getenv(keystore.EnvStore), cfg)
	if err != nil {
		return nil, usageError{err}
	}
	opts := keystore.Options{}
	if kind == keystore.KindFile {
		opts.File, err = keystore.ChooseFile(a.flags.storeFile, a.io.Getenv(keystore.EnvStoreFile), cfg)
		if err != nil {
			return nil, err
		}
		file := opts.File
		opts.Passphrase = func() ([]byte, error) { return a.passphrase(file) }
		if a.unlockInTUI && a.io.Getenv(keystore.EnvPassphrase) == "" {
			// The TUI asks in a dialog: a prompt would read the
			// terminal Bubble Tea owns.
			opts.Passphrase, opts.AwaitUnlock = nil, true
		}
	}
	if kind == keystore.KindPass {
		// gpg-agent may ask on the person's own terminal, never on the one
		// the TUI draws on, nor where there is none.
		opts.Pass = keystore.PassOptions{Getenv: a.io.Getenv, Prompt: a.io.InTerminal && !a.unlockInTUI, Personal: account.PersonalSecret}
	}
	if t, err := keystore.KeyringTimeout(); err != nil {
		return nil, usageError{err}
	} else {
		opts.Timeout = t
	}
	backend, err := keystore.Open(kind, opts)
	if err != nil {
		return nil, err
	}
	if testBackend != nil {
		if b := testBackend(cf.Path); b != nil {
			backend = b
		}
	}
	// Remember an explicit choice, so the next run uses the same store.
	if kind != keystore.KindMemory && (cfg.Store != kind || (kind == keystore.KindFile && a.flags.storeFile != "" && cfg.StoreFile != opts.File)) {
		err := cf.UpdateContext(ctx, func(c *config.Config) error {
			c.Store = kind
			if kind == keystore.KindFile && a.flags.storeFile != "" {
				c.StoreFile = opts.File
			}
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	trace, closeTrace, err := client.TraceTo(a.debugSetting(), a.io.Err)
	if err != nil {
		return nil, err
	}
	a.closers = append(a.closers, closeTrace)
	mopts := account.Options{Trace: trace, Transport: a.transport, Face: "tui"}
	if !a.unlockInTUI {
		// The audit log's entries carry the exit code, known at the end.
		mopts.Face, mopts.HoldAudit = "cli", true
		mopts.Warn = func(msg string) { fmt.Fprintln(a.io.Err, "keyturn: warning: "+textsafe.Text(msg)) }
		// A wait of up to 15 s must not look like a hang. (The interactive
		// app's spinner already says something is going on.)
		mopts.LockWaiting = func(msg string) { fmt.Fprintln(a.io.Err, "keyturn: "+textsafe.Text(msg)) }
	}
	a.mgr = account.New(cf, keystore.NewVault(backend, cf), mopts)
	a.live.Store(a.mgr)
	return a.mgr, nil
}

func (a *App) debugSetting() string {
	if a.flags.debug != "" {
		return a.flags.debug
	}
	return a.io.Getenv("KEYTURN_DEBUG")
}

// passphrase for the file store at file: KEYTURN_FILE_PASSPHRASE, else a
// prompt with no echo, typed twice when the file is about to be created
// (one typo would lock every secret saved after it).
func (a *App) passphrase(file string) ([]byte, error) {
	if v := a.io.Getenv(keystore.EnvPassphrase); v != "" {
		return []byte(v), nil
	}
	if a.io.ReadSecret == nil {
		return nil, fmt.Errorf("%w: set %s or run in a terminal", keystore.ErrNoPassphrase, keystore.EnvPassphrase)
	}
	_, statErr := os.Stat(file)
	create := errors.Is(statErr, fs.ErrNotExist)
	prompt := "Passphrase for the keyturn secrets file: "
	if create {
		prompt = "Passphrase for the new keyturn secrets file " + file + ": "
	}
	p, err := a.atPrompt("", func() (string, error) { return a.io.ReadSecret(prompt) })
	if err != nil {
		return nil, err
	}
	if p == "" {
		return nil, keystore.ErrNoPassphrase
	}
	if create {
		again, err := a.atPrompt("", func() (string, error) { return a.io.ReadSecret("The same passphrase again: ") })
		if err != nil {
			return nil, err
		}
		if again != p {
			return nil, keystore.ErrPassphraseMismatch
		}
	}
	return []byte(p), nil
}

// confirm asks a yes/no question on the terminal; without one it refuses
// and tells the person to pass --yes.
func (a *App) confirm(question string) (bool, error) {
	if !a.io.InTerminal {
		return false, exitf(ExitUsage, "pass --yes to confirm (there is no terminal to ask: %s)", question)
	}
	fmt.Fprintf(a.io.Err, "%s [y/N] ", question)
	line, err := a.atPrompt("", func() (string, error) { return readLine(a.io.In) })
	if err != nil && line == "" {
		return false, err
	}
	switch strings.ToLower(strings.TrimSpace(line)) {
	case "y", "yes":
		return true, nil
	}
	return false, nil
}

// readLine reads one line without buffering past it, so a later read of
// the same stream continues after it.
func readLine(r interface{ Read([]byte) (int, error) }) (string, error) {
	var b strings.Builder
	buf := make([]byte, 1)
	for {
		n, err := r.Read(buf)
		if n > 0 {
			if buf[0] == '\n' {
				return strings.TrimSuffix(b.String(), "\r"), nil
			}
			b.WriteByte(buf[0])
		}
		if err != nil {
			if b.Len() > 0 {
				return strings.TrimSuffix(b.String(), "\r"), nil
			}
			return "", err
		}
	}
}

// testBackend, set only by tests, gives the store for a config file, so one
// store lasts across Execute calls (and can fail on purpose).
var testBackend func(configPath string) keystore.Backend
