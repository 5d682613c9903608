package keystore

import (
	"context"
	"errors"
	"path/filepath"
	"testing"
)

// Vault.Open asks for the file store's passphrase once, up front: kept for
// a new file (its first write asks nothing more), checked against an
// existing one (a wrong one is an error and is not kept). Other stores have
// nothing to open.
func TestVaultOpenAsksForThePassphraseUpFront(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.enc")
	asked := 0
	with := func(pass string) func() ([]byte, error) {
		return func() ([]byte, error) { asked++; return []byte(pass), nil }
	}

	v := NewVault(NewFile(path, with("right")), nil)
	if err := v.Open(ctx); err != nil || asked != 1 {
		t.Fatalf("opening a new file: %v, asked %d times, want once", err, asked)
	}
	if err := v.b.Set(ctx, "a/b", "value-0123456789abcdef"); err != nil || asked != 1 {
		t.Fatalf("the first write after Open: %v, asked %d times, want no more", err, asked)
	}
	if err := v.Open(ctx); err != nil || asked != 1 {
		t.Fatalf("opening again: %v, asked %d times, want no more", err, asked)
	}

	asked = 0
	wrong := NewVault(NewFile(path, with("wrong")), nil)
	if err := wrong.Open(ctx); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("a wrong passphrase: %v, want ErrWrongPassphrase", err)
	}
	if err := wrong.Open(ctx); !errors.Is(err, ErrWrongPassphrase) || asked != 2 {
		t.Fatalf("a wrong passphrase is kept: %v, asked %d times", err, asked)
	}

	if err := NewVault(NewMemory(), nil).Open(ctx); err != nil {
		t.Fatalf("the memory store: %v", err)
	}
}
