package keystore

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"keyturn/config"
)

func TestBatchStoresAtOnceAndIndexesOnFlush(t *testing.T) {
	ctx := context.Background()
	cf := config.Open(filepath.Join(t.TempDir(), "config.json"))
	v := NewVault(NewMemory(), cf)
	b := v.Batch()
	for _, n := range []string{"acct/command/a", "acct/command/b"} {
		if err := b.Put(ctx, config.SecretMeta{Name: n, Account: "acct", Kind: "command"}, "value-of-"+n+"-long-enough"); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Get(ctx, n); err != nil {
			t.Fatalf("%s must be in the store before Flush: %v", n, err)
		}
	}
	if entries, _ := v.List(ctx, false); len(entries) != 0 {
		t.Fatalf("index before Flush: %d entries", len(entries))
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	entries, _ := v.List(ctx, true)
	if len(entries) != 2 || entries[0].Missing || entries[0].Fingerprint == "" {
		t.Fatalf("index after Flush: %+v", entries)
	}
	// A second flush of the same name counts as a rotation.
	if err := b.Put(ctx, config.SecretMeta{Name: "acct/command/a", Account: "acct", Kind: "command"}, "another-value-long-enough"); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	entries, _ = v.List(ctx, false)
	if entries[0].Rotated == nil {
		t.Fatal("a re-stored name must be marked rotated")
	}
	if err := b.Put(ctx, config.SecretMeta{Name: "../bad"}, "x"); err == nil {
		t.Fatal("bad names must be refused")
	}
}

func TestBatchFlushFailureKeepsEntries(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "config.json")
	cf := config.Open(path)
	v := NewVault(NewMemory(), cf)
	b := v.Batch()
	if err := b.Put(ctx, config.SecretMeta{Name: "acct/pat/x"}, "a-value-long-enough"); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte("{damaged"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err == nil {
		t.Fatal("a damaged config must fail the flush")
	}
	if err := os.WriteFile(path, []byte(`{"version":1}`), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if entries, _ := v.List(ctx, false); len(entries) != 1 {
		t.Fatalf("the entry queued before the failed flush must be written later: %d", len(entries))
	}
}
