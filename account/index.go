package account

import (
	"context"
	"encoding/json"
	"errors"
	"strings"

	"keyturn/config"
	"keyturn/keystore"
)

// RepairIndex puts back into the index the secrets of this config's
// accounts (one account, or all for "") that the store holds and the
// index lost, as a crash during a bulk run's batch leaves them. It works
// where the store can list what it holds (the error wraps
// keystore.ErrCannotList otherwise) and returns the names it added.
func (m *Manager) RepairIndex(ctx context.Context, account string) ([]string, error) {
	names, err := m.vault.Unindexed(ctx)
	if err != nil {
		return nil, err
	}
	return m.reindex(ctx, account, names)
}

// reindex writes index entries for those of names that belong to this
// config's accounts (to account, if given), are not in the index and are
// in the store. A secret of an account this config does not have may be
// another config's over the same keyring: it is left alone.
func (m *Manager) reindex(ctx context.Context, account string, names []string) ([]string, error) {
	c, err := m.cfg.Load()
	if err != nil {
		return nil, err
	}
	var metas []config.SecretMeta
	var added []string
	indexed := c.SecretIndex()
	for _, name := range names {
		meta, ok := metaFromName(name)
		if !ok || (account != "" && meta.Account != account) {
			continue
		}
		if _, known := c.Account(meta.Account); !known {
			continue
		}
		if _, ok := indexed[name]; ok {
			continue
		}
		v, err := m.vault.Get(ctx, name)
		if errors.Is(err, keystore.ErrNotFound) {
			continue
		}
		if err != nil {
			return added, err
		}
		meta.Fingerprint = keystore.Fingerprint(v)
		if meta.Kind == KindCredential {
			var cred credential
			if json.Unmarshal([]byte(v), &cred) != nil {
				continue
			}
			meta.ID = cred.Via
			tok := cred.Token
			if tok == "" {
				tok = cred.Key
			}
			meta.Fingerprint = fingerprintOrDash(tok)
		}
		metas = append(metas, meta)
		added = append(added, name)
	}
	if err := m.vault.Reindex(ctx, metas); err != nil {
		return nil, err
	}
	return added, nil
}

// metaFromName reads an index entry's account, kind and id back from a
// secret name keyturn gives (SecretName, credentialName); other names
// (a pending challenge, which expires; an import) are not rebuilt.
func metaFromName(name string) (config.SecretMeta, bool) {
	if acct, kind, ok := strings.Cut(name, "/"); ok && kind == KindCredential {
		return config.SecretMeta{Name: name, Account: acct, Kind: KindCredential}, true
	}
	acct, ref, ok := ParseSecretName(name)
	return config.SecretMeta{Name: name, Account: acct, Kind: ref.Kind, ID: ref.ID}, ok
}
