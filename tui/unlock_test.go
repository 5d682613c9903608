package tui

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"keyturn/config"
	"keyturn/keystore"
)

// lockedHarness runs the app over a file store waiting for its passphrase,
// as keyturn opens it without KEYTURN_FILE_PASSPHRASE.
func lockedHarness(t *testing.T, path string) (*harness, keystore.Unlocker) {
	t.Helper()
	h := newHarness(t, harnessOpts{backend: keystore.NewLockedFile(path)})
	u := h.mgr.Vault().Unlocker()
	if u == nil {
		t.Fatal("the vault has no Unlocker")
	}
	return h, u
}

// A new secrets file: the passphrase is asked twice in a masked dialog; two
// different ones say so and ask again; the same one twice opens the store.
func TestUnlockDialogNewFileAsksTwice(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.enc")
	h, u := lockedHarness(t, path)
	h.says("Open the secrets file", "a new encrypted file", "/secrets.enc", "Passphrase:")
	h.contains("store: file (locked)")
	// Keys go to the dialog, not to the list under it.
	h.typeText("first-pass")
	h.lacks("first-pass")
	h.contains("••••")
	h.press("enter")
	h.says("Again:")
	h.typeText("frist-pass")
	h.press("enter")
	h.says("The two passphrases differ. Type it again, twice.")
	if !u.Locked() {
		t.Fatal("a mismatch unlocked the store")
	}
	h.lacks("Again:")
	h.typeText("first-pass")
	h.press("enter")
	h.typeText("first-pass")
	h.press("enter")
	h.lacks("Open the secrets file", "(locked)")
	h.contains("store: file")
	if u.Locked() {
		t.Fatal("the store is still locked")
	}
	// What is saved now lands in the file, under that passphrase.
	ctx := context.Background()
	if err := h.mgr.Vault().Put(ctx, config.SecretMeta{Name: "mm/pat/x", Account: mmAcct, Kind: "pat"}, "a-token-value-0123456789"); err != nil {
		t.Fatal(err)
	}
	if v, err := keystore.NewFile(path, func() ([]byte, error) { return []byte("first-pass"), nil }).Get(ctx, "mm/pat/x"); err != nil || v != "a-token-value-0123456789" {
		t.Fatalf("the file does not hold the secret under the confirmed passphrase: %v", err)
	}
}

// An existing file: asked once; a wrong passphrase says so and asks again.
func TestUnlockDialogWrongPassphraseAsksAgain(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.enc")
	ctx := context.Background()
	if err := keystore.NewFile(path, func() ([]byte, error) { return []byte("right-pass"), nil }).Set(ctx, "a/b", "value"); err != nil {
		t.Fatal(err)
	}
	h, u := lockedHarness(t, path)
	h.says("Open the secrets file", "/secrets.enc", "Type its passphrase to open it.", "Passphrase:")
	h.lacks("new")
	h.press("enter")
	h.says("Type the passphrase first.")
	h.typeText("wrong-pass")
	h.press("enter")
	h.says("Wrong passphrase: it does not open", "Try again.")
	h.lacks("Again:")
	if !u.Locked() {
		t.Fatal("a wrong passphrase unlocked the store")
	}
	h.typeText("right-pass")
	h.press("enter")
	h.lacks("Open the secrets file", "Wrong passphrase")
	if v, err := h.mgr.Vault().Get(ctx, "a/b"); err != nil || v != "value" {
		t.Fatalf("after unlocking: %v", err)
	}
}

// Esc leaves the store closed, says what that means, and store calls fail
// with a message instead of waiting.
func TestUnlockDialogEscLeavesStoreClosed(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.enc")
	h, u := lockedHarness(t, path)
	h.typeText("half")
	h.press("esc")
	h.lacks("Open the secrets file")
	h.says("The secrets file stays closed",
		"nothing can be read from it or saved to it",
		"kept only in this window (NOT saved)",
		"restart keyturn")
	h.contains("store: file (closed)")
	if !u.Closed() {
		t.Fatal("Esc did not close the store")
	}
	err := h.mgr.Vault().Put(context.Background(), config.SecretMeta{Name: "mm/pat/x", Account: mmAcct, Kind: "pat"}, "a-token-value-0123456789")
	if !errors.Is(err, keystore.ErrNoPassphrase) || !strings.Contains(err.Error(), "closed") {
		t.Fatalf("a store call after Esc: %v", err)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a closed store wrote the file")
	}
}

// A file that is not a secrets file: asking again cannot help, so the
// dialog closes, the store stays closed, and the banner says why.
func TestUnlockDialogDamagedFileClosesTheStore(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.enc")
	if err := os.WriteFile(path, []byte("not a keyturn secrets file at all, just text"), 0o600); err != nil {
		t.Fatal(err)
	}
	h, u := lockedHarness(t, path)
	h.typeText("any-pass")
	h.press("enter")
	h.lacks("Open the secrets file")
	h.says("The secrets file stays closed", "is damaged: not a keyturn secrets file", "nothing can be read from it or saved to it")
	h.contains("store: file (closed)")
	if !u.Closed() {
		t.Fatal("the store is not closed")
	}
	if b, _ := os.ReadFile(path); string(b) != "not a keyturn secrets file at all, just text" {
		t.Fatal("the damaged file was changed")
	}
}
