package account

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"keyturn/client"
	"keyturn/config"
	"keyturn/keystore"
)

// credential is what keyturn itself uses to act as an account, kept in the
// store as JSON under "<account>/credential".
type credential struct {
	Via    string `json:"via"`               // viaSession, viaPAT, viaKey
	Token  string `json:"token,omitempty"`   // Mattermost session/PAT, Rocket.Chat authToken/PAT
	UserID string `json:"user_id,omitempty"` // Mattermost user id, Rocket.Chat userId
	Key    string `json:"key,omitempty"`     // Capillary AUTH key
	MFA    bool   `json:"mfa,omitempty"`     // Capillary: the key came from the MFA flow
}

// How a credential was obtained, shown as Status.Via.
const (
	viaSession = "session"
	viaPAT     = "personal access token"
	viaKey     = "key"
)

func (m *Manager) loadCredential(ctx context.Context, account string) (*credential, error) {
	raw, err := m.vault.Get(ctx, credentialName(account))
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, withRemedy(fmt.Errorf("%s: %w", account, ErrNotSignedIn), Remedy{Action: SignIn, Account: account})
	}
	if err != nil {
		return nil, err
	}
	var c credential
	if err := json.Unmarshal([]byte(raw), &c); err != nil {
		return nil, withRemedy(fmt.Errorf("%s: the stored credential is damaged", account), Remedy{Action: SignIn, Account: account})
	}
	return &c, nil
}

// saveCredential stores the credential. On failure the caller gets a
// *NotStoredError holding the token, so it is never lost.
func (m *Manager) saveCredential(ctx context.Context, account string, c credential) error {
	b, err := json.Marshal(c)
	if err != nil {
		return err
	}
	name := credentialName(account)
	value := c.Token
	if value == "" {
		value = c.Key
	}
	// The fingerprint names the token inside, not the JSON around it.
	meta := config.SecretMeta{Name: name, Account: account, Kind: KindCredential, ID: c.Via, Fingerprint: fingerprintOrDash(value)}
	if err := m.put(ctx, meta, string(b)); err != nil {
		iss := &Issued{Name: name, Account: account, Kind: KindCredential, Ref: KindCredential, Fingerprint: keystore.Fingerprint(value), Value: value,
			meta: meta, stored: string(b)}
		return &NotStoredError{Issued: iss, Err: err}
	}
	return nil
}

// pending is a challenge waiting for its code, with the server state needed
// to resume it (Capillary's session id and first-factor token). It lives in
// the store, since it can hold a token, and expires with the server's.
type pending struct {
	Step            string    `json:"step"`
	Method          string    `json:"method"`
	Methods         []string  `json:"methods,omitempty"`
	SessionID       string    `json:"session_id,omitempty"`
	AuthorizedToken string    `json:"authorized_token,omitempty"`
	SentTo          string    `json:"sent_to,omitempty"`
	Expires         time.Time `json:"expires"`
}

func (m *Manager) loadPending(ctx context.Context, account string) (*pending, error) {
	// The index says whether a challenge is waiting; a stray entry in the
	// store (left by a config that was deleted) is not resumed.
	if c, err := m.cfg.Load(); err != nil {
		return nil, err
	} else if _, ok := c.Secret(pendingName(account)); !ok {
		return nil, nil
	}
	raw, err := m.vault.Get(ctx, pendingName(account))
	if errors.Is(err, keystore.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	var p pending
	if json.Unmarshal([]byte(raw), &p) != nil || (!p.Expires.IsZero() && !p.Expires.After(m.opts.Now())) {
		_ = m.clearPending(ctx, account)
		return nil, nil
	}
	return &p, nil
}

func (m *Manager) savePending(ctx context.Context, account string, p pending) error {
	b, err := json.Marshal(p)
	if err != nil {
		return err
	}
	exp := p.Expires
	meta := config.SecretMeta{Name: pendingName(account), Account: account, Kind: KindPending, ID: p.Step, Expires: &exp, Fingerprint: "-"}
	return m.put(ctx, meta, string(b))
}

func (m *Manager) clearPending(ctx context.Context, account string) error {
	err := m.vault.Delete(ctx, pendingName(account))
	if errors.Is(err, keystore.ErrNotFound) {
		return nil
	}
	return err
}

// Pending is the challenge an account is waiting on, or nil.
func (m *Manager) Pending(ctx context.Context, account string) (*Challenge, error) {
	a, err := m.account(account)
	if err != nil {
		return nil, err
	}
	p, err := m.loadPending(ctx, account)
	if err != nil || p == nil {
		return nil, err
	}
	return p.challenge(a), nil
}

// CancelPending forgets a waiting challenge.
func (m *Manager) CancelPending(ctx context.Context, account string) error {
	return m.clearPending(ctx, account)
}

func (p *pending) challenge(a accountRef) *Challenge {
	return &Challenge{
		Account: a.Name, Service: a.Service, Step: p.Step, Method: p.Method, Methods: p.Methods,
		SentTo: p.SentTo, Expires: p.Expires, IsPassword: p.Step == "mfa-password" || p.Step == "password",
		CanResend: p.Step == "otp" || p.Step == "mfa-otp" || p.Method == "email",
	}
}

// accountRef is the part of an account a challenge names.
type accountRef = config.Account

func isNotFound(err error) bool { return errors.Is(err, keystore.ErrNotFound) }

// fingerprintOrDash is a token's fingerprint, or "-" for one too short to
// have one (so the index never falls back to the JSON's last characters).
func fingerprintOrDash(token string) string {
	if fp := keystore.Fingerprint(token); fp != "" {
		return fp
	}
	return "-"
}

// signsInWith reports whether ref is the token keyturn itself signs in
// with (a PAT given to 'keyturn login --token-stdin'): for a Rocket.Chat
// PAT, the server's last part of it ends the credential's token; for a
// Mattermost user token, keyturn's copy of it is the credential's token
// (the server never shows it; see keepSignedIn for a copy keyturn lacks).
func (m *Manager) signsInWith(ctx context.Context, s *session, ref Ref) bool {
	if s.cred.Via != viaPAT {
		return false
	}
	switch ref.Kind {
	case KindPAT:
		s.signInOnce.Do(func() {
			pats, err := s.rocketchat().ListPATs(ctx)
			if err != nil {
				return
			}
			for _, p := range pats {
				if p.LastTokenPart != "" && strings.HasSuffix(s.cred.Token, p.LastTokenPart) {
					s.signInPAT = p.Name
				}
			}
		})
		return ref.ID == s.signInPAT
	case KindUserToken:
		v, err := m.vault.Get(ctx, SecretName(s.acct.Name, ref))
		return err == nil && v == s.cred.Token
	}
	return false
}

// switchCredential makes a newly issued token the one keyturn signs in
// with, in place of the one it replaces; it says in iss.Notes what came
// of it. It reports whether the credential was saved.
func (m *Manager) switchCredential(ctx context.Context, s *session, iss *Issued) bool {
	if iss == nil || iss.Value == "" {
		return false
	}
	c := *s.cred
	c.Token = iss.Value
	if err := m.saveCredential(ctx, s.acct.Name, c); err != nil {
		iss.Notes = append(iss.Notes, fmt.Sprintf("keyturn signed in with the token this one replaces, and could not save the new one as its credential (%v): sign in again with the new token", unwrapNotStored(err)))
		iss.Next = append(iss.Next, Remedy{Action: SignIn, Account: s.acct.Name, Flag: "--token-stdin"})
		return false
	}
	s.cred = &c
	iss.Notes = append(iss.Notes, "keyturn signed in with the token this one replaces; it now signs in with the new one")
	return true
}

// keepSignedIn checks, after a Mattermost user token was revoked, that the
// credential still works when it is a token keyturn held no copy of: a 401
// means it was the revoked one, and the new token, already verified,
// becomes the credential.
func (m *Manager) keepSignedIn(ctx context.Context, s *session, iss *Issued) {
	if s.cred.Via != viaPAT {
		return
	}
	_, err := s.mattermost().Me(ctx)
	var api *client.APIError
	if errors.As(err, &api) && api.Unauthorized() {
		m.switchCredential(ctx, s, iss)
	}
}

// unwrapNotStored is the store's own error inside a *NotStoredError, which
// would otherwise name the credential as "issued".
func unwrapNotStored(err error) error {
	var ns *NotStoredError
	if errors.As(err, &ns) {
		return ns.Err
	}
	return err
}
