package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"keyturn/client"
	"keyturn/client/capillary"
	"keyturn/config"
	"keyturn/textsafe"
)

// Capillary is the service id of Capillary accounts.
const Capillary = "capillary"

// capillaryService speaks the Capillary auth engine: signs in step by step
// with a brand, an identifier and a device id; keeps a long-lived key and
// a 15-minute session token regenerated from it.
type capillaryService struct{}

var capillaryInfo = &ServiceInfo{
	ID: Capillary, Name: "Capillary", Short: "CAP", Color: "#0F7B6C",
	SignIn: SignInForm{PasswordOptional: true, MFAPassword: true, Identity: true},
	Kinds: []TokenKind{
		{Kind: KindSession, Title: "Session", Noun: "session token", Revocable: true, Session: true},
	},
	Page:           []string{KindSession},
	AutoRegenerate: true,
}

func (capillaryService) Info() *ServiceInfo { return capillaryInfo }

func (capillaryService) normalize(a *config.Account) error {
	if a.Region != "" {
		u, err := capillary.RegionURL(a.Region)
		if err != nil {
			return err
		}
		if a.URL != "" && a.URL != u {
			return fmt.Errorf("give either --region or --url, not both")
		}
		a.URL = u
	}
	if a.Brand == "" {
		return withRemedy(errors.New("capillary account needs a brand"), Remedy{Action: UseFlag, Flag: "--brand"})
	}
	a.IdentifierType = strings.ToUpper(strings.TrimSpace(a.IdentifierType))
	if err := capillary.ValidIdentifierType(a.IdentifierType); err != nil {
		return err
	}
	if a.Identifier == "" {
		a.Identifier = a.User
	}
	if a.Identifier == "" {
		return withRemedy(errors.New("capillary account needs an identifier value"), Remedy{Action: UseFlag, Flag: "--identifier"})
	}
	// The login the lists show is the identifier, kept in step when an
	// edit changes it.
	a.User = a.Identifier
	if a.DeviceID == "" {
		return withRemedy(errors.New("capillary account needs a device id"), Remedy{Action: UseFlag, Flag: "--device-id"})
	}
	return checkCapillaryExtras(a)
}

func (capillaryService) login(ctx context.Context, m *Manager, a config.Account, req LoginRequest) error {
	return m.loginCapillary(ctx, a, req)
}

func (capillaryService) logout(ctx context.Context, m *Manager, a config.Account, _ *client.Client, cred *credential) error {
	// An expired token has nothing left to end; the server would only
	// refuse to expire it.
	var expires *time.Time
	if c, err := m.cfg.Load(); err == nil {
		if meta, ok := c.Secret(SecretName(a.Name, Ref{Kind: KindSession})); ok && meta.Expires != nil {
			if !meta.Expires.After(m.opts.Now()) {
				return nil
			}
			expires = meta.Expires
		}
	}
	if !cred.MFA {
		// mfa/token/expire takes only the MFA step's tokens.
		return &LocalOnlyError{Account: a.Name, Expires: expires}
	}
	token, err := m.vault.Get(ctx, SecretName(a.Name, Ref{Kind: KindSession}))
	if err != nil {
		return nil
	}
	cp, err := m.capillary(a)
	if err != nil {
		return err
	}
	return cp.ExpireMFAToken(ctx, token)
}

func (capillaryService) tokens(ctx context.Context, m *Manager, s *session, _ []string, _ string) ([]Token, error) {
	return m.capillaryTokens(ctx, s)
}

// capillaryPendingTTL is how long Capillary keeps a session id.
const capillaryPendingTTL = 15 * time.Minute

func (m *Manager) capillary(a config.Account) (*capillary.Client, error) {
	hc, err := m.httpClient(a)
	if err != nil {
		return nil, err
	}
	return capillary.New(hc, capillaryIdentity(a)), nil
}

// loginCapillary walks Capillary's steps: token/generate, then the OTP or
// password first factor, then, for users enrolled in MFA, the MFA OTP or
// MFA password. Each step that waits for the person is kept in the store,
// so a later call (or a later process) resumes it.
func (m *Manager) loginCapillary(ctx context.Context, a config.Account, req LoginRequest) error {
	cp, err := m.capillary(a)
	if err != nil {
		return err
	}
	p, err := m.loadPending(ctx, a.Name)
	if err != nil {
		return err
	}
	if p == nil && req.Answer != nil && req.Answer.Code != "" && req.Password == "" {
		return withRemedy(fmt.Errorf("%s: no sign-in is waiting for a code (it may have expired)", a.Name), Remedy{Action: SignIn, Account: a.Name})
	}
	if p == nil {
		return m.capillaryStart(ctx, a, cp, req)
	}
	return m.capillaryResume(ctx, a, cp, p, req)
}

func (m *Manager) capillaryStart(ctx context.Context, a config.Account, cp *capillary.Client, req LoginRequest) error {
	sess, err := cp.GenerateToken(ctx, "", "")
	if err != nil {
		return err
	}
	factor := req.FirstFactor
	if factor == "" {
		factor = "otp"
		if sess.UserRegisteredForPassword {
			factor = "password"
		}
	}
	switch factor {
	case "password":
		if req.Password == "" {
			p := pending{Step: "password", Method: client.MethodPassword, SessionID: sess.SessionID, Expires: m.opts.Now().Add(capillaryPendingTTL)}
			if err := m.savePending(ctx, a.Name, p); err != nil {
				return err
			}
			return p.challenge(a)
		}
		ctx, done, err := m.issuing(ctx, inFlightLogin(a.Name))
		if err != nil {
			return err
		}
		defer done()
		tokens, err := cp.ValidatePassword(ctx, sess.SessionID, req.Password)
		if err != nil {
			return err
		}
		return m.capillaryAfterFirst(ctx, a, cp, tokens, req)
	case "otp":
		if err := cp.GenerateOTP(ctx, sess.SessionID); err != nil {
			return err
		}
		p := pending{Step: "otp", Method: client.MethodOTP, Methods: []string{client.MethodOTP}, SessionID: sess.SessionID,
			SentTo: strings.ToLower(a.IdentifierType) + " " + a.Identifier, Expires: m.opts.Now().Add(capillaryPendingTTL)}
		if err := m.savePending(ctx, a.Name, p); err != nil {
			return err
		}
		ch := p.challenge(a)
		ch.CodeSent = true
		return ch
	}
	return fmt.Errorf("first factor %q: use otp or password", factor)
}

func (m *Manager) capillaryResume(ctx context.Context, a config.Account, cp *capillary.Client, p *pending, req LoginRequest) error {
	answer := ""
	method := ""
	if req.Answer != nil {
		answer = req.Answer.Code
		method = req.Answer.Method
	}
	if !passwordStep(p.Step, method) {
		answer = strings.TrimSpace(answer) // a code; a password goes as typed
	}
	switch p.Step {
	case "password":
		pw := req.Password
		if pw == "" {
			pw = answer
		}
		if pw == "" {
			return p.challenge(a)
		}
		return m.capillaryAnswer(ctx, a, cp, p, req, func(ctx context.Context) (*capillary.Tokens, error) {
			return cp.ValidatePassword(ctx, p.SessionID, pw)
		})
	case "otp":
		if req.Resend {
			if err := cp.GenerateOTP(ctx, p.SessionID); err != nil {
				return err
			}
			ch := p.challenge(a)
			ch.CodeSent = true
			return ch
		}
		if answer == "" {
			return p.challenge(a)
		}
		return m.capillaryAnswer(ctx, a, cp, p, req, func(ctx context.Context) (*capillary.Tokens, error) {
			return cp.ValidateOTP(ctx, p.SessionID, answer)
		})
	case "mfa-otp", "mfa-password":
		// The person may switch between the MFA OTP and the MFA password.
		if method == client.MethodPassword && p.Step == "mfa-otp" {
			p.Step, p.Method = "mfa-password", client.MethodPassword
		}
		if (method == client.MethodOTP && p.Step == "mfa-password") || (req.Resend && p.Step == "mfa-otp") {
			if err := cp.GenerateMFAOTP(ctx, p.SessionID); err != nil {
				return err
			}
			p.Step, p.Method = "mfa-otp", client.MethodOTP
			p.SentTo = strings.ToLower(a.IdentifierType) + " " + a.Identifier
			if err := m.savePending(ctx, a.Name, *p); err != nil {
				return err
			}
			ch := p.challenge(a)
			ch.CodeSent = true
			return ch
		}
		if answer == "" && p.Step == "mfa-password" {
			answer = req.MFAPassword
		}
		if answer == "" {
			return p.challenge(a)
		}
		validate := cp.ValidateMFAPassword
		if p.Step == "mfa-otp" {
			validate = cp.ValidateMFAOTP
		}
		return m.capillaryAnswer(ctx, a, cp, p, req, func(ctx context.Context) (*capillary.Tokens, error) {
			return validate(ctx, p.SessionID, answer)
		})
	}
	_ = m.clearPending(ctx, a.Name)
	return withRemedy(fmt.Errorf("%s: the waiting sign-in step %q is unknown", a.Name, p.Step), Remedy{Action: SignIn, Account: a.Name})
}

// capillaryAnswer sends the answer to the waiting step (send) as an
// issuing request, which a quit waits for, and goes on from the tokens it
// yields: to MFA or the end after the first factor, to the end after MFA.
func (m *Manager) capillaryAnswer(ctx context.Context, a config.Account, cp *capillary.Client, p *pending, req LoginRequest,
	send func(context.Context) (*capillary.Tokens, error)) error {
	ctx, done, err := m.issuing(ctx, inFlightLogin(a.Name))
	if err != nil {
		return err
	}
	defer done()
	tokens, err := send(ctx)
	if err != nil {
		return m.capillaryStepError(ctx, a, p, err)
	}
	if strings.HasPrefix(p.Step, "mfa-") {
		return m.capillaryFinish(ctx, a, tokens, true)
	}
	return m.capillaryAfterFirst(ctx, a, cp, tokens, req)
}

// capillaryStepError keeps the challenge open on a wrong code, and drops
// it when the server says the session is gone.
func (m *Manager) capillaryStepError(ctx context.Context, a config.Account, p *pending, err error) error {
	switch {
	case capillary.IsInvalidCode(err):
		ch := p.challenge(a)
		ch.Invalid = true
		var ae *client.APIError
		if errors.As(err, &ae) {
			ch.Message = textsafe.Line(ae.Message)
		}
		return ch
	case capillary.IsLocked(err), capillary.IsSessionExpired(err):
		_ = m.clearPending(ctx, a.Name)
		return withRemedy(err, Remedy{Action: SignIn, Account: a.Name})
	}
	return err
}

// capillaryAfterFirst goes on to MFA when the first-factor token says the
// user is enrolled, or finishes.
func (m *Manager) capillaryAfterFirst(ctx context.Context, a config.Account, cp *capillary.Client, tokens *capillary.Tokens, req LoginRequest) error {
	if !needsMFA(a, tokens.Role) {
		return m.capillaryFinish(ctx, a, tokens, false)
	}
	sess, err := cp.GenerateMFAToken(ctx, tokens.Token, "", "")
	if err != nil {
		return err
	}
	p := pending{SessionID: sess.SessionID, AuthorizedToken: tokens.Token, Methods: []string{client.MethodPassword, client.MethodOTP},
		Expires: m.opts.Now().Add(capillaryPendingTTL)}
	wantPassword := req.MFAPassword != "" || (req.Answer != nil && req.Answer.Method == client.MethodPassword)
	if req.Answer != nil && req.Answer.Method == client.MethodOTP {
		wantPassword = false
	} else if !wantPassword {
		wantPassword = sess.UserRegisteredForPassword
	}
	if wantPassword {
		if req.MFAPassword != "" {
			t, err := cp.ValidateMFAPassword(ctx, sess.SessionID, req.MFAPassword)
			if err == nil {
				return m.capillaryFinish(ctx, a, t, true)
			}
			p.Step, p.Method = "mfa-password", client.MethodPassword
			if serr := m.savePending(ctx, a.Name, p); serr != nil {
				return serr
			}
			return m.capillaryStepError(ctx, a, &p, err)
		}
		p.Step, p.Method = "mfa-password", client.MethodPassword
		if err := m.savePending(ctx, a.Name, p); err != nil {
			return err
		}
		return p.challenge(a)
	}
	if err := cp.GenerateMFAOTP(ctx, sess.SessionID); err != nil {
		return err
	}
	p.Step, p.Method = "mfa-otp", client.MethodOTP
	p.SentTo = strings.ToLower(a.IdentifierType) + " " + a.Identifier
	if err := m.savePending(ctx, a.Name, p); err != nil {
		return err
	}
	ch := p.challenge(a)
	ch.CodeSent = true
	return ch
}

// capillaryFinish stores the session token first (it is the issued
// secret people use), then the key keyturn regenerates it from. The key is
// stored even when the session was not: a *NotStoredError for the session
// must not cost the key too. If neither could be stored, saving the
// session again (RetryStore) saves the key with it.
func (m *Manager) capillaryFinish(ctx context.Context, a config.Account, tokens *capillary.Tokens, mfa bool) error {
	_ = m.clearPending(ctx, a.Name)
	exp := expiryPtr(tokens.Expires)
	iss, err := m.issue(ctx, a.Name, Ref{Kind: KindSession}, tokens.Token, exp)
	if tokens.Key == "" {
		if err != nil {
			return err
		}
		return fmt.Errorf("%s: signed in, but the server sent no key, so the session cannot be renewed; sign in again when it expires", a.Name)
	}
	kerr := m.saveCredential(ctx, a.Name, credential{Via: viaKey, Key: tokens.Key, MFA: mfa})
	if err != nil {
		var kns *NotStoredError
		if errors.As(kerr, &kns) {
			iss.also = kns.Issued
			iss.Notes = append(iss.Notes, "the key keyturn renews the session from was not saved either: until it is (save again, or sign in again once the store works), the session cannot be renewed")
		}
		return err
	}
	return kerr
}

func (m *Manager) capillaryTokens(ctx context.Context, s *session) ([]Token, error) {
	c, err := m.cfg.Load()
	if err != nil {
		return nil, err
	}
	t := Token{Ref: Ref{Kind: KindSession}, Label: "session of " + s.acct.Identifier}
	if meta, ok := c.Secret(SecretName(s.acct.Name, t.Ref)); ok {
		t.Expires = meta.Expires
		created := meta.Created
		if meta.Rotated != nil {
			created = *meta.Rotated
		}
		t.Created = &created
	}
	return []Token{t}, nil
}

func (s *session) capillary() *capillary.Client {
	return capillary.New(s.hc, capillaryIdentity(s.acct))
}

func (capillaryService) rotate(ctx context.Context, m *Manager, s *session, _ Ref, _ *Answer) (*Issued, error) {
	return m.regenerateSession(ctx, s)
}

func (capillaryService) revoke(ctx context.Context, m *Manager, s *session, ref Ref, _ *Answer) error {
	if !s.cred.MFA {
		// mfa/token/expire takes only the MFA step's tokens: forget it.
		var expires *time.Time
		if c, err := m.cfg.Load(); err == nil {
			if meta, ok := c.Secret(SecretName(s.acct.Name, ref)); ok {
				expires = meta.Expires
			}
		}
		if err := m.vault.Delete(ctx, SecretName(s.acct.Name, ref)); err != nil && !isNotFound(err) {
			return err
		}
		return &LocalOnlyError{Account: s.acct.Name, Expires: expires}
	}
	tok, err := m.vault.Get(ctx, SecretName(s.acct.Name, ref))
	if err != nil {
		return err
	}
	return s.capillary().ExpireMFAToken(ctx, tok)
}

// regenerateSession makes a new Capillary token from the stored key.
func (m *Manager) regenerateSession(ctx context.Context, s *session) (*Issued, error) {
	if s.cred.Key == "" {
		return nil, fmt.Errorf("%s: no key is stored; sign in again", s.acct.Name)
	}
	cp := s.capillary()
	ctx, done, err := m.issuing(ctx, inFlightIssue(s.acct.Name, Ref{Kind: KindSession}, true))
	if err != nil {
		return nil, err
	}
	defer done()
	var tokens *capillary.Tokens
	if s.cred.MFA {
		tokens, err = cp.RegenerateMFAToken(ctx, s.cred.Key)
	} else {
		tokens, err = cp.RegenerateToken(ctx, s.cred.Key)
	}
	if err != nil {
		if capillary.IsSessionExpired(err) {
			return nil, withRemedy(fmt.Errorf("%w: the stored key is no longer accepted", err), Remedy{Action: SignIn, Account: s.acct.Name})
		}
		return nil, m.explainIssueError(s, Ref{Kind: KindSession}, err, true)
	}
	iss, err := m.issueIn(ctx, s, Ref{Kind: KindSession}, tokens.Token, expiryPtr(tokens.Expires))
	if err != nil {
		return iss, err
	}
	// Regenerate answers key:null; a new key, if one ever comes, replaces
	// the stored one only after the token is safe.
	if tokens.Key != "" && tokens.Key != s.cred.Key {
		c := *s.cred
		c.Key = tokens.Key
		if err := m.saveCredential(ctx, s.acct.Name, c); err != nil {
			iss.Notes = append(iss.Notes, "the server sent a new key that could not be stored: "+err.Error())
		}
	}
	return iss, nil
}
