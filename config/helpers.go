package config

// Account returns the account called name, as a pointer into c.Accounts (so
// that an Update can change it in place), and whether it exists.
func (c *Config) Account(name string) (*Account, bool) {
	for i := range c.Accounts {
		if c.Accounts[i].Name == name {
			return &c.Accounts[i], true
		}
	}
	return nil, false
}

// PutAccount adds a, or replaces the account with the same name.
func (c *Config) PutAccount(a Account) {
	if old, ok := c.Account(a.Name); ok {
		*old = a
		return
	}
	c.Accounts = append(c.Accounts, a)
}

// RemoveAccount removes the account called name and reports whether it was there.
func (c *Config) RemoveAccount(name string) bool {
	for i := range c.Accounts {
		if c.Accounts[i].Name == name {
			c.Accounts = append(c.Accounts[:i], c.Accounts[i+1:]...)
			return true
		}
	}
	return false
}

// Secret returns the index entry called name, as a pointer into c.Secrets,
// and whether it exists.
func (c *Config) Secret(name string) (*SecretMeta, bool) {
	for i := range c.Secrets {
		if c.Secrets[i].Name == name {
			return &c.Secrets[i], true
		}
	}
	return nil, false
}

// SecretIndex maps each index entry's name to its place in c.Secrets, for
// a caller that looks up many names at once: Secret scans the index, so a
// lookup per token made listing or indexing 10,000 tokens quadratic. It
// holds until c.Secrets changes.
func (c *Config) SecretIndex() map[string]int {
	at := make(map[string]int, len(c.Secrets))
	for i := range c.Secrets {
		at[c.Secrets[i].Name] = i
	}
	return at
}

// PutSecret adds m to the index, or replaces the entry with the same name.
func (c *Config) PutSecret(m SecretMeta) {
	if old, ok := c.Secret(m.Name); ok {
		*old = m
		return
	}
	c.Secrets = append(c.Secrets, m)
}

// RemoveSecret removes the index entry called name and reports whether it was there.
func (c *Config) RemoveSecret(name string) bool {
	for i := range c.Secrets {
		if c.Secrets[i].Name == name {
			c.Secrets = append(c.Secrets[:i], c.Secrets[i+1:]...)
			return true
		}
	}
	return false
}

// SecretsOf returns (a copy of) the index entries that belong to account.
func (c *Config) SecretsOf(account string) []SecretMeta {
	var out []SecretMeta
	for _, m := range c.Secrets {
		if m.Account == account {
			out = append(out, m)
		}
	}
	return out
}
