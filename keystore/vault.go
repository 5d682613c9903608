package keystore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"time"

	"keyturn/config"
)

// ErrIndexNotUpdated is wrapped by Put's error when the secret was stored but
// its index entry could not be written: the value is safe in the store.
var ErrIndexNotUpdated = errors.New("secret stored, but its index entry was not written")

// Vault is a Backend plus the index of secrets kept in the config file. The
// two are kept consistent: the secret is written before its index entry and
// deleted before it, and a name whose secret has gone is reported by List,
// not hidden.
type Vault struct {
	b   Backend
	idx *config.File
	now func() time.Time
}

// Entry is an index entry as List reports it.
type Entry struct {
	config.SecretMeta
	// Missing is set (by List with check) when the index names a secret
	// that the store no longer holds.
	Missing bool `json:"missing,omitempty"`
	// Unindexed is set (by List with check, for a store shared with a
	// team) on a secret the store holds and this index does not name: a
	// teammate's.
	Unindexed bool `json:"unindexed,omitempty"`
}

// shared is a store others write to (the pass store): what it holds
// beyond this index is theirs, and worth listing.
type shared interface {
	Lister
	Shared() bool
}

// NewVault pairs backend b with the index in the config file cfg.
func NewVault(b Backend, cfg *config.File) *Vault {
	return &Vault{b: b, idx: cfg, now: time.Now}
}

// Backend is the name of the vault's backend: "keyring", "file" or "memory".
func (v *Vault) Backend() string { return v.b.Name() }

// opener is a backend that can be made ready before it is first used (the
// file store: its passphrase).
type opener interface {
	Open(ctx context.Context) error
}

// Open makes the store ready now where it needs something of the person
// (the file store's passphrase); other stores are always ready.
func (v *Vault) Open(ctx context.Context) error {
	if o, ok := v.b.(opener); ok {
		return o.Open(ctx)
	}
	return nil
}

// Put stores value under meta.Name, then records meta in the index. The
// fingerprint is computed here unless meta carries one (a structured value
// names the fingerprint of the token inside it); on overwrite the first Created is kept and
// Rotated is set to now; a new entry gets Created = now unless meta has one.
//
// If the store fails, Put returns its error (which never holds the value)
// and the index is not touched: the caller still holds the value and decides
// what to do with it. If the index cannot be written after the secret was
// stored, the error wraps ErrIndexNotUpdated.
func (v *Vault) Put(ctx context.Context, meta config.SecretMeta, value string) error {
	if err := ValidName(meta.Name); err != nil {
		return err
	}
	if value == "" {
		return fmt.Errorf("secret %s: refusing to store an empty value", meta.Name)
	}
	if err := v.b.Set(ctx, meta.Name, value); err != nil {
		return err
	}
	now := v.now().UTC().Truncate(time.Second)
	if meta.Fingerprint == "" {
		meta.Fingerprint = Fingerprint(value)
	}
	err := v.idx.UpdateContext(context.WithoutCancel(ctx), func(c *config.Config) error {
		indexEntry(c, meta, now)
		return nil
	})
	if err != nil {
		return fmt.Errorf("%s: %w in %s (%w)", meta.Name, ErrIndexNotUpdated, v.idx.Path, err)
	}
	return nil
}

// indexEntry records meta in the index: the first Created is kept on
// overwrite and Rotated set to now; a new entry gets Created = now unless
// meta has one.
func indexEntry(c *config.Config, meta config.SecretMeta, now time.Time) {
	indexEntries(c, []config.SecretMeta{meta}, now, false)
}

// indexEntries records metas as indexEntry does, with one lookup table
// for them all (a batch of thousands into an index of thousands). With
// onlyNew, a name the index has already is left as it is.
func indexEntries(c *config.Config, metas []config.SecretMeta, now time.Time, onlyNew bool) {
	at := c.SecretIndex()
	for _, meta := range metas {
		i, ok := at[meta.Name]
		switch {
		case ok && onlyNew:
			continue
		case ok:
			old := c.Secrets[i]
			rotated := now
			meta.Created, meta.Rotated = old.Created, &rotated
			if meta.Account == "" {
				meta.Account = old.Account
			}
			if meta.Kind == "" {
				meta.Kind = old.Kind
			}
			if meta.Label == "" {
				meta.Label = old.Label
			}
			c.Secrets[i] = meta
			continue
		case meta.Created.IsZero():
			meta.Created = now
		}
		at[meta.Name] = len(c.Secrets)
		c.Secrets = append(c.Secrets, meta)
	}
}

// Get returns the value stored under name.
func (v *Vault) Get(ctx context.Context, name string) (string, error) {
	if err := ValidName(name); err != nil {
		return "", err
	}
	return v.b.Get(ctx, name)
}

// Delete removes the secret, then its index entry. A name whose secret is
// already gone from the store still has its index entry removed. If neither
// the store nor the index knew the name, the error wraps ErrNotFound. If the
// store fails otherwise, the index is left as it is.
func (v *Vault) Delete(ctx context.Context, name string) error {
	if err := ValidName(name); err != nil {
		return err
	}
	storeErr := v.b.Delete(ctx, name)
	if storeErr != nil && !errors.Is(storeErr, ErrNotFound) {
		return storeErr
	}
	removed := false
	if err := v.idx.UpdateContext(context.WithoutCancel(ctx), func(c *config.Config) error {
		removed = c.RemoveSecret(name)
		return nil
	}); err != nil {
		return fmt.Errorf("%s: deleted from the %s store, but its index entry was not removed: %w", name, v.b.Name(), err)
	}
	if storeErr != nil && !removed {
		return storeErr
	}
	return nil
}

// List returns the index entries, sorted by name. With check, it also asks
// the backend which of them it holds (one List where the backend can list,
// else a Get for each) and marks Missing those whose secret is gone; a
// backend error other than not-found ends the check with that error.
func (v *Vault) List(ctx context.Context, check bool) ([]Entry, error) {
	var out []Entry
	// Read, not Load: the entries are copied once, here, not the whole
	// config first.
	err := v.idx.Read(func(c *config.Config) {
		out = make([]Entry, 0, len(c.Secrets))
		for _, m := range c.Secrets {
			out = append(out, Entry{SecretMeta: m.Clone()})
		}
	})
	if err != nil {
		return nil, err
	}
	slices.SortFunc(out, byName)
	if !check {
		return out, nil
	}
	// A store that can name what it holds is asked once, not per entry
	// (the file store decrypts the whole file on every Get).
	if held, err := v.held(ctx); err != nil {
		return nil, err
	} else if held != nil {
		for i := range out {
			out[i].Missing = !held[out[i].Name]
		}
		return v.withUnindexed(ctx, out)
	}
	for i := range out {
		if _, err := v.b.Get(ctx, out[i].Name); err != nil {
			if !errors.Is(err, ErrNotFound) {
				return nil, err
			}
			out[i].Missing = true
		}
	}
	return v.withUnindexed(ctx, out)
}

// withUnindexed adds to a shared store's list the secrets it holds that
// the index does not name, sorted in with the rest.
func (v *Vault) withUnindexed(ctx context.Context, out []Entry) ([]Entry, error) {
	if s, ok := v.b.(shared); !ok || !s.Shared() {
		return out, nil
	}
	names, err := v.Unindexed(ctx)
	if err != nil {
		return nil, err
	}
	for _, n := range names {
		out = append(out, Entry{SecretMeta: config.SecretMeta{Name: n}, Unindexed: true})
	}
	slices.SortFunc(out, byName)
	return out, nil
}

func byName(a, b Entry) int { return strings.Compare(a.Name, b.Name) }

// held is the set of names the store holds, or nil when it cannot list
// them.
func (v *Vault) held(ctx context.Context) (map[string]bool, error) {
	if ns, ok := v.b.(nameSetter); ok {
		return ns.nameSet(ctx)
	}
	l, ok := v.b.(Lister)
	if !ok {
		return nil, nil
	}
	names, err := l.List(ctx)
	if errors.Is(err, errors.ErrUnsupported) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	held := make(map[string]bool, len(names))
	for _, n := range names {
		held[n] = true
	}
	return held, nil
}

// Sync pulls and pushes a store shared through a remote (the pass store's
// git); other stores have nothing to sync (the error wraps ErrNoSync).
func (v *Vault) Sync(ctx context.Context) (*SyncReport, error) {
	s, ok := v.b.(Syncer)
	if !ok {
		return nil, fmt.Errorf("the %s store is not shared: %w (use --store pass)", v.b.Name(), ErrNoSync)
	}
	return s.Sync(ctx)
}

// ErrCannotList is wrapped by Unindexed's error when the store cannot name
// what it holds.
var ErrCannotList = errors.New("this store cannot list the secrets it holds")

// Unindexed names the secrets the store holds that the index does not:
// entries lost when a crash came between storing secrets and writing their
// index entries (a Batch not yet flushed). The error wraps ErrCannotList
// when the backend cannot tell.
func (v *Vault) Unindexed(ctx context.Context) ([]string, error) {
	l, ok := v.b.(Lister)
	if !ok {
		return nil, fmt.Errorf("%s: %w", v.b.Name(), ErrCannotList)
	}
	names, err := l.List(ctx)
	if errors.Is(err, errors.ErrUnsupported) {
		return nil, fmt.Errorf("%s: %w (%w)", v.b.Name(), ErrCannotList, err)
	}
	if err != nil {
		return nil, err
	}
	c, err := v.idx.Load()
	if err != nil {
		return nil, err
	}
	var out []string
	for _, n := range names {
		if _, ok := c.Secret(n); !ok && ValidName(n) == nil {
			out = append(out, n)
		}
	}
	sort.Strings(out)
	return out, nil
}

// Reindex writes index entries for secrets already in the store, in one
// update of the config file; a name the index has meanwhile is left as it
// is.
func (v *Vault) Reindex(ctx context.Context, metas []config.SecretMeta) error {
	if len(metas) == 0 {
		return nil
	}
	now := v.now().UTC().Truncate(time.Second)
	return v.idx.UpdateContext(context.WithoutCancel(ctx), func(c *config.Config) error {
		indexEntries(c, metas, now, true)
		return nil
	})
}
