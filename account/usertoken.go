package account

import (
	"context"
	"errors"
	"fmt"
	"time"

	"keyturn/client/mattermost"
	"keyturn/config"
)

// How Mattermost user tokens are rotated (config.ServerFacts, Status.UserTokenRotation).
const (
	// RotatesInPlace: POST /users/tokens/rotate (11.10 on) gives the same
	// token id a new secret in one request.
	RotatesInPlace = "in-place"
	// RotatesByCreate: an older server has no such route: create a new
	// token, store it, verify it, revoke the old one.
	RotatesByCreate = "create-revoke"
)

// timeNow is the clock expiries are computed with.
var timeNow = time.Now

// mattermostFacts are the account's remembered server facts, with the
// version and lifetime policy read again from the client configuration
// (one GET any user may make). A new version forgets how user tokens are
// rotated, so that it is found out again.
func (m *Manager) mattermostFacts(ctx context.Context, s *session) config.ServerFacts {
	s.factsMu.Lock()
	defer s.factsMu.Unlock()
	var f config.ServerFacts
	if s.acct.Server != nil {
		f = *s.acct.Server
	}
	if s.factsRead {
		return f // once per session: a bulk run asks once
	}
	s.factsRead = true
	cc, err := s.mattermost().ClientConfig(ctx)
	if err != nil {
		return f // what is known stays; a refusal still says the rest
	}
	if cc.Version != f.Version {
		f = config.ServerFacts{Version: cc.Version}
	}
	f.MaxTokenLifetimeDays = cc.MaxTokenLifetimeDays
	m.saveFacts(ctx, s, f)
	return f
}

// currentFacts are the facts the session knows now.
func (s *session) currentFacts() config.ServerFacts {
	s.factsMu.Lock()
	defer s.factsMu.Unlock()
	if s.acct.Server == nil {
		return config.ServerFacts{}
	}
	return *s.acct.Server
}

// rememberFacts saves changed facts in the account's config entry; a
// failure to save costs only a request next time. A bulk run's workers
// share the session, hence the lock.
func (m *Manager) rememberFacts(ctx context.Context, s *session, f config.ServerFacts) {
	s.factsMu.Lock()
	defer s.factsMu.Unlock()
	m.saveFacts(ctx, s, f)
}

// saveFacts is rememberFacts with s.factsMu held.
func (m *Manager) saveFacts(ctx context.Context, s *session, f config.ServerFacts) {
	if s.acct.Server != nil && *s.acct.Server == f {
		return
	}
	cp := f
	s.acct.Server = &cp
	_ = m.cfg.UpdateContext(context.WithoutCancel(ctx), func(c *config.Config) error {
		if a, ok := c.Account(s.acct.Name); ok {
			saved := f
			a.Server = &saved
		}
		return nil
	})
}

// TokenLifetimeLimit is the longest lifetime, in days, the account's
// server allows a new user token (0: no limit known), for the faces'
// expiry choices.
func (m *Manager) TokenLifetimeLimit(ctx context.Context, account string) (int, error) {
	s, err := m.session(ctx, account)
	if err != nil {
		return 0, err
	}
	if k, ok := Info(s.acct.Service).CreateKind(); !ok || !k.Expires {
		return 0, nil
	}
	return m.mattermostFacts(ctx, s).MaxTokenLifetimeDays, nil
}

// lifetimeRefused turns the server's refusal of an expiry into a
// *LifetimeRequiredError (remembering the maximum it names); other errors
// pass unchanged.
func (m *Manager) lifetimeRefused(ctx context.Context, s *session, err error) error {
	var le *mattermost.LifetimeError
	if !errors.As(err, &le) || le.InPast() {
		return err
	}
	f := s.currentFacts()
	if le.MaxDays > 0 {
		f.MaxTokenLifetimeDays = le.MaxDays
		m.rememberFacts(ctx, s, f)
	}
	return lifetimeRemedy(&LifetimeRequiredError{Account: s.acct.Name, MaxDays: f.MaxTokenLifetimeDays, TooFar: le.TooFar(), Err: err})
}

// lifetimeRemedy gives a lifetime refusal its way out: an expiry within
// the server's maximum.
func lifetimeRemedy(lr *LifetimeRequiredError) error {
	return withRemedy(lr, Remedy{Action: Expire, Account: lr.Account, After: maxLifetime(lr.MaxDays)})
}

// checkLifetimeFor is checkLifetime naming the account.
func checkLifetimeFor(s *session, at time.Time, f config.ServerFacts) error {
	err := checkLifetime(at, f.MaxTokenLifetimeDays, timeNow())
	var lr *LifetimeRequiredError
	if errors.As(err, &lr) {
		lr.Account = s.acct.Name
		return lifetimeRemedy(lr)
	}
	return err
}

// expiryPtrMillis is a server's expiry as the index keeps it (nil: never).
func expiryPtrMillis(ms int64) *time.Time {
	if ms <= 0 {
		return nil
	}
	t := mattermost.FromMillis(ms)
	return &t
}

// createUserTokenExpiring makes a user token that expires at expires
// (never for the zero time), stored before it is returned.
func (m *Manager) createUserTokenExpiring(ctx context.Context, s *session, label string, expires time.Time) (*Issued, error) {
	f := m.mattermostFacts(ctx, s)
	if err := checkLifetimeFor(s, expires, f); err != nil {
		return nil, err
	}
	iss, ut, err := m.createUserToken(ctx, s, Ref{Kind: KindUserToken}, s.cred.UserID, label, expires)
	if ut != nil && !expires.IsZero() && ut.ExpiresAt == 0 && iss != nil {
		iss.Notes = append(iss.Notes, ignoredExpiry)
	}
	return iss, err
}

// ignoredExpiry says a server older than expiring tokens took the token
// without its expiry.
const ignoredExpiry = "this server does not support token expiry (it is older than Mattermost 11.10): the token does not expire; revoke it when it is no longer needed"

// knownLifetime is how long the stored copy of ref was made to live, from
// the index (0 when keyturn does not know).
func (m *Manager) knownLifetime(s *session, ref Ref) time.Duration {
	c, err := m.cfg.Load()
	if err != nil {
		return 0
	}
	meta, ok := c.Secret(SecretName(s.acct.Name, ref))
	if !ok || meta.Expires == nil {
		return 0
	}
	from := meta.Created
	if meta.Rotated != nil {
		from = *meta.Rotated
	}
	if d := meta.Expires.Sub(from); d > 0 {
		return d
	}
	return 0
}

// rotateUserToken rotates a user token in place where the server can
// (one request, the id kept, stored on arrival and never retried), and by
// create, store, verify, revoke where it cannot. The new token keeps a
// lifetime: s.expires when the person gave one, else the old lifetime
// capped by the server's maximum, always sent, since an omitted expiry
// makes the token never expire. How the server rotates is found out once
// and kept in the account's config.
func (m *Manager) rotateUserToken(ctx context.Context, s *session, ref Ref) (*Issued, error) {
	mm := s.mattermost()
	signIn := m.signsInWith(ctx, s, ref)
	old, err := mm.GetUserAccessToken(ctx, ref.ID)
	if err != nil {
		return nil, err
	}
	f := m.mattermostFacts(ctx, s)
	expires := rotationExpiry(s.expires, old.Expires(), m.knownLifetime(s, ref), f.MaxTokenLifetimeDays, timeNow())
	if err := checkLifetimeFor(s, expires, f); err != nil {
		return nil, err
	}
	if f.UserTokenRotation != RotatesByCreate {
		iss, err := m.rotateUserTokenInPlace(ctx, s, ref, expires, signIn)
		if !mattermost.RotateUnsupported(err) {
			if err == nil && f.UserTokenRotation != RotatesInPlace {
				f.UserTokenRotation = RotatesInPlace
				m.rememberFacts(ctx, s, f)
			}
			return iss, err
		}
		f.UserTokenRotation = RotatesByCreate
		m.rememberFacts(ctx, s, f)
	}
	return m.rotateUserTokenByCreate(ctx, s, ref, old, expires, signIn)
}

// rotateUserTokenInPlace is the one request of an in-place rotation: the
// old secret dies with it, so the answer is stored the moment it arrives,
// past the caller's cancellation, and a lost answer is reported, never
// retried.
func (m *Manager) rotateUserTokenInPlace(ctx context.Context, s *session, ref Ref, expires time.Time, signIn bool) (*Issued, error) {
	ictx, done, err := m.issuing(ctx, inFlightIssue(s.acct.Name, ref, true))
	if err != nil {
		return nil, err
	}
	defer done()
	ut, err := s.mattermost().RotateUserAccessToken(ictx, ref.ID, expires)
	if err != nil {
		if mattermost.RotateUnsupported(err) {
			return nil, err
		}
		return nil, m.lifetimeRefused(ictx, s, m.explainIssueError(s, ref, err, true))
	}
	iss, err := m.issueIn(ictx, s, ref, ut.Token, expiryPtrMillis(ut.ExpiresAt))
	// The old secret died with the rotation: if keyturn signed in with it,
	// sign in with the new one, even if the caller has gone, or keyturn is
	// locked out.
	if signIn {
		m.switchCredential(ictx, s, iss)
	} else {
		m.keepSignedIn(ictx, s, iss)
	}
	if err == nil {
		iss.Notes = append(iss.Notes, fmt.Sprintf("rotated in place: %s keeps its id, and its old secret stopped working at once", ref))
	}
	return iss, err
}

// rotateUserTokenByCreate never leaves the person without a working
// token: the old one is revoked only once the new one is stored and
// verified.
func (m *Manager) rotateUserTokenByCreate(ctx context.Context, s *session, ref Ref, old *mattermost.UserAccessToken, expires time.Time, signIn bool) (*Issued, error) {
	mm := s.mattermost()
	iss, ut, err := m.createUserToken(ctx, s, ref, old.UserID, old.Description, expires)
	if err != nil {
		if iss != nil {
			iss.Notes = append(iss.Notes, fmt.Sprintf("the old token %s was NOT revoked, since the new one is not saved", ref.ID))
		}
		return iss, err
	}
	if !expires.IsZero() && ut.ExpiresAt == 0 {
		iss.Notes = append(iss.Notes, ignoredExpiry)
	}
	// The new token is stored: checking it and revoking the old one follow
	// the caller again, and a cancelled caller leaves the old one active.
	if ctx.Err() != nil {
		iss.Notes = append(iss.Notes, fmt.Sprintf("stopped before the old token %s was revoked: it is still active", ref.ID))
		iss.Next = append(iss.Next, Remedy{Action: Revoke, Account: s.acct.Name, Ref: ref})
		return iss, nil
	}
	if _, err := mattermost.New(s.hc, ut.Token).Me(ctx); err != nil {
		iss.Notes = append(iss.Notes, fmt.Sprintf("the new token did not work when checked (%v); the old token %s was left active", err, ref.ID))
		return iss, nil
	}
	if signIn {
		// keyturn signs in with the old token: it must sign in with the
		// new one before the old one is revoked.
		if !m.switchCredential(ctx, s, iss) {
			iss.Notes = append(iss.Notes, fmt.Sprintf("the old token %s was left active, since keyturn still signs in with it", ref.ID))
			return iss, nil
		}
		mm = s.mattermost()
	}
	if err := mm.RevokeUserAccessToken(ctx, ref.ID); err != nil {
		iss.Notes = append(iss.Notes, fmt.Sprintf("the old token %s could not be revoked (%v)", ref.ID, err))
		iss.Next = append(iss.Next, Remedy{Action: Revoke, Account: s.acct.Name, Ref: ref})
		return iss, nil
	}
	if !signIn {
		m.keepSignedIn(ctx, s, iss)
	}
	if err := m.vault.Delete(ctx, SecretName(s.acct.Name, ref)); err != nil && !isNotFound(err) {
		iss.Notes = append(iss.Notes, fmt.Sprintf("the old token was revoked but its stored copy could not be deleted: %v", err))
	}
	iss.Notes = append(iss.Notes, fmt.Sprintf("old token %s revoked", ref.ID))
	return iss, nil
}

// createUserToken issues a new user token (of a rotation of ref, or a
// fresh one) and stores it, past the caller's cancellation once sent.
func (m *Manager) createUserToken(ctx context.Context, s *session, ref Ref, userID, desc string, expires time.Time) (*Issued, *mattermost.UserAccessToken, error) {
	ictx, done, err := m.issuing(ctx, inFlightIssue(s.acct.Name, Ref{Kind: KindUserToken}, false))
	if err != nil {
		return nil, nil, err
	}
	defer done()
	ut, err := s.mattermost().CreateExpiringUserAccessToken(ictx, userID, desc, expires)
	if err != nil {
		return nil, nil, m.lifetimeRefused(ictx, s, m.explainIssueError(s, ref, err, false))
	}
	iss, err := m.issueIn(ictx, s, Ref{Kind: KindUserToken, ID: ut.ID}, ut.Token, expiryPtrMillis(ut.ExpiresAt))
	return iss, ut, err
}

// setExpiry keeps the expiry the person gave for the token being issued,
// where the account's tokens can expire.
func (s *session) setExpiry(expires time.Time) error {
	if expires.IsZero() {
		return nil
	}
	if k, ok := Info(s.acct.Service).CreateKind(); !ok || !k.Expires {
		return fmt.Errorf("%s: %s tokens cannot be given an expiry", s.acct.Name, Info(s.acct.Service).Name)
	}
	if !expires.After(timeNow()) {
		return fmt.Errorf("%s: the expiry %s is in the past", s.acct.Name, expires.Format(time.RFC3339))
	}
	s.expires = expires
	return nil
}
