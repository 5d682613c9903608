package keystore

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func newLockedTestFile(path string) *fileBackend {
	f := NewLockedFile(path).(*fileBackend)
	f.kdf = fastKDF
	return f
}

// TestLockedFileWaitsForUnlock: a store opened for a dialog holds every
// call until the dialog gives a passphrase, which is checked against the
// file; a wrong one leaves it locked.
func TestLockedFileWaitsForUnlock(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.enc")
	if err := newTestFile(path, "right one", nil).Set(ctx, "a/b", "value-1"); err != nil {
		t.Fatal(err)
	}
	f := newLockedTestFile(path)
	var u Unlocker = f
	if !u.Locked() || u.Closed() || u.Path() != path {
		t.Fatalf("a new locked store: Locked %v, Closed %v, Path %q", u.Locked(), u.Closed(), u.Path())
	}
	if exists, err := u.Exists(); err != nil || !exists {
		t.Fatalf("Exists() = %v, %v", exists, err)
	}
	got := make(chan error, 1)
	go func() {
		v, err := f.Get(ctx, "a/b")
		if err == nil && v != "value-1" {
			err = errors.New("wrong value")
		}
		got <- err
	}()
	select {
	case err := <-got:
		t.Fatalf("Get did not wait for the passphrase: %v", err)
	case <-time.After(100 * time.Millisecond):
	}
	err := u.Unlock(ctx, []byte("wrong one"))
	if !errors.Is(err, ErrWrongPassphrase) || !u.Locked() {
		t.Fatalf("Unlock with a wrong passphrase: %v, Locked %v", err, u.Locked())
	}
	select {
	case err := <-got:
		t.Fatalf("a wrong passphrase released the waiting Get: %v", err)
	case <-time.After(50 * time.Millisecond):
	}
	if err := u.Unlock(ctx, nil); !errors.Is(err, ErrNoPassphrase) {
		t.Fatalf("Unlock with nothing: %v", err)
	}
	if err := u.Unlock(ctx, []byte("right one")); err != nil || u.Locked() {
		t.Fatalf("Unlock: %v, Locked %v", err, u.Locked())
	}
	if err := <-got; err != nil {
		t.Fatalf("the waiting Get after Unlock: %v", err)
	}
	// Later calls use it without waiting.
	if err := f.Set(ctx, "c/d", "value-2"); err != nil {
		t.Fatal(err)
	}
}

// TestLockedFileNew: a passphrase for a file not yet there is taken as it
// is (the dialog confirms it), and creates nothing until a secret is saved.
func TestLockedFileNew(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.enc")
	f := newLockedTestFile(path)
	if exists, err := f.Exists(); err != nil || exists {
		t.Fatalf("Exists() = %v, %v", exists, err)
	}
	if err := f.Unlock(ctx, []byte("new one")); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Unlock created the file: %v", err)
	}
	if err := f.Set(ctx, "a/b", "value-1"); err != nil {
		t.Fatal(err)
	}
	if v, err := newTestFile(path, "new one", nil).Get(ctx, "a/b"); err != nil || v != "value-1" {
		t.Fatalf("the file does not open with the passphrase given: %v", err)
	}
}

// TestLockedFileClosed: declining the passphrase fails the waiting calls
// and every later one with a message that says what happened, and a
// cancelled call stops waiting.
func TestLockedFileClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.enc")
	f := newLockedTestFile(path)
	cctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := f.Set(cctx, "a/b", "v"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("a cancelled call waiting for the passphrase: %v", err)
	}
	got := make(chan error, 1)
	go func() { _, err := f.Get(context.Background(), "a/b"); got <- err }()
	go func() { got <- f.Set(context.Background(), "a/b", "v") }()
	time.Sleep(50 * time.Millisecond)
	f.Close()
	if !f.Closed() || f.Locked() {
		t.Fatalf("after Close: Closed %v, Locked %v", f.Closed(), f.Locked())
	}
	for range 2 {
		err := <-got
		// Get of an absent file is "not found" without a passphrase.
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if !errors.Is(err, ErrNoPassphrase) {
			t.Fatalf("a call waiting when the store was closed: %v", err)
		}
	}
	err := f.Set(context.Background(), "a/b", "v")
	if !errors.Is(err, ErrNoPassphrase) || !containsAll(err.Error(), "closed", "restart keyturn", EnvPassphrase) {
		t.Fatalf("a call after Close: %v", err)
	}
	if _, statErr := os.Stat(path); !errors.Is(statErr, os.ErrNotExist) {
		t.Fatal("a closed store wrote the file")
	}
}

func containsAll(s string, subs ...string) bool {
	for _, x := range subs {
		if !strings.Contains(s, x) {
			return false
		}
	}
	return true
}
