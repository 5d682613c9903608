package account

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"keyturn/audit"
	"keyturn/client"
	"keyturn/client/capillary"
	"keyturn/config"
	"keyturn/keystore"
	"keyturn/textsafe"
)

// Options tune how the manager reaches servers.
type Options struct {
	// Transport, when set, is shared by every account's client (a bulk
	// run's pool, or tests). Otherwise each account gets its own.
	Transport http.RoundTripper
	Trace     *client.Tracer
	Timeout   time.Duration
	Now       func() time.Time
	// LockWait bounds the wait for another keyturn process that holds an
	// account (config.LockTimeout if zero).
	LockWait time.Duration
	// LockWaiting, when set, is told once, naming the holder, that an
	// operation waits for another keyturn process holding the account.
	LockWaiting func(msg string)
	// Face ("cli", "tui") is written in each audit log entry.
	Face string
	// HoldAudit keeps audit entries until FlushAudit, which adds the exit
	// code (the CLI knows it only at the end).
	HoldAudit bool
	// Warn is told of a problem that did not fail the operation (the audit
	// log could not be written).
	Warn func(msg string)
	// DeliverTimeout bounds each consumer's command and verify command
	// (DefaultDeliverTimeout if zero).
	DeliverTimeout time.Duration
}

// Manager runs the operations over the config file and the store.
type Manager struct {
	cfg   *config.File
	vault *keystore.Vault
	opts  Options
	fly   inflightSet
	aud   auditState
}

// New is a manager over a config file and a store.
func New(cfg *config.File, vault *keystore.Vault, opts Options) *Manager {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Manager{cfg: cfg, vault: vault, opts: opts}
	m.aud.warn = opts.Warn
	if cfg.Path != "" {
		m.aud.log = audit.Beside(cfg.Path)
	}
	return m
}

// Store names the backend secrets go to ("keyring", "file", "memory").
func (m *Manager) Store() string { return m.vault.Backend() }

// Vault is the store with its index, for the secret commands and screens.
func (m *Manager) Vault() *keystore.Vault { return m.vault }

var accountNameRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._@-]{0,63}$`) })

// ValidAccountName checks a name: it becomes the first part of every
// secret's name.
func ValidAccountName(name string) error {
	if !accountNameRE().MatchString(name) {
		return fmt.Errorf("account name %q: use letters, digits, '.', '_', '-' or '@' (at most 64, starting with a letter or digit)", name)
	}
	return nil
}

// UnknownServiceError is an account whose service keyturn does not speak:
// a usage error in the CLI.
type UnknownServiceError struct{ Service string }

func (e *UnknownServiceError) Error() string {
	return fmt.Sprintf("unknown service %q: use %s", e.Service, strings.Join(Services[:len(Services)-1], ", ")+" or "+Services[len(Services)-1])
}

// Normalize checks an account and fills what follows from it (a Capillary
// region's URL, a default device id). It does not touch the config.
func Normalize(a config.Account) (config.Account, error) {
	if err := ValidAccountName(a.Name); err != nil {
		return a, err
	}
	a.Service = strings.ToLower(strings.TrimSpace(a.Service))
	if a.Service == "" {
		return a, fmt.Errorf("account needs a service: mattermost, rocketchat or capillary")
	}
	svc, ok := Lookup(a.Service)
	if !ok {
		return a, &UnknownServiceError{Service: a.Service}
	}
	if err := svc.normalize(&a); err != nil {
		return a, err
	}
	u, err := client.ParseBaseURL(a.URL, a.InsecureHTTP)
	if err != nil {
		return a, err
	}
	a.URL = u.String()
	return a, nil
}

// Add checks an account and saves it. An existing name is an error.
func (m *Manager) Add(ctx context.Context, a config.Account) (config.Account, error) {
	added, err := m.AddAll(ctx, a)
	if len(added) == 1 {
		a = added[0]
	}
	return a, err
}

// AddAll checks accounts and saves them in one update of the config: all
// or none.
func (m *Manager) AddAll(ctx context.Context, accounts ...config.Account) ([]config.Account, error) {
	out := make([]config.Account, 0, len(accounts))
	for _, a := range accounts {
		n, err := Normalize(a)
		if err != nil {
			return nil, err
		}
		out = append(out, n)
	}
	err := m.cfg.UpdateContext(ctx, func(c *config.Config) error {
		for _, a := range out {
			if _, ok := c.Account(a.Name); ok {
				return withRemedy(fmt.Errorf("an account named %q exists already", a.Name), Remedy{Action: RemoveAccount, Account: a.Name})
			}
			c.PutAccount(a)
		}
		return nil
	})
	return out, err
}

// account reads one account's settings.
func (m *Manager) account(name string) (config.Account, error) {
	var a config.Account
	var missing error
	// Read, not Load: one account is looked up, the index of thousands is
	// not copied for it.
	err := m.cfg.Read(func(c *config.Config) {
		if found, ok := c.Account(name); ok {
			a = found.Clone()
		} else {
			missing = &NoAccountError{Name: name, Known: accountNames(c)}
		}
	})
	if err != nil {
		return config.Account{}, err
	}
	return a, missing
}

// NoAccountError names an account that is not in the config.
type NoAccountError struct {
	Name  string
	Known []string
}

func (e *NoAccountError) Error() string {
	if len(e.Known) == 0 {
		return fmt.Sprintf("no account named %q; there are none yet", e.Name)
	}
	return fmt.Sprintf("no account named %q (accounts: %s)", e.Name, strings.Join(e.Known, ", "))
}

func accountNames(c *config.Config) []string {
	var names []string
	for _, a := range c.Accounts {
		names = append(names, a.Name)
	}
	sort.Strings(names)
	return names
}

// List is every account with its sign-in state, without asking servers or
// opening the store: the index says what is stored.
func (m *Manager) List(ctx context.Context) ([]Status, error) {
	c, err := m.cfg.Load()
	if err != nil {
		return nil, err
	}
	out := make([]Status, 0, len(c.Accounts))
	for _, a := range c.Accounts {
		out = append(out, m.status(c, a))
	}
	return out, nil
}

// Show is one account's state; it checks that the stored credential is
// really in the store.
func (m *Manager) Show(ctx context.Context, name string) (*Status, error) {
	c, err := m.cfg.Load()
	if err != nil {
		return nil, err
	}
	a, ok := c.Account(name)
	if !ok {
		return nil, &NoAccountError{Name: name, Known: accountNames(c)}
	}
	st := m.status(c, *a)
	st.Expiring = expiringStored(c, name, m.opts.Now())
	if st.SignedIn {
		if _, err := m.vault.Get(ctx, credentialName(name)); err != nil {
			st.SignedIn = false
			if errors.Is(err, keystore.ErrNotFound) {
				st.Problem = "the credential is listed but missing from the store: sign in again"
			} else {
				st.Problem = err.Error()
			}
		}
	}
	return &st, nil
}

func (m *Manager) status(c *config.Config, a config.Account) Status {
	st := Status{Name: a.Name, Service: a.Service, URL: a.URL, User: a.User, Insecure: a.InsecureHTTP, MFAUnconfirmed: a.MFAUnconfirmed,
		Extra: Extra{Brand: a.Brand, DeviceID: a.DeviceID, IdentifierType: a.IdentifierType, Identifier: a.Identifier, Region: a.Region,
			Mobile: a.Mobile, Email: a.Email}}
	if Info(a.Service).SignIn.Identity {
		st.Extra.MFA = mfaMode(a)
	}
	if a.Server != nil {
		st.UserTokenRotation = a.Server.UserTokenRotation
	}
	if meta, ok := c.Secret(credentialName(a.Name)); ok {
		st.SignedIn = true
		st.Store = m.vault.Backend()
		created := meta.Created
		if meta.Rotated != nil {
			created = *meta.Rotated
		}
		st.Since = &created
		st.Via = meta.ID
	}
	if meta, ok := c.Secret(SecretName(a.Name, Ref{Kind: KindSession})); ok && Info(a.Service).HasSession() {
		st.Expires = meta.Expires
	}
	if meta, ok := c.Secret(pendingName(a.Name)); ok {
		if meta.Expires == nil || meta.Expires.After(m.opts.Now()) {
			st.Pending = meta.ID
			st.PendingFor = pendingFor(meta.ID)
		}
	}
	return st
}

// Remove deletes an account and its credential and pending challenge.
// Issued tokens stay in the store: they still work on the server.
func (m *Manager) Remove(ctx context.Context, name string) error {
	if _, err := m.account(name); err != nil {
		return err
	}
	// Under the lock: a sign-in or rotation on its way would otherwise store
	// a credential for an account that is gone.
	unlock, err := m.lockAccount(ctx, name, "removing the account")
	if err != nil {
		return err
	}
	defer unlock()
	// Issued tokens stay, Capillary's session token among them: nothing
	// ends them on the server, so deleting keyturn's copy would lose them.
	for _, n := range []string{credentialName(name), pendingName(name)} {
		if err := m.vault.Delete(ctx, n); err != nil && !errors.Is(err, keystore.ErrNotFound) {
			return fmt.Errorf("removing %s: %w", n, err)
		}
	}
	return m.cfg.UpdateContext(ctx, func(c *config.Config) error {
		c.RemoveAccount(name)
		// Its own policies go with it: one left behind would bind a new
		// account that takes the name.
		for _, k := range PolicyKinds() {
			c.RemovePolicy(k, name)
		}
		return nil
	})
}

// httpClient builds the account's HTTP client.
func (m *Manager) httpClient(a config.Account) (*client.Client, error) {
	return client.New(client.Options{
		Service:           a.Service,
		BaseURL:           a.URL,
		AllowInsecureHTTP: a.InsecureHTTP,
		CAFile:            a.CAFile,
		Timeout:           m.opts.Timeout,
		Transport:         m.opts.Transport,
		Trace:             m.opts.Trace,
	})
}

// put stores a secret with its index entry. It is the one place issued
// secrets go through, so the store-first rule holds everywhere.
func (m *Manager) put(ctx context.Context, meta config.SecretMeta, value string) error {
	return m.vault.Put(ctx, meta, value)
}

// issue stores a freshly issued token before anything else happens. On a
// store failure the token comes back in a *NotStoredError.
func (m *Manager) issue(ctx context.Context, account string, ref Ref, value string, expires *time.Time) (*Issued, error) {
	return m.issueVia(ctx, m.put, account, ref, value, expires)
}

// issueIn is issue for an open session, through the session's store writer.
func (m *Manager) issueIn(ctx context.Context, s *session, ref Ref, value string, expires *time.Time) (*Issued, error) {
	return m.issueVia(ctx, s.put, s.acct.Name, ref, value, expires)
}

func (m *Manager) issueVia(ctx context.Context, put func(context.Context, config.SecretMeta, string) error, account string, ref Ref, value string, expires *time.Time) (*Issued, error) {
	name := SecretName(account, ref)
	meta := config.SecretMeta{Name: name, Account: account, Kind: ref.Kind, ID: ref.ID, Expires: expires}
	iss := &Issued{Name: name, Account: account, Kind: ref.Kind, Ref: textsafe.Line(ref.String()), Fingerprint: keystore.Fingerprint(value), Value: value,
		Expires: expires, Store: m.vault.Backend(), meta: meta, stored: value}
	if err := put(ctx, meta, value); err != nil {
		return iss, &NotStoredError{Issued: iss, Err: err}
	}
	iss.Stored = true
	return iss, nil
}

// RetryStore tries again to store a token that could not be saved: any
// issued token, backup codes, or a sign-in credential.
func (m *Manager) RetryStore(ctx context.Context, iss *Issued) error {
	if iss.meta.Name == "" || iss.stored == "" {
		return fmt.Errorf("%s: keyturn does not know how to store this again; copy the token instead", iss.Name)
	}
	err := m.put(ctx, iss.meta, iss.stored)
	// The issuing entry said failed (not stored): this one says whether
	// the token was kept after all.
	m.audit(ctx, Event{Action: ActSecretSet, Account: iss.Account, Ref: iss.Ref, Secret: iss.Name}, err)
	if err != nil {
		return &NotStoredError{Issued: iss, Err: err}
	}
	iss.Stored = true
	iss.Store = m.vault.Backend()
	if iss.also != nil && !iss.also.Stored {
		return m.RetryStore(ctx, iss.also)
	}
	return nil
}

// Region is a Capillary cluster preset.
type Region struct {
	Name string
	URL  string
}

// CapillaryRegions are the named presets for --region, in display order.
func CapillaryRegions() []Region {
	var out []Region
	for _, n := range capillary.RegionNames() {
		out = append(out, Region{Name: n, URL: capillary.Regions[n]})
	}
	return out
}

// Edit changes an account's settings, as change sets them: a typo in a URL
// is fixed in place. The name and the service stay (every secret's name
// starts with the name and holds the service's kinds). A signed-in account
// is not moved to another server or login behind its session: sign out
// first. A sign-in left waiting for a code is dropped when it moves.
func (m *Manager) Edit(ctx context.Context, name string, change func(*config.Account)) (config.Account, error) {
	old, err := m.account(name)
	if err != nil {
		return old, err
	}
	a := old
	change(&a)
	a.Name, a.Service = old.Name, old.Service
	n, err := Normalize(a)
	if err != nil {
		return old, err
	}
	unlock, err := m.lockAccount(ctx, name, "editing the account")
	if err != nil {
		return old, err
	}
	defer unlock()
	if moved(old, n) {
		_, err := m.vault.Get(ctx, credentialName(name))
		switch {
		case err == nil:
			return old, fmt.Errorf("%s is signed in to %s: sign out first, then change its server or login", name, old.URL)
		case !errors.Is(err, keystore.ErrNotFound):
			return old, err
		}
		if err := m.vault.Delete(ctx, pendingName(name)); err != nil && !errors.Is(err, keystore.ErrNotFound) {
			return old, err
		}
	}
	err = m.cfg.UpdateContext(ctx, func(c *config.Config) error {
		if _, ok := c.Account(name); !ok {
			return &NoAccountError{Name: name, Known: accountNames(c)}
		}
		c.PutAccount(n)
		return nil
	})
	return n, err
}

// moved reports whether an edit points the account at another server or
// login. A Capillary account's User only mirrors its identifier (and in a
// config from before it did, may not): the identifier decides.
func moved(old, n config.Account) bool {
	user := old.User != n.User && !Info(n.Service).SignIn.Identity
	return old.URL != n.URL || user || old.Brand != n.Brand || old.DeviceID != n.DeviceID ||
		old.IdentifierType != n.IdentifierType || old.Identifier != n.Identifier
}
