package config

// Policy is the maximum age of one kind of token: for every account, or
// for one when Account is set (which wins over the general one).
type Policy struct {
	Kind    string `json:"kind"`
	Account string `json:"account,omitempty"`
	MaxAge  string `json:"max_age"` // as account.ParseAge reads it, e.g. "90d"
}

// Policy finds the policy set for exactly kind and account ("" for the
// general one).
func (c *Config) Policy(kind, account string) (*Policy, bool) {
	for i := range c.Policies {
		if p := &c.Policies[i]; p.Kind == kind && p.Account == account {
			return p, true
		}
	}
	return nil, false
}

// PutPolicy adds or replaces the policy for p.Kind and p.Account.
func (c *Config) PutPolicy(p Policy) {
	if old, ok := c.Policy(p.Kind, p.Account); ok {
		*old = p
		return
	}
	c.Policies = append(c.Policies, p)
}

// RemovePolicy drops the policy for kind and account; it reports whether
// there was one.
func (c *Config) RemovePolicy(kind, account string) bool {
	for i, p := range c.Policies {
		if p.Kind == kind && p.Account == account {
			c.Policies = append(c.Policies[:i], c.Policies[i+1:]...)
			return true
		}
	}
	return false
}
