package account

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"keyturn/config"
)

// InputError is a wrong word from the person (an unknown kind, a malformed
// duration): the faces show it as a usage error.
type InputError struct{ Msg string }

func (e *InputError) Error() string { return e.Msg }

// PolicyKinds are the token kinds a policy can bound, in display order.
func PolicyKinds() []string {
	var out []string
	for _, s := range Services {
		for _, k := range KindsOf(s) {
			if !contains(out, k) {
				out = append(out, k)
			}
		}
	}
	return out
}

// Policy is a maximum age, as set.
type Policy struct {
	Kind    string        `json:"kind"`
	Account string        `json:"account,omitempty"` // "" for every account
	MaxAge  time.Duration `json:"-"`
	Text    string        `json:"max_age"` // as ParseAge reads it, e.g. "90d"
}

// checkPolicyKind refuses a kind no service has, or one the named
// account's service does not have.
func (m *Manager) checkPolicyKind(kind, acct string) error {
	kinds := PolicyKinds()
	if !contains(kinds, kind) {
		return &InputError{Msg: fmt.Sprintf("unknown token kind %q: use %s", kind, strings.Join(kinds, ", "))}
	}
	if acct == "" {
		return nil
	}
	a, err := m.account(acct)
	if err != nil {
		return err
	}
	if own := KindsOf(a.Service); !contains(own, kind) {
		return &InputError{Msg: fmt.Sprintf("%s is a %s account, which has no %s tokens (kinds: %s)", acct, a.Service, kind, strings.Join(own, ", "))}
	}
	return nil
}

// SetPolicy sets the maximum age of a kind of token, for one account or
// (acct "") for all. maxAge is read by ParseAge.
func (m *Manager) SetPolicy(ctx context.Context, kind, maxAge, acct string) (*Policy, error) {
	if err := m.checkPolicyKind(kind, acct); err != nil {
		return nil, err
	}
	d, err := ParseAge(maxAge)
	if err != nil {
		return nil, &InputError{Msg: err.Error()}
	}
	p := &Policy{Kind: kind, Account: acct, MaxAge: d, Text: FormatAge(d)}
	err = m.cfg.UpdateContext(ctx, func(c *config.Config) error {
		c.PutPolicy(config.Policy{Kind: kind, Account: acct, MaxAge: p.Text})
		return nil
	})
	if err != nil {
		return nil, err
	}
	return p, nil
}

// UnsetPolicy removes the policy of kind for acct ("" for the general one).
func (m *Manager) UnsetPolicy(ctx context.Context, kind, acct string) error {
	if !contains(PolicyKinds(), kind) {
		return m.checkPolicyKind(kind, "")
	}
	return m.cfg.UpdateContext(ctx, func(c *config.Config) error {
		if c.RemovePolicy(kind, acct) {
			return nil
		}
		if acct == "" {
			return fmt.Errorf("no policy is set for %s tokens of every account (see 'keyturn policy list')", kind)
		}
		return fmt.Errorf("no policy is set for %s tokens of %s (see 'keyturn policy list')", kind, acct)
	})
}

// Policies lists the policies set, by kind then account (general first).
// An entry written by hand that does not parse is reported, not dropped.
func (m *Manager) Policies(ctx context.Context) ([]Policy, error) {
	c, err := m.cfg.Load()
	if err != nil {
		return nil, err
	}
	return policiesOf(c)
}

func policiesOf(c *config.Config) ([]Policy, error) {
	out := make([]Policy, 0, len(c.Policies))
	for _, p := range c.Policies {
		d, err := ParseAge(p.MaxAge)
		if err != nil {
			return nil, fmt.Errorf("the config file's policy for %s tokens: %v", p.Kind, err)
		}
		out = append(out, Policy{Kind: p.Kind, Account: p.Account, MaxAge: d, Text: FormatAge(d)})
	}
	sort.SliceStable(out, func(i, j int) bool {
		if out[i].Kind != out[j].Kind {
			return out[i].Kind < out[j].Kind
		}
		return out[i].Account < out[j].Account
	})
	return out, nil
}

// policyFor is the policy that bounds acct's tokens of kind: the account's
// own, else the general one.
func policyFor(policies []Policy, acct, kind string) (Policy, bool) {
	var general *Policy
	for i, p := range policies {
		if p.Kind != kind {
			continue
		}
		if p.Account == acct {
			return p, true
		}
		if p.Account == "" {
			general = &policies[i]
		}
	}
	if general != nil {
		return *general, true
	}
	return Policy{}, false
}
