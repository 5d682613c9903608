package keystore

import (
	"context"
	"fmt"
	"sync"
	"time"

	"keyturn/config"
)

// Batch writes each secret to the store at once, like Vault.Put, but
// queues the index entries and writes them together on Flush: one config
// rewrite for a thousand tokens instead of a thousand. A bulk run uses it
// with its own journal, which records every stored token as it happens,
// so a crash before Flush loses no secret, only index entries the journal
// names.
type Batch struct {
	v       *Vault
	mu      sync.Mutex
	pending []config.SecretMeta
}

// Batch starts a batch over the vault.
func (v *Vault) Batch() *Batch { return &Batch{v: v} }

// Put stores value now and queues its index entry. On a store failure the
// error never holds the value and nothing is queued.
func (b *Batch) Put(ctx context.Context, meta config.SecretMeta, value string) error {
	if err := ValidName(meta.Name); err != nil {
		return err
	}
	if value == "" {
		return fmt.Errorf("secret %s: refusing to store an empty value", meta.Name)
	}
	if err := b.set(ctx, meta.Name, value); err != nil {
		return err
	}
	if meta.Fingerprint == "" {
		meta.Fingerprint = Fingerprint(value)
	}
	b.mu.Lock()
	b.pending = append(b.pending, meta)
	b.mu.Unlock()
	return nil
}

// set writes one secret; a store that records writes (the pass store's
// git) records the batch's together, on Flush.
func (b *Batch) set(ctx context.Context, name, value string) error {
	if c, ok := b.v.b.(Committer); ok {
		return c.SetUncommitted(ctx, name, value)
	}
	return b.v.b.Set(ctx, name, value)
}

// Flush writes the queued index entries in one update of the config file,
// after the store (if it records writes) has recorded the batch's as one.
func (b *Batch) Flush(ctx context.Context) error {
	b.mu.Lock()
	pending := b.pending
	b.pending = nil
	b.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	var commitErr error
	if c, ok := b.v.b.(Committer); ok {
		commitErr = c.Commit(ctx, fmt.Sprintf("keyturn: store %d secret(s)", len(pending)))
	}
	now := b.v.now().UTC().Truncate(time.Second)
	err := b.v.idx.UpdateContext(context.WithoutCancel(ctx), func(c *config.Config) error {
		indexEntries(c, pending, now, false)
		return nil
	})
	if err != nil {
		b.mu.Lock()
		b.pending = append(pending, b.pending...)
		b.mu.Unlock()
		return fmt.Errorf("%d stored secrets: %w in %s (%w)", len(pending), ErrIndexNotUpdated, b.v.idx.Path, err)
	}
	return commitErr
}
