package keystore

import (
	"context"
	"errors"
	"path/filepath"
	"slices"
	"testing"

	"keyturn/config"
)

// Every backend that can enumerate names what it holds, so the vault can
// tell which secrets lost their index entries.
func TestListersNameWhatTheyHold(t *testing.T) {
	ctx := context.Background()
	backends := map[string]Backend{
		"memory": NewMemory(),
		"file":   newTestFile(filepath.Join(t.TempDir(), "secrets.enc"), "pass", nil),
	}
	for what, b := range backends {
		l, ok := b.(Lister)
		if !ok {
			t.Fatalf("%s: not a Lister", what)
		}
		if names, err := l.List(ctx); err != nil || len(names) != 0 {
			t.Fatalf("%s: empty store lists %v, %v", what, names, err)
		}
		cf := config.Open(filepath.Join(t.TempDir(), "config.json"))
		v := NewVault(b, cf)
		if err := v.Put(ctx, config.SecretMeta{Name: "a/pat/x", Account: "a", Kind: "pat"}, "token-value-0001"); err != nil {
			t.Fatal(err)
		}
		batch := v.Batch()
		for _, n := range []string{"a/pat/y", "a/command/z"} {
			if err := batch.Put(ctx, config.SecretMeta{Name: n, Account: "a"}, "token-value-"+n); err != nil {
				t.Fatal(err)
			}
		}
		// A crash before batch.Flush: two secrets stored, not indexed.
		names, err := l.List(ctx)
		if err != nil || !slices.Equal(names, []string{"a/command/z", "a/pat/x", "a/pat/y"}) {
			t.Fatalf("%s: List = %v, %v", what, names, err)
		}
		lost, err := v.Unindexed(ctx)
		if err != nil || !slices.Equal(lost, []string{"a/command/z", "a/pat/y"}) {
			t.Fatalf("%s: Unindexed = %v, %v", what, lost, err)
		}
		if err := v.Reindex(ctx, []config.SecretMeta{{Name: "a/pat/y", Account: "a", Kind: "pat", Fingerprint: "-"}}); err != nil {
			t.Fatal(err)
		}
		if lost, _ := v.Unindexed(ctx); !slices.Equal(lost, []string{"a/command/z"}) {
			t.Fatalf("%s: after Reindex, Unindexed = %v", what, lost)
		}
	}
}

// A backend that cannot enumerate makes Unindexed say so, not guess.
func TestUnindexedNeedsALister(t *testing.T) {
	v := NewVault(struct{ Backend }{NewMemory()}, config.Open(filepath.Join(t.TempDir(), "config.json")))
	if _, err := v.Unindexed(context.Background()); !errors.Is(err, ErrCannotList) {
		t.Fatalf("want ErrCannotList, got %v", err)
	}
	k := newKeyring(&fakeProvider{}, 0)
	k.preflight = nil
	k.list = func(string) ([]string, error) { return nil, errors.ErrUnsupported }
	v = NewVault(k, config.Open(filepath.Join(t.TempDir(), "config.json")))
	if _, err := v.Unindexed(context.Background()); !errors.Is(err, ErrCannotList) {
		t.Fatalf("keyring without listing: want ErrCannotList, got %v", err)
	}
}

// The Secret Service names keyturn's items back.
func TestKeyringListsItsItems(t *testing.T) {
	k := realKeyring(t)
	ctx := context.Background()
	name := testName(t, "listed")
	t.Cleanup(func() { _ = k.Delete(context.Background(), name) })
	if err := k.Set(ctx, name, "listed-token-0123456789"); err != nil {
		t.Fatal(err)
	}
	names, err := k.(Lister).List(ctx)
	if err != nil || !slices.Contains(names, name) {
		t.Fatalf("List: %v (%d names), want %s among them", err, len(names), name)
	}
}
