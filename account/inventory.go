package account

import (
	"context"
	"sort"
	"sync"
	"time"

	"keyturn/config"
	"keyturn/textsafe"
)

// States of a token against its expiry and its policy.
const (
	StateOK         = "ok"
	StateExpired    = "expired"     // past the server's expiry
	StateOverdue    = "overdue"     // older than its policy allows
	StateExpiring   = "expiring"    // the server's expiry falls within the warning window
	StateDue        = "due"         // its policy's deadline falls within the warning window
	StateAgeUnknown = "age-unknown" // a policy applies but no one knows when it was issued
)

// InventoryOptions choose what an inventory covers.
type InventoryOptions struct {
	Account    string        // only this account; "" for all
	WarnWithin time.Duration // expiring and due count from now to now+WarnWithin
}

// Inventory is every token on every account, with its age and state.
type Inventory struct {
	Time       time.Time          `json:"time"`
	WarnWithin string             `json:"warn_within,omitempty"`
	Accounts   []AccountInventory `json:"accounts"`
}

// AccountInventory is one account's tokens, or why they could not be
// listed (then Tokens are those the index knows of).
type AccountInventory struct {
	Account string           `json:"account"`
	Service string           `json:"service"`
	Error   string           `json:"error,omitempty"`
	Tokens  []InventoryToken `json:"tokens"`
	err     error
}

// Err is why the account's tokens could not be listed from its server.
func (a *AccountInventory) Err() error { return a.err }

// InventoryToken is one token with what its age means.
type InventoryToken struct {
	Account string `json:"account"`
	Service string `json:"service"`
	Token
	// Rotated is when its current value was issued, as far as anyone
	// knows: the later of the server's date (a Rocket.Chat PAT's
	// createdAt, a slash command's or webhook's create_at) and when
	// keyturn stored it.
	Rotated *time.Time `json:"last_rotated,omitempty"`
	// OnServer is false for a token only the index knows: its server
	// could not be asked, or no longer lists it.
	OnServer bool       `json:"on_server"`
	MaxAge   string     `json:"max_age,omitempty"` // the policy that bounds it
	Due      *time.Time `json:"due,omitempty"`     // Rotated + MaxAge
	State    string     `json:"state"`
}

// NeedsAction reports whether check lists the token: expired, overdue, or
// expiring or due within the window.
func (t *InventoryToken) NeedsAction() bool {
	switch t.State {
	case StateExpired, StateOverdue, StateExpiring, StateDue:
		return true
	}
	return false
}

// inventoryParallel bounds how many servers are asked at once.
const inventoryParallel = 8

// Inventory lists every account's tokens, asking the servers in parallel.
// One account's failure is reported on that account; only a config that
// cannot be read fails the whole.
func (m *Manager) Inventory(ctx context.Context, opts InventoryOptions) (*Inventory, error) {
	c, err := m.cfg.Load()
	if err != nil {
		return nil, err
	}
	policies, err := policiesOf(c)
	if err != nil {
		return nil, err
	}
	accounts := c.Accounts
	if opts.Account != "" {
		a, ok := c.Account(opts.Account)
		if !ok {
			return nil, &NoAccountError{Name: opts.Account, Known: accountNames(c)}
		}
		accounts = []config.Account{*a}
	}
	now := m.opts.Now()
	inv := &Inventory{Time: now, Accounts: make([]AccountInventory, len(accounts))}
	if opts.WarnWithin > 0 {
		inv.WarnWithin = FormatAge(opts.WarnWithin)
	}
	sem := make(chan struct{}, inventoryParallel)
	var wg sync.WaitGroup
	for i, a := range accounts {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			inv.Accounts[i] = m.accountInventory(ctx, c, a)
		}()
	}
	wg.Wait()
	for i := range inv.Accounts {
		for j := range inv.Accounts[i].Tokens {
			judge(&inv.Accounts[i].Tokens[j], policies, now, opts.WarnWithin)
		}
	}
	sort.SliceStable(inv.Accounts, func(i, j int) bool { return inv.Accounts[i].Account < inv.Accounts[j].Account })
	return inv, nil
}

// Check is the inventory's tokens that need action.
func (m *Manager) Check(ctx context.Context, opts InventoryOptions) (*Inventory, []InventoryToken, error) {
	inv, err := m.Inventory(ctx, opts)
	if err != nil {
		return nil, nil, err
	}
	var out []InventoryToken
	for _, a := range inv.Accounts {
		for _, t := range a.Tokens {
			if t.NeedsAction() {
				out = append(out, t)
			}
		}
	}
	return inv, out, nil
}

// accountInventory lists one account: the server's tokens, then those the
// index holds that the server did not list.
func (m *Manager) accountInventory(ctx context.Context, c *config.Config, a config.Account) AccountInventory {
	ai := AccountInventory{Account: a.Name, Service: a.Service, Tokens: []InventoryToken{}}
	toks, err := m.Tokens(ctx, a.Name, ListFilter{})
	if err != nil {
		ai.err = err
		ai.Error = textsafe.Line(err.Error())
	}
	listed := map[string]bool{}
	at := c.SecretIndex() // one lookup table: a scan per token is quadratic at 10,000
	for _, t := range toks {
		t.current = "" // the value a list may show stays here
		it := InventoryToken{Account: a.Name, Service: a.Service, Token: t, OnServer: true}
		var meta *config.SecretMeta
		if i, ok := at[t.Secret]; ok && t.Stored {
			meta = &c.Secrets[i]
		}
		it.Rotated = lastRotated(t.Created, meta)
		listed[SecretName(a.Name, t.Ref)] = true
		ai.Tokens = append(ai.Tokens, it)
	}
	kinds := KindsOf(a.Service)
	for i := range c.Secrets {
		meta := &c.Secrets[i]
		if meta.Account != a.Name || !contains(kinds, meta.Kind) || listed[meta.Name] {
			continue
		}
		_, ref, ok := ParseSecretName(meta.Name)
		if !ok {
			continue
		}
		t := Token{Ref: ref, RefString: ref.String(), Kind: ref.Kind, ID: ref.ID, Label: ref.ID, Expires: meta.Expires,
			Stored: true, Secret: meta.Name, Fingerprint: meta.Fingerprint}
		if ref.Kind == KindSession {
			t.Label = "session"
		}
		t.cleanText()
		ai.Tokens = append(ai.Tokens, InventoryToken{Account: a.Name, Service: a.Service, Token: t, Rotated: lastRotated(nil, meta)})
	}
	return ai
}

// lastRotated is the later of the server's date and keyturn's record.
func lastRotated(server *time.Time, meta *config.SecretMeta) *time.Time {
	var best *time.Time
	if server != nil && !server.IsZero() {
		s := *server
		best = &s
	}
	if meta != nil {
		k := meta.Created
		if meta.Rotated != nil {
			k = *meta.Rotated
		}
		if !k.IsZero() && (best == nil || k.After(*best)) {
			best = &k
		}
	}
	return best
}

// judge sets a token's policy, deadline and state.
func judge(t *InventoryToken, policies []Policy, now time.Time, warn time.Duration) {
	t.State = StateOK
	p, hasPolicy := policyFor(policies, t.Account, t.Kind)
	if hasPolicy {
		t.MaxAge = p.Text
		if t.Rotated != nil {
			due := t.Rotated.Add(p.MaxAge)
			t.Due = &due
		}
	}
	expiryCounts := t.Expires != nil && !renewed(t.Service, t.Kind)
	switch {
	case expiryCounts && !t.Expires.After(now):
		t.State = StateExpired
	case t.Due != nil && !t.Due.After(now):
		t.State = StateOverdue
	case expiryCounts && !t.Expires.After(now.Add(warn)):
		t.State = StateExpiring
	case t.Due != nil && !t.Due.After(now.Add(warn)):
		t.State = StateDue
	case hasPolicy && t.Rotated == nil:
		t.State = StateAgeUnknown
	}
}

// renewed reports whether a token's expiry is its nature rather than
// news: a session keyturn renews before it expires (Capillary's lives 15
// minutes and is made again from the stored key), so its expiry is shown
// but never counted as something to act on.
func renewed(service, kind string) bool {
	return tokenKindOf(service, kind).Session && Info(service).AutoRegenerate
}

// overdueOnly keeps the tokens a rotation of the overdue must cover: those
// past their policy's age or their server's expiry, and any a stopped run
// left without a settled outcome (so that a resume still finds them).
func (m *Manager) overdueOnly(account, service string, tokens []Token, prior map[string]journalEntry) ([]Token, error) {
	states, err := m.Judge(account, tokens, 0)
	if err != nil {
		return nil, err
	}
	var out []Token
	for _, t := range tokens {
		it := states[t.Ref.String()]
		e, seen := prior[t.Ref.String()]
		unsettled := seen && (e.Event == evSent || e.Event == evPlanned || e.Event == evUnknown || e.Event == evNotStored)
		due := (it.State == StateOverdue || it.State == StateExpired) && tokenKindOf(service, t.Kind).RotateAll
		if due || unsettled {
			out = append(out, t)
		}
	}
	return out, nil
}

// Judge gives tokens of an account just listed (Tokens) their age, policy
// and state, from the index and the policies alone, by REF: a screen that
// lists one account marks the overdue ones without asking the server
// again.
func (m *Manager) Judge(account string, toks []Token, warn time.Duration) (map[string]InventoryToken, error) {
	c, err := m.cfg.Load()
	if err != nil {
		return nil, err
	}
	policies, err := policiesOf(c)
	if err != nil {
		return nil, err
	}
	a, ok := c.Account(account)
	if !ok {
		return nil, &NoAccountError{Name: account, Known: accountNames(c)}
	}
	now := m.opts.Now()
	out := make(map[string]InventoryToken, len(toks))
	at := c.SecretIndex() // one lookup table: a scan per token is quadratic at 10,000
	for _, t := range toks {
		t.current = ""
		it := InventoryToken{Account: account, Service: a.Service, Token: t, OnServer: true}
		var meta *config.SecretMeta
		if i, ok := at[SecretName(account, t.Ref)]; ok && t.Stored {
			meta = &c.Secrets[i]
		}
		it.Rotated = lastRotated(t.Created, meta)
		judge(&it, policies, now, warn)
		out[t.Ref.String()] = it
	}
	return out, nil
}
