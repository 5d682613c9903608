package keystore_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"keyturn/config"
	"keyturn/keystore"
	"keyturn/keystore/keystoretest"
)

func newVault(t *testing.T, b keystore.Backend) (*keystore.Vault, *config.File) {
	t.Helper()
	cfg := config.Open(filepath.Join(t.TempDir(), "config.json"))
	return keystore.NewVault(b, cfg), cfg
}

const tokenA = "mm-token-aaaaaaaaaaaaaaaaaaaaaaWXYZ"
const tokenB = "mm-token-bbbbbbbbbbbbbbbbbbbbbbQRST"

func TestVaultPutGetAndIndex(t *testing.T) {
	ctx := context.Background()
	v, cfg := newVault(t, keystore.NewMemory())
	if v.Backend() != "memory" {
		t.Errorf("Backend() = %q", v.Backend())
	}
	meta := config.SecretMeta{Name: "prod/command/abc123", Account: "prod", Kind: "command-token", ID: "abc123"}
	if err := v.Put(ctx, meta, tokenA); err != nil {
		t.Fatal(err)
	}
	if got, err := v.Get(ctx, meta.Name); err != nil || got != tokenA {
		t.Fatalf("Get after Put: err=%v, value matches=%v", err, got == tokenA)
	}
	c, _ := cfg.Load()
	m, ok := c.Secret(meta.Name)
	if !ok {
		t.Fatal("no index entry after Put")
	}
	if m.Fingerprint != "WXYZ" || m.Account != "prod" || m.Kind != "command-token" || m.ID != "abc123" || m.Created.IsZero() || m.Rotated != nil {
		t.Errorf("index entry after first Put: %+v", m)
	}
	created := m.Created
	// The index holds no value.
	raw, _ := os.ReadFile(cfg.Path)
	if strings.Contains(string(raw), tokenA) || strings.Contains(string(raw), tokenA[:20]) {
		t.Fatal("the config file holds the secret's value")
	}

	// Overwrite: created kept, rotated set, fingerprint updated.
	time.Sleep(1100 * time.Millisecond) // timestamps are kept to the second
	if err := v.Put(ctx, config.SecretMeta{Name: meta.Name, ID: "abc123"}, tokenB); err != nil {
		t.Fatal(err)
	}
	c, _ = cfg.Load()
	m, _ = c.Secret(meta.Name)
	if !m.Created.Equal(created) || m.Rotated == nil || !m.Rotated.After(created) || m.Fingerprint != "QRST" {
		t.Errorf("index entry after overwrite: %+v (created before: %v)", m, created)
	}
	if m.Account != "prod" || m.Kind != "command-token" {
		t.Errorf("overwrite without account/kind dropped them: %+v", m)
	}
	if len(c.Secrets) != 1 {
		t.Errorf("%d index entries after overwrite, want 1", len(c.Secrets))
	}
}

// TestVaultWriteOrder: when the store fails, Put returns an error that holds
// no value, and the index is untouched; the caller still holds the value.
func TestVaultWriteOrder(t *testing.T) {
	ctx := context.Background()
	failing := keystoretest.NewFailing(errors.New("collection is locked"), "set")
	v, cfg := newVault(t, failing)
	// One entry from before.
	if err := cfg.Update(func(c *config.Config) error {
		c.PutSecret(config.SecretMeta{Name: "old/one", Fingerprint: "abcd"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(cfg.Path)
	value := "issued-token-that-must-not-leak-1234"
	err := v.Put(ctx, config.SecretMeta{Name: "prod/new", Account: "prod"}, value)
	if err == nil {
		t.Fatal("Put on a failing store succeeded")
	}
	if strings.Contains(err.Error(), value) || strings.Contains(err.Error(), value[len(value)-4:]) {
		t.Error("Put's error holds the value")
	}
	if !errors.Is(err, keystore.ErrUnavailable) || !strings.Contains(err.Error(), "collection is locked") {
		t.Errorf("Put's error does not carry the store's: %v", err)
	}
	after, _ := os.ReadFile(cfg.Path)
	if string(before) != string(after) {
		t.Error("the index changed although the store failed")
	}
	if failing.Calls("set") != 1 {
		t.Errorf("store Set called %d times", failing.Calls("set"))
	}
}

// TestVaultIndexFailureAfterStore: the secret is stored, the index cannot be
// written; the error says so.
func TestVaultIndexFailureAfterStore(t *testing.T) {
	ctx := context.Background()
	mem := keystore.NewMemory()
	dir := t.TempDir()
	cfg := config.Open(filepath.Join(dir, "config.json"))
	os.WriteFile(cfg.Path, []byte("{broken"), 0o600)
	v := keystore.NewVault(mem, cfg)
	err := v.Put(ctx, config.SecretMeta{Name: "a/b"}, tokenA)
	if !errors.Is(err, keystore.ErrIndexNotUpdated) || !errors.Is(err, config.ErrDamaged) {
		t.Fatalf("Put with a damaged index: %v, want ErrIndexNotUpdated wrapping config.ErrDamaged", err)
	}
	if got, err := mem.Get(ctx, "a/b"); err != nil || got != tokenA {
		t.Error("the secret is not in the store although Put said it was")
	}
}

func TestVaultListMissing(t *testing.T) {
	ctx := context.Background()
	mem := keystore.NewMemory()
	v, _ := newVault(t, mem)
	for _, n := range []string{"b/two", "a/one", "c/three"} {
		if err := v.Put(ctx, config.SecretMeta{Name: n}, tokenA); err != nil {
			t.Fatal(err)
		}
	}
	// The secret vanishes from the store behind the index's back.
	if err := mem.Delete(ctx, "b/two"); err != nil {
		t.Fatal(err)
	}
	list, err := v.List(ctx, false)
	if err != nil || len(list) != 3 || list[0].Name != "a/one" || list[2].Name != "c/three" {
		t.Fatalf("List(false) = %+v, %v; want 3 entries sorted by name", list, err)
	}
	for _, e := range list {
		if e.Missing {
			t.Errorf("List without check marked %s missing", e.Name)
		}
	}
	list, err = v.List(ctx, true)
	if err != nil || len(list) != 3 {
		t.Fatalf("List(true) = %+v, %v", list, err)
	}
	for _, e := range list {
		if e.Missing != (e.Name == "b/two") {
			t.Errorf("List(true): %s missing=%v", e.Name, e.Missing)
		}
	}
	// A store that cannot be asked makes the check fail, not report everything missing.
	v2 := keystore.NewVault(keystoretest.NewFailing(nil, "get", "list"), config.Open(filepath.Join(t.TempDir(), "c.json")))
	v2.Put(ctx, config.SecretMeta{Name: "x/y"}, tokenA)
	if _, err := v2.List(ctx, true); !errors.Is(err, keystore.ErrUnavailable) {
		t.Errorf("List(true) on a failing store: %v", err)
	}
	if l, err := v2.List(ctx, false); err != nil || len(l) != 1 {
		t.Errorf("List(false) on a failing store: %v, %v", l, err)
	}
}

// A store that can name what it holds is asked once for the check, not
// once per entry: 'secret list' with 10,000 entries in the file store
// decrypted the whole file 10,000 times. One that cannot is asked per entry.
func TestVaultListChecksWithOneListing(t *testing.T) {
	ctx := context.Background()
	counting := keystoretest.NewFailing(nil, "nothing")
	v, _ := newVault(t, counting)
	for i := range 50 {
		if err := v.Put(ctx, config.SecretMeta{Name: fmt.Sprintf("a/%02d", i)}, tokenA); err != nil {
			t.Fatal(err)
		}
	}
	if err := counting.Inner.Delete(ctx, "a/07"); err != nil {
		t.Fatal(err)
	}
	list, err := v.List(ctx, true)
	if err != nil || len(list) != 50 {
		t.Fatalf("List(true) = %d entries, %v", len(list), err)
	}
	for _, e := range list {
		if e.Missing != (e.Name == "a/07") {
			t.Errorf("List(true): %s missing=%v", e.Name, e.Missing)
		}
	}
	if g, l := counting.Calls("get"), counting.Calls("list"); g != 0 || l != 1 {
		t.Errorf("the check asked the store %d times by name and listed it %d times, want 0 and 1", g, l)
	}
	// A keyring that cannot list (macOS, Windows) is asked per entry.
	cannot := keystoretest.NewFailing(errors.ErrUnsupported, "list")
	v, _ = newVault(t, cannot)
	for _, n := range []string{"b/one", "b/two"} {
		if err := v.Put(ctx, config.SecretMeta{Name: n}, tokenA); err != nil {
			t.Fatal(err)
		}
	}
	cannot.Inner.Delete(ctx, "b/two")
	list, err = v.List(ctx, true)
	if err != nil || len(list) != 2 || list[0].Missing || !list[1].Missing {
		t.Fatalf("List(true) on a store that cannot list = %+v, %v", list, err)
	}
	if g := cannot.Calls("get"); g != 2 {
		t.Errorf("a store that cannot list was asked %d times by name, want 2", g)
	}
}

func TestVaultDelete(t *testing.T) {
	ctx := context.Background()
	mem := keystore.NewMemory()
	v, cfg := newVault(t, mem)
	v.Put(ctx, config.SecretMeta{Name: "a/one"}, tokenA)
	v.Put(ctx, config.SecretMeta{Name: "a/two"}, tokenB)
	if err := v.Delete(ctx, "a/one"); err != nil {
		t.Fatal(err)
	}
	if _, err := mem.Get(ctx, "a/one"); !errors.Is(err, keystore.ErrNotFound) {
		t.Error("secret still in the store after Delete")
	}
	c, _ := cfg.Load()
	if _, ok := c.Secret("a/one"); ok {
		t.Error("index entry still there after Delete")
	}
	// Secret already gone from the store: the index is still cleaned.
	mem.Delete(ctx, "a/two")
	if err := v.Delete(ctx, "a/two"); err != nil {
		t.Errorf("Delete of a name whose secret is gone: %v", err)
	}
	c, _ = cfg.Load()
	if len(c.Secrets) != 0 {
		t.Errorf("index not cleaned: %+v", c.Secrets)
	}
	// Neither knows the name.
	if err := v.Delete(ctx, "a/none"); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("Delete of an unknown name: %v, want ErrNotFound", err)
	}
	// A store failure leaves the index alone.
	fv, fcfg := newVault(t, keystoretest.NewFailing(nil, "delete"))
	fv.Put(ctx, config.SecretMeta{Name: "a/kept"}, tokenA)
	if err := fv.Delete(ctx, "a/kept"); !errors.Is(err, keystore.ErrUnavailable) {
		t.Errorf("Delete on a failing store: %v", err)
	}
	c, _ = fcfg.Load()
	if _, ok := c.Secret("a/kept"); !ok {
		t.Error("index entry removed although the store failed to delete")
	}
}

func TestVaultNamesAndValues(t *testing.T) {
	ctx := context.Background()
	v, _ := newVault(t, keystore.NewMemory())
	if err := v.Put(ctx, config.SecretMeta{Name: "../etc/passwd"}, tokenA); err == nil {
		t.Error("Put accepted a bad name")
	}
	if err := v.Put(ctx, config.SecretMeta{Name: "a/b"}, ""); err == nil {
		t.Error("Put accepted an empty value")
	}
	if _, err := v.Get(ctx, "bad name"); err == nil {
		t.Error("Get accepted a bad name")
	}
	if _, err := v.Get(ctx, "a/b"); !errors.Is(err, keystore.ErrNotFound) || !strings.Contains(err.Error(), "not found") {
		t.Errorf("Get of a missing secret: %v", err)
	}
}

// TestVaultHangingStore: a store that hangs returns when the context ends,
// and the index is untouched.
func TestVaultHangingStore(t *testing.T) {
	h := &keystoretest.Hanging{Ops: []string{"set"}}
	v, cfg := newVault(t, h)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	err := v.Put(ctx, config.SecretMeta{Name: "a/b"}, tokenA)
	if !errors.Is(err, context.DeadlineExceeded) || !errors.Is(err, keystore.ErrUnavailable) {
		t.Fatalf("Put on a hanging store: %v", err)
	}
	select {
	case <-h.Started():
	default:
		t.Error("Started not closed")
	}
	if _, err := os.Stat(cfg.Path); !errors.Is(err, os.ErrNotExist) {
		t.Error("index written although the store hung")
	}
	// Release ends a hang too.
	h2 := &keystoretest.Hanging{Release: make(chan struct{})}
	close(h2.Release)
	if err := h2.Set(context.Background(), "a/b", tokenA); !errors.Is(err, keystoretest.ErrFailing) {
		t.Errorf("released hang: %v", err)
	}
	// Operations not listed pass through.
	if _, err := h.Get(context.Background(), "a/b"); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("Get on Hanging{Ops: set}: %v", err)
	}
}

func TestFileVaultEndToEnd(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	t.Setenv(keystore.EnvPassphrase, "end to end")
	b, err := keystore.Open("file", keystore.Options{File: filepath.Join(dir, "secrets.enc"), Passphrase: keystore.PassphraseFromEnv})
	if err != nil {
		t.Fatal(err)
	}
	v := keystore.NewVault(b, config.Open(filepath.Join(dir, "config.json")))
	if err := v.Put(ctx, config.SecretMeta{Name: "work/credential", Account: "work", Kind: "session"}, tokenA); err != nil {
		t.Fatal(err)
	}
	if got, err := v.Get(ctx, "work/credential"); err != nil || got != tokenA {
		t.Fatalf("Get: %v", err)
	}
	l, err := v.List(ctx, true)
	if err != nil || len(l) != 1 || l[0].Missing || l[0].Fingerprint != "WXYZ" {
		t.Fatalf("List: %+v, %v", l, err)
	}
	if err := v.Delete(ctx, "work/credential"); err != nil {
		t.Fatal(err)
	}
}
