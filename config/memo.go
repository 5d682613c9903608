package config

import (
	"encoding/json"
	"maps"
	"slices"
	"sync"
)

// memo is the last config a File decoded, with a digest of the bytes it
// came from. A read of a file with the same digest uses it (Load copies it)
// instead of decoding again: at 10,000 index entries a decode costs tens of
// milliseconds, and one bulk rotation or one TUI screen reads the file
// several times, where digesting it costs about a millisecond. The bytes
// decide, not the file's size and time: a rename can reuse an inode and file
// times are coarse. A digest, not the bytes themselves: they were megabytes
// held for the life of the process, and twice that while a run's garbage
// collector lets the heap grow to twice what is live.
type memo struct {
	mu  sync.Mutex
	sum digest
	cfg *Config
}

// held is the digest of what the remembered config came from, if any.
func (m *memo) held() (digest, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return m.sum, m.cfg != nil
}

// get is the remembered config if sum is the digest it came from. Nobody
// may change it: it is shared by every reader.
func (m *memo) get(sum digest) (*Config, bool) {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.cfg == nil || m.sum != sum {
		return nil, false
	}
	return m.cfg, true
}

// put remembers c as what data decodes to. From now on c is shared: the
// caller must not change it.
func (m *memo) put(data []byte, c *Config) {
	sum := digestOf(data)
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sum, m.cfg = sum, c
}

// clone copies c deeply: nothing the copy holds is shared with c, so a
// caller changing its config (as Update's fn does) leaves the memo as it
// was. TestCloneSharesNothing holds every field to this.
func (c *Config) clone() *Config {
	d := *c
	d.Accounts = slices.Clone(c.Accounts)
	for i := range d.Accounts {
		d.Accounts[i] = d.Accounts[i].Clone()
	}
	d.Secrets = slices.Clone(c.Secrets)
	for i := range d.Secrets {
		d.Secrets[i] = d.Secrets[i].Clone()
	}
	d.Policies = slices.Clone(c.Policies)
	d.Consumers = slices.Clone(c.Consumers)
	if c.extra != nil {
		d.extra = make(map[string]json.RawMessage, len(c.extra))
		for k, v := range maps.All(c.extra) {
			d.extra[k] = slices.Clone(v)
		}
	}
	return &d
}

func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// Clone is a copy of a that shares nothing with it (Read's lookups hand
// out clones).
func (a Account) Clone() Account {
	a.MFAUnconfirmed = clonePtr(a.MFAUnconfirmed)
	a.Server = clonePtr(a.Server)
	return a
}

// Clone is a copy of m that shares nothing with it.
func (m SecretMeta) Clone() SecretMeta {
	m.Rotated = clonePtr(m.Rotated)
	m.Expires = clonePtr(m.Expires)
	return m
}
