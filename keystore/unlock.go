package keystore

import (
	"bytes"
	"context"
	"errors"
	"io/fs"
	"os"
)

// Unlocker is a store that waits for its passphrase from a dialog (the TUI
// cannot let a prompt read the terminal it draws on): every call that needs
// the passphrase waits, bounded by its context, until Unlock or Close.
type Unlocker interface {
	// Locked reports whether calls are waiting for a passphrase.
	Locked() bool
	// Closed reports whether the person declined (Close): the store stays
	// closed for this process.
	Closed() bool
	// Path is the secrets file.
	Path() string
	// Exists reports whether the secrets file exists; a new one's
	// passphrase should be asked twice.
	Exists() (bool, error)
	// Unlock checks pass against the file (a file not yet there takes any
	// passphrase) and releases the waiting calls. A wrong passphrase
	// (ErrWrongPassphrase) or an unreadable file leaves it locked.
	Unlock(ctx context.Context, pass []byte) error
	// Close gives up: waiting and later calls fail with ErrNoPassphrase.
	Close()
}

// NewLockedFile is NewFile for a store whose passphrase comes later,
// through Unlock, from a dialog.
func NewLockedFile(path string) Backend {
	f := NewFile(path, nil).(*fileBackend)
	f.gate = make(chan struct{})
	return f
}

// Unlocker is the vault's store if it waits for a passphrase, else nil.
func (v *Vault) Unlocker() Unlocker {
	if f, ok := v.b.(*fileBackend); ok && f.gate != nil {
		return f
	}
	return nil
}

func (f *fileBackend) Path() string { return f.path }

func (f *fileBackend) Locked() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.gate != nil && f.pass == nil && !f.closed
}

func (f *fileBackend) Closed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.closed
}

func (f *fileBackend) Exists() (bool, error) {
	_, err := os.Stat(f.path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

func (f *fileBackend) Unlock(ctx context.Context, pass []byte) error {
	if len(pass) == 0 {
		return f.fail("open", "", "empty passphrase", "the secrets file needs a passphrase", ErrNoPassphrase)
	}
	if err := ctx.Err(); err != nil {
		return f.fail("open", "", "cancelled", "", err)
	}
	data, err := f.readRaw("open", "")
	if err != nil {
		return err
	}
	if data != nil {
		if _, _, err := f.open("open", "", data, pass); err != nil {
			return err
		}
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.closed || f.pass != nil {
		return nil
	}
	f.pass = bytes.Clone(pass)
	f.release()
	return nil
}

func (f *fileBackend) Close() {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.gate == nil || f.pass != nil || f.closed {
		return
	}
	f.closed = true
	f.release()
}

// release wakes the calls waiting for the passphrase; f.mu is held.
func (f *fileBackend) release() {
	select {
	case <-f.gate:
	default:
		close(f.gate)
	}
}

// awaitPass waits for Unlock or Close.
func (f *fileBackend) awaitPass(ctx context.Context, op, name string) ([]byte, bool, error) {
	select {
	case <-f.gate:
	case <-ctx.Done():
		return nil, false, f.fail(op, name, "cancelled while waiting for the passphrase", "", ctx.Err())
	}
	f.mu.Lock()
	p := f.pass
	f.mu.Unlock()
	if p == nil {
		return nil, false, f.fail(op, name, "the secrets file "+f.path+" is closed: its passphrase was not given",
			"restart keyturn to be asked again, or set "+EnvPassphrase, ErrNoPassphrase)
	}
	return p, true, nil
}
