package keystore

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

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

// A flush of thousands into an index of thousands (one lookup table for the
// batch): a name already indexed keeps its Created and is marked rotated,
// a name twice in one batch is one entry, a new one gets Created now; and
// Reindex leaves what the index has alone.
func TestBatchFlushIntoALargeIndex(t *testing.T) {
	ctx := context.Background()
	cf := config.Open(filepath.Join(t.TempDir(), "config.json"))
	v := NewVault(NewMemory(), cf)
	first := v.Batch()
	name := func(i int) string { return fmt.Sprintf("acct/command/%04d", i) }
	for i := range 2000 {
		if err := first.Put(ctx, config.SecretMeta{Name: name(i), Account: "acct", Kind: "command"}, "value-long-enough-"+name(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := first.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	created, _ := cf.Load()
	v.now = func() time.Time { return time.Now().Add(time.Hour) }
	second := v.Batch()
	for _, i := range []int{5, 1999, 5, 2000} {
		if err := second.Put(ctx, config.SecretMeta{Name: name(i)}, "another-value-long-enough"); err != nil {
			t.Fatal(err)
		}
	}
	if err := second.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if err := v.Reindex(ctx, []config.SecretMeta{{Name: name(7), Kind: "webhook"}, {Name: "acct/command/new", Account: "acct"}}); err != nil {
		t.Fatal(err)
	}
	c, _ := cf.Load()
	if len(c.Secrets) != 2002 {
		t.Fatalf("%d index entries, want 2002", len(c.Secrets))
	}
	for _, i := range []int{5, 1999} {
		m, _ := c.Secret(name(i))
		was, _ := created.Secret(name(i))
		if m.Rotated == nil || !m.Created.Equal(was.Created) || m.Account != "acct" || m.Kind != "command" {
			t.Errorf("%s after a second flush: %+v (created %v)", name(i), m, was.Created)
		}
	}
	if m, _ := c.Secret(name(2000)); m.Rotated != nil || m.Created.IsZero() {
		t.Errorf("a new name: %+v", m)
	}
	if m, _ := c.Secret(name(7)); m.Kind != "command" || m.Rotated != nil {
		t.Errorf("Reindex changed an entry the index had: %+v", m)
	}
	if _, ok := c.Secret("acct/command/new"); !ok {
		t.Error("Reindex did not add a new name")
	}
}
