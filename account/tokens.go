package account

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"time"

	"keyturn/client"
	"keyturn/config"
	"keyturn/textsafe"
)

// session is an account with its signed-in clients.
type session struct {
	acct config.Account
	cred *credential
	hc   *client.Client
	// put stores issued tokens; a bulk run batches the index writes.
	put func(context.Context, config.SecretMeta, string) error

	// signInOnce finds signInPAT: the Rocket.Chat PAT the session signs
	// in with, if keyturn signs in with one (see signsInWith).
	signInOnce sync.Once
	signInPAT  string

	// consumers, set by a bulk run, are the consumers as the run found
	// them; nil means read the config at each delivery.
	consumers *config.Config
	// expires is the expiry the person gave for the token being issued
	// (zero: none given).
	expires time.Time
	// denied are the sections a listing found not permitted for the user.
	denied []DeniedSection
	// holdDeliveryAudit: the caller writes the deliveries' audit entries,
	// after the rotation's own (a rotation's entry is written once it has
	// returned, and its deliveries happen before that).
	holdDeliveryAudit bool
	// factsRead: the server's facts (acct.Server) were read in this
	// session; factsMu guards both, a bulk run's workers sharing it.
	factsRead bool
	factsMu   sync.Mutex
}

func (m *Manager) session(ctx context.Context, account string) (*session, error) {
	a, err := m.account(account)
	if err != nil {
		return nil, err
	}
	cred, err := m.loadCredential(ctx, account)
	if err != nil {
		return nil, err
	}
	hc, err := m.httpClient(a)
	if err != nil {
		return nil, err
	}
	return &session{acct: a, cred: cred, hc: hc, put: m.put}, nil
}

// Team is a Mattermost team the account belongs to.
type Team struct {
	ID          string `json:"id"`
	Name        string `json:"name"`
	DisplayName string `json:"display_name"`
}

// Teams lists the Mattermost teams the account sees.
func (m *Manager) Teams(ctx context.Context, account string) ([]Team, error) {
	s, err := m.session(ctx, account)
	if err != nil {
		return nil, err
	}
	t, ok := capability[teamLister](s.acct.Service)
	if !ok {
		return nil, nil
	}
	return t.teams(ctx, s)
}

// teamLister is a service whose tokens belong to teams (TokenKind.PerTeam).
type teamLister interface {
	teams(ctx context.Context, s *session) ([]Team, error)
}

// KindsOf lists the token kinds a service has.
func KindsOf(service string) []string { return Info(service).KindIDs() }

// Tokens lists the account's tokens on the server, marking those keyturn
// holds. It never returns a value.
func (m *Manager) Tokens(ctx context.Context, account string, f ListFilter) ([]Token, error) {
	s, err := m.session(ctx, account)
	if err != nil {
		return nil, err
	}
	kinds := KindsOf(s.acct.Service)
	if f.Kind != "" {
		if !contains(kinds, f.Kind) {
			return nil, fmt.Errorf("%s accounts have no %q tokens (kinds: %s)", s.acct.Service, f.Kind, strings.Join(kinds, ", "))
		}
		kinds = []string{f.Kind}
	}
	var out []Token
	if svc, ok := Lookup(s.acct.Service); ok {
		out, err = svc.tokens(ctx, m, s, kinds, f.Team)
	}
	if err != nil {
		return nil, err
	}
	relabel := map[string]string{}
	now := timeNow()
	// Read, not Load: the index is looked up, not copied.
	err = m.cfg.Read(func(c *config.Config) {
		at := c.SecretIndex() // one lookup per token, not a scan of the index
		for i := range out {
			t := &out[i]
			t.Status = TokenState(*t, now)
			t.RefString = t.Ref.String()
			t.Kind = t.Ref.Kind
			t.ID = t.Ref.ID
			name := SecretName(account, t.Ref)
			k, stored := at[name]
			if stored {
				t.Stored = true
				t.Secret = name
				t.Fingerprint = c.Secrets[k].Fingerprint
			}
			t.cleanText()
			if stored && c.Secrets[k].Label != t.Label {
				relabel[name] = t.Label
			}
		}
	})
	if err != nil {
		return nil, err
	}
	m.relabel(ctx, relabel)
	if len(s.denied) > 0 {
		// The rest loaded: they come with the sections that did not.
		return out, &PartialListError{Account: account, Denied: s.denied}
	}
	return out, nil
}

// relabel records in the index the labels the server gives stored tokens
// now, so the vault names them as the account screen does. A failure only
// leaves the old labels: listing does not fail for it.
func (m *Manager) relabel(ctx context.Context, labels map[string]string) {
	if len(labels) == 0 {
		return
	}
	_ = m.cfg.UpdateContext(ctx, func(c *config.Config) error {
		at := c.SecretIndex()
		for name, label := range labels {
			if i, ok := at[name]; ok {
				c.Secrets[i].Label = label
			}
		}
		return nil
	})
}

// Create issues a new token: a Mattermost user access token (description
// label) or a Rocket.Chat personal access token (name label). It is stored
// before it is returned.
func (m *Manager) Create(ctx context.Context, account, label string, bypass2FA bool, ans *Answer) (*Issued, error) {
	return m.CreateExpiring(ctx, account, label, bypass2FA, ans, time.Time{})
}

// CreateExpiring is Create for a token that expires at expires (the zero
// time: as the server does by default), where the kind can expire.
func (m *Manager) CreateExpiring(ctx context.Context, account, label string, bypass2FA bool, ans *Answer, expires time.Time) (iss *Issued, err error) {
	defer func() { m.auditIssued(ctx, ActCreate, account, Ref{}, iss, err) }()
	s, unlock, err := m.lockedSession(ctx, account, "creating a token")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if err := s.setExpiry(expires); err != nil {
		return nil, err
	}
	label = strings.TrimSpace(label)
	if label == "" {
		return nil, fmt.Errorf("a token needs a label (its description or name)")
	}
	if c, ok := capability[creator](s.acct.Service); ok {
		iss, err := c.create(ctx, m, s, label, bypass2FA, ans)
		if iss != nil && iss.Stored {
			// The vault names it by its label before any list does.
			m.relabel(context.WithoutCancel(ctx), map[string]string{iss.Name: textsafe.Line(label)})
		}
		return iss, err
	}
	return nil, withRemedy(fmt.Errorf("%s accounts cannot create tokens; rotate the session instead", s.acct.Service), Remedy{Action: Rotate, Account: account, Ref: Ref{Kind: KindSession}})
}

// explainIssueError turns a failed call into what the person must know: a
// challenge to answer, or, for a request that changes a token in place and
// got no usable answer, an *UnknownOutcomeError.
func (m *Manager) explainIssueError(s *session, ref Ref, err error, inPlace bool) error {
	step := "2fa"
	if ch := m.challengeFrom(s.acct, step, err); ch != nil {
		return ch
	}
	if inPlace && client.MayHaveApplied(err) {
		check, r := checkHint(s.acct, ref)
		return &UnknownOutcomeError{Account: s.acct.Name, Ref: ref, Err: err, Check: check, Remedy: r}
	}
	return err
}

// checkHint is how to find out what a request with no answer did: in
// words, and the way out each face renders.
func checkHint(a config.Account, ref Ref) (string, Remedy) {
	switch ref.Kind {
	case KindPAT:
		return "Check the PAT in the token list: if its last_token_part no longer ends with the stored fingerprint, it was rotated and the new token is lost; rotate it again. keyturn does not retry by itself.",
			Remedy{Action: CheckRef, Account: a.Name, Ref: Ref{Kind: KindPAT}}
	case KindSession:
		return "The old token stays valid until it expires; rotate it again when you are ready. keyturn does not retry by itself.",
			Remedy{Action: Rotate, Account: a.Name, Ref: ref}
	case KindCommand, KindWebhook:
		return "Fetching it saves the token the server holds now (the new one if the rotation went through) without rotating it again. keyturn does not retry by itself.",
			Remedy{Action: Fetch, Account: a.Name, Ref: ref}
	case KindUserToken:
		return "The token keeps its id, and the server never shows a secret again, so fetching cannot read it back: if the stored secret no longer works, the rotation went through and its new secret is lost; make a fresh token and revoke this one. keyturn does not retry by itself.",
			Remedy{Action: Revoke, Account: a.Name, Ref: ref}
	}
	return "Check the integration, or rotate it again on purpose to get a token you hold. keyturn does not retry by itself.",
		Remedy{Action: Rotate, Account: a.Name, Ref: ref}
}

// Fetch stores the token the server holds now for a slash command or an
// outgoing webhook, without rotating it: to keep an integration's current
// token in the store, or to keep the new one after a rotation whose answer
// was lost. Other kinds are shown by their servers only once.
func (m *Manager) Fetch(ctx context.Context, account string, ref Ref) (iss *Issued, err error) {
	defer func() { m.auditIssued(ctx, ActFetch, account, ref, iss, err) }()
	s, unlock, err := m.lockedSession(ctx, account, "fetching a token")
	if err != nil {
		return nil, err
	}
	defer unlock()
	if !contains(KindsOf(s.acct.Service), ref.Kind) {
		return nil, fmt.Errorf("%s accounts have no %s tokens", s.acct.Service, ref.Kind)
	}
	if err := CheckStorable(s.acct.Name, ref); err != nil {
		return nil, err
	}
	f, ok := capability[fetcher](s.acct.Service)
	if !ok || !tokenKindOf(s.acct.Service, ref.Kind).Fetchable {
		return nil, withRemedy(fmt.Errorf("%s: the server shows this token only when it issues it, so keyturn cannot fetch it", ref), Remedy{Action: Rotate, Account: account, Ref: ref})
	}
	tok, err := f.fetch(ctx, s, ref)
	if err != nil {
		return nil, err
	}
	if tok == "" {
		return nil, fmt.Errorf("%s, %s: the server did not show the token (the account may lack the permission to manage it)", s.acct.Name, ref)
	}
	return m.issueIn(ctx, s, ref, tok, nil)
}

// Rotate replaces a token. Where the old token can live on (Mattermost user
// access tokens): create new, store, verify, revoke old. Where the server
// replaces in place: one request, stored on arrival, never retried.
func (m *Manager) Rotate(ctx context.Context, account string, ref Ref, ans *Answer) (*Issued, error) {
	return m.RotateExpiring(ctx, account, ref, ans, time.Time{})
}

// RotateExpiring is Rotate giving the new token the expiry expires (the
// zero time: the old lifetime, capped by the server's maximum), where the
// kind can expire.
func (m *Manager) RotateExpiring(ctx context.Context, account string, ref Ref, ans *Answer, expires time.Time) (iss *Issued, err error) {
	defer func() {
		m.auditIssued(ctx, ActRotate, account, ref, iss, err)
		if iss != nil {
			m.auditDeliveries(ctx, iss.Deliveries)
		}
	}()
	defer func() { err = refGone(err, account) }()
	s, unlock, err := m.lockedSession(ctx, account, "rotating "+ref.String())
	if err != nil {
		return nil, err
	}
	defer unlock()
	s.holdDeliveryAudit = true
	if !expires.IsZero() && !tokenKindOf(s.acct.Service, ref.Kind).Expires {
		return nil, fmt.Errorf("%s: this kind of token cannot be given an expiry", ref)
	}
	if err := s.setExpiry(expires); err != nil {
		return nil, err
	}
	return m.rotateWith(ctx, s, ref, ans)
}

// rotateWith is Rotate for a session already open, so a bulk run reads the
// credential once.
func (m *Manager) rotateWith(ctx context.Context, s *session, ref Ref, ans *Answer) (iss *Issued, err error) {
	// Once the new token is stored, its consumers get it.
	defer func() { m.deliverRotated(ctx, s, ref, iss) }()
	if !contains(KindsOf(s.acct.Service), ref.Kind) {
		return nil, fmt.Errorf("%s accounts have no %s tokens", s.acct.Service, ref.Kind)
	}
	// Checked before the request: a token whose answer could not be kept
	// must not be rotated.
	if err := CheckStorable(s.acct.Name, ref); err != nil {
		return nil, err
	}
	if svc, ok := Lookup(s.acct.Service); ok {
		return svc.rotate(ctx, m, s, ref, ans)
	}
	return nil, fmt.Errorf("cannot rotate %s", ref)
}

// regenInPlace sends a request that replaces ref's token on the server and
// stores the answer, past the caller's cancellation once sent.
func (m *Manager) regenInPlace(ctx context.Context, s *session, ref Ref, regen func(context.Context) (string, error)) (*Issued, error) {
	ictx, done, err := m.issuing(ctx, inFlightIssue(s.acct.Name, ref, true))
	if err != nil {
		return nil, err
	}
	defer done()
	tok, err := regen(ictx)
	if err != nil {
		return nil, m.explainIssueError(s, ref, err, true)
	}
	return m.issueIn(ictx, s, ref, tok, nil)
}

// Revoke ends a token on the server and deletes keyturn's copy.
func (m *Manager) Revoke(ctx context.Context, account string, ref Ref, ans *Answer) (err error) {
	defer func() {
		m.audit(ctx, Event{Action: ActRevoke, Account: account, Ref: ref.String(), Secret: SecretName(account, ref)}, err)
	}()
	defer func() { err = refGone(err, account) }()
	s, unlock, err := m.lockedSession(ctx, account, "revoking "+ref.String())
	if err != nil {
		return err
	}
	defer unlock()
	if m.signsInWith(ctx, s, ref) {
		return withRemedy(fmt.Errorf("keyturn signs in to %s with %s: revoking it would leave keyturn signed out with a dead token. Rotate it instead, or sign in another way first and then revoke it", account, ref), Remedy{Action: Rotate, Account: account, Ref: ref})
	}
	switch ref.Kind {
	case KindUserToken:
		if !hasKind(s.acct.Service, KindUserToken) {
			return fmt.Errorf("%s accounts have no user tokens", s.acct.Service)
		}
	case KindPAT:
		if !hasKind(s.acct.Service, KindPAT) {
			return fmt.Errorf("%s accounts have no PATs", s.acct.Service)
		}
	case KindSession:
		if !hasKind(s.acct.Service, KindSession) {
			return fmt.Errorf("%s accounts have no Capillary session", s.acct.Service)
		}
	case KindCommand, KindWebhook:
		return withRemedy(fmt.Errorf("%s tokens cannot be revoked on Mattermost, only rotated", ref.Kind), Remedy{Action: Rotate, Account: account, Ref: ref})
	default:
		return fmt.Errorf("cannot revoke %s", ref)
	}
	if svc, ok := Lookup(s.acct.Service); ok {
		err = svc.revoke(ctx, m, s, ref, ans)
	}
	if err != nil {
		if ch := m.challengeFrom(s.acct, "2fa", err); ch != nil {
			return ch
		}
		return err
	}
	if err := m.vault.Delete(ctx, SecretName(account, ref)); err != nil && !isNotFound(err) {
		return fmt.Errorf("revoked on the server, but the stored copy could not be deleted: %w", err)
	}
	return nil
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
