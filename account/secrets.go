package account

import (
	"context"
	"strings"

	"keyturn/config"
)

// ReadSecret reads a stored value for the person to use, and logs how:
// action is ActReveal (shown), ActCopy (to the clipboard) or ActExec (into
// a command's environment).
func (m *Manager) ReadSecret(ctx context.Context, name, action string) (string, error) {
	v, err := m.vault.Get(ctx, name)
	m.audit(ctx, Event{Action: action, Account: m.secretAccount(name), Secret: name}, err)
	return v, err
}

// SetSecret stores a value the person gave (an import), with its index
// entry.
func (m *Manager) SetSecret(ctx context.Context, meta config.SecretMeta, value string) error {
	err := m.vault.Put(ctx, meta, value)
	acct := meta.Account
	if acct == "" {
		acct = m.secretAccount(meta.Name)
	}
	m.audit(ctx, Event{Action: ActSecretSet, Account: acct, Secret: meta.Name}, err)
	return err
}

// DeleteSecret drops a stored value and its index entry (nothing is
// revoked on a server).
func (m *Manager) DeleteSecret(ctx context.Context, name string) error {
	acct := m.secretAccount(name)
	err := m.vault.Delete(ctx, name)
	m.audit(ctx, Event{Action: ActSecretDelete, Account: acct, Secret: name}, err)
	return err
}

// secretAccount is the account a stored secret belongs to: its index
// entry's, else the first part of its name when that is an account.
func (m *Manager) secretAccount(name string) string {
	c, err := m.cfg.Load()
	if err != nil {
		return ""
	}
	if meta, ok := c.Secret(name); ok && meta.Account != "" {
		return meta.Account
	}
	if first, _, ok := strings.Cut(name, "/"); ok {
		if _, known := c.Account(first); known {
			return first
		}
	}
	return ""
}
