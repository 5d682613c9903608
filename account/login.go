package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"keyturn/client"
	"keyturn/client/capillary"
	"keyturn/client/mattermost"
	"keyturn/client/rocketchat"
	"keyturn/config"
	"keyturn/textsafe"
)

// LoginRequest is one step of signing in. The first call carries the
// password; when the server wants a second factor, Login returns a
// *Challenge and the caller calls again with the same request plus Answer.
type LoginRequest struct {
	Account  string
	Password string // first factor (Mattermost, Rocket.Chat, Capillary password)
	// MFAPassword answers Capillary's MFA password step without a prompt.
	MFAPassword string
	// FirstFactor picks Capillary's first factor: "otp" or "password";
	// "" takes password when the server says the user has one.
	FirstFactor string
	Answer      *Answer
	// Resend asks for a fresh out-of-band code (Rocket.Chat email,
	// Capillary OTP) instead of answering.
	Resend bool
}

// capillaryPendingTTL is how long Capillary keeps a session id.
const capillaryPendingTTL = 15 * time.Minute

// Login signs in. It returns the account's new state, a *Challenge when a
// second factor is needed, or a *NotStoredError when the server issued a
// session the store refused (the token is in the error: nothing is lost).
func (m *Manager) Login(ctx context.Context, req LoginRequest) (*Status, error) {
	a, err := m.account(req.Account)
	if err != nil {
		return nil, err
	}
	// Under the account's lock, as every operation that replaces a token:
	// two sign-ins at once could otherwise store the older session last.
	// Each step holds it only while it talks to the server; none waits for
	// the person.
	unlock, err := m.lockAccount(ctx, a.Name, "signing in")
	if err != nil {
		return nil, err
	}
	defer unlock()
	switch a.Service {
	case Mattermost:
		err = m.loginMattermost(ctx, a, req)
	case RocketChat:
		err = m.loginRocketChat(ctx, a, req)
	case Capillary:
		err = m.loginCapillary(ctx, a, req)
	default:
		err = fmt.Errorf("unknown service %q", a.Service)
	}
	if err != nil {
		return nil, err
	}
	// Signed in: the state is read back even if the caller gave up meanwhile,
	// so it reports the session that was stored.
	return m.Show(context.WithoutCancel(ctx), a.Name)
}

func (m *Manager) loginMattermost(ctx context.Context, a config.Account, req LoginRequest) error {
	if req.Password == "" {
		return fmt.Errorf("%s: a password is needed to sign in", a.Name)
	}
	hc, err := m.httpClient(a)
	if err != nil {
		return err
	}
	code := ""
	if req.Answer != nil {
		code = strings.TrimSpace(req.Answer.Code)
	}
	ctx, done, err := m.issuing(ctx, inFlightLogin(a.Name))
	if err != nil {
		return err
	}
	defer done()
	token, me, err := mattermost.New(hc, "").Login(ctx, a.User, req.Password, code)
	if err != nil && token != "" {
		// Signed in, but the answer did not say who: ask, with the token.
		me, err = mattermost.New(hc, token).Me(ctx)
		if err != nil {
			// Without the user the session cannot be used, and dropped it
			// would stay valid on the server, unknown to anyone: end it.
			msg := "keyturn ended that session"
			if lerr := mattermost.New(hc, token).Logout(context.WithoutCancel(ctx)); lerr != nil {
				msg = fmt.Sprintf("ending that session failed too (%v); it lapses when the server expires it", lerr)
			}
			return fmt.Errorf("%s: the server signed in but did not say which user, and asking failed (%w); %s. Run 'keyturn login %s' again", a.Name, err, msg, a.Name)
		}
	}
	var sf *client.SecondFactorRequired
	if errors.As(err, &sf) {
		return &Challenge{Account: a.Name, Service: a.Service, Step: "mfa", Method: client.MethodTOTP,
			Methods: []string{client.MethodTOTP}, Invalid: sf.Invalid, Locked: sf.Locked, Message: textsafe.Line(sf.Message)}
	}
	if err != nil {
		return err
	}
	return m.saveCredential(ctx, a.Name, credential{Via: viaSession, Token: token, UserID: me.ID})
}

func (m *Manager) loginRocketChat(ctx context.Context, a config.Account, req LoginRequest) error {
	hc, err := m.httpClient(a)
	if err != nil {
		return err
	}
	rc := rocketchat.New(hc, rocketchat.Credentials{})
	if req.Resend {
		if err := rc.SendEmailCode(ctx, a.User); err != nil {
			return err
		}
		p, _ := m.loadPending(ctx, a.Name)
		ch := &Challenge{Account: a.Name, Service: a.Service, Step: "2fa", Method: client.MethodEmail,
			Methods: []string{client.MethodEmail}, CodeSent: true, SentTo: a.User, CanResend: true}
		if p != nil && p.SentTo != "" {
			ch.SentTo = p.SentTo
		}
		m.rememberChallenge(ctx, a, ch)
		return ch
	}
	if req.Password == "" {
		return fmt.Errorf("%s: a password is needed to sign in", a.Name)
	}
	code := ""
	if req.Answer != nil {
		code = strings.TrimSpace(req.Answer.Code)
	}
	ctx, done, err := m.issuing(ctx, inFlightLogin(a.Name))
	if err != nil {
		return err
	}
	defer done()
	res, err := rc.Login(ctx, a.User, req.Password, code)
	if ch := m.challengeFrom(a, "2fa", err); ch != nil {
		m.rememberChallenge(ctx, a, ch)
		return ch
	}
	if err != nil {
		return err
	}
	_ = m.clearPending(ctx, a.Name)
	return m.saveCredential(ctx, a.Name, credential{Via: viaSession, Token: res.Credentials.AuthToken, UserID: res.Credentials.UserID})
}

// challengeFrom turns a client's second-factor error into a Challenge.
func (m *Manager) challengeFrom(a config.Account, step string, err error) *Challenge {
	var sf *client.SecondFactorRequired
	if !errors.As(err, &sf) {
		return nil
	}
	// The methods are only shown (the CLI lists the others on the
	// terminal); the answer echoes sf.Method.
	var methods []string
	for _, m := range sf.Methods {
		methods = append(methods, textsafe.Line(m))
	}
	if len(methods) == 0 && sf.Method != "" {
		methods = []string{sf.Method}
	}
	return &Challenge{Account: a.Name, Service: a.Service, Step: step, Method: sf.Method, Methods: methods,
		CodeSent: sf.CodeSent, SentTo: textsafe.Line(sf.SentTo), Expires: sf.Expires, Invalid: sf.Invalid, Locked: sf.Locked,
		Message: textsafe.Line(sf.Message), IsPassword: sf.Method == client.MethodPassword, CanResend: sf.Method == client.MethodEmail}
}

// rememberChallenge keeps an out-of-band challenge so that a later run
// with the code can say what it answers. Failing to keep it only loses that
// message, so the error is dropped.
func (m *Manager) rememberChallenge(ctx context.Context, a config.Account, ch *Challenge) {
	if !ch.OutOfBand() {
		return
	}
	exp := ch.Expires
	if exp.IsZero() {
		exp = m.opts.Now().Add(time.Hour)
	}
	_ = m.savePending(ctx, a.Name, pending{Step: ch.Step, Method: ch.Method, Methods: ch.Methods, SentTo: ch.SentTo, Expires: exp})
}

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
		return fmt.Errorf("%s: no sign-in is waiting for a code (it may have expired); run 'keyturn login %s' again without --code", a.Name, a.Name)
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
		ctx, done, err := m.issuing(ctx, inFlightLogin(a.Name))
		if err != nil {
			return err
		}
		defer done()
		tokens, err := cp.ValidatePassword(ctx, p.SessionID, pw)
		if err != nil {
			return m.capillaryStepError(ctx, a, p, err)
		}
		return m.capillaryAfterFirst(ctx, a, cp, tokens, req)
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
		ctx, done, err := m.issuing(ctx, inFlightLogin(a.Name))
		if err != nil {
			return err
		}
		defer done()
		tokens, err := cp.ValidateOTP(ctx, p.SessionID, answer)
		if err != nil {
			return m.capillaryStepError(ctx, a, p, err)
		}
		return m.capillaryAfterFirst(ctx, a, cp, tokens, req)
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
		ctx, done, err := m.issuing(ctx, inFlightLogin(a.Name))
		if err != nil {
			return err
		}
		defer done()
		var tokens *capillary.Tokens
		if p.Step == "mfa-otp" {
			tokens, err = cp.ValidateMFAOTP(ctx, p.SessionID, answer)
		} else {
			tokens, err = cp.ValidateMFAPassword(ctx, p.SessionID, answer)
		}
		if err != nil {
			return m.capillaryStepError(ctx, a, p, err)
		}
		return m.capillaryFinish(ctx, a, tokens, true)
	}
	_ = m.clearPending(ctx, a.Name)
	return fmt.Errorf("%s: the waiting sign-in step %q is unknown; run 'keyturn login %s' again", a.Name, p.Step, a.Name)
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
		return fmt.Errorf("%w; start again with 'keyturn login %s'", err, a.Name)
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
		return fmt.Errorf("%s: signed in, but the server sent no key, so the session cannot be regenerated; sign in again when it expires", a.Name)
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

func expiryPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// LoginWithToken signs in with a token made elsewhere: a Mattermost
// personal access token, or a Rocket.Chat PAT with its user id. The token
// is checked against the server before it is stored.
func (m *Manager) LoginWithToken(ctx context.Context, account, token, userID string) (*Status, error) {
	a, err := m.account(account)
	if err != nil {
		return nil, err
	}
	token = strings.TrimSpace(token)
	if token == "" {
		return nil, fmt.Errorf("%s: the token is empty", account)
	}
	unlock, err := m.lockAccount(ctx, a.Name, "signing in")
	if err != nil {
		return nil, err
	}
	defer unlock()
	hc, err := m.httpClient(a)
	if err != nil {
		return nil, err
	}
	switch a.Service {
	case Mattermost:
		me, err := mattermost.New(hc, token).Me(ctx)
		if err != nil {
			return nil, fmt.Errorf("checking the token: %w", err)
		}
		if err := m.saveCredential(ctx, a.Name, credential{Via: viaPAT, Token: token, UserID: me.ID}); err != nil {
			return nil, err
		}
	case RocketChat:
		if userID == "" {
			return nil, fmt.Errorf("%s: a Rocket.Chat token needs its user id (--user-id)", account)
		}
		if _, err := rocketchat.New(hc, rocketchat.Credentials{UserID: userID, AuthToken: token, IsPAT: true}).Me(ctx); err != nil {
			return nil, fmt.Errorf("checking the token: %w", err)
		}
		if err := m.saveCredential(ctx, a.Name, credential{Via: viaPAT, Token: token, UserID: userID}); err != nil {
			return nil, err
		}
	default:
		return nil, fmt.Errorf("%s: signing in with a token works for Mattermost and Rocket.Chat only", account)
	}
	return m.Show(ctx, account)
}

// Logout ends the session on the server where the API has it and deletes
// the credential. A Rocket.Chat PAT is never logged out: that would delete
// it. A Mattermost PAT survives a logout, so none is sent.
func (m *Manager) Logout(ctx context.Context, account string) error {
	a, err := m.account(account)
	if err != nil {
		return err
	}
	// Under the lock: the session secret it deletes could otherwise be a
	// token another process rotated meanwhile, valid and with no copy left.
	unlock, err := m.lockAccount(ctx, a.Name, "signing out")
	if err != nil {
		return err
	}
	defer unlock()
	cred, err := m.loadCredential(ctx, account)
	if err != nil && !errors.Is(err, ErrNotSignedIn) {
		return err
	}
	var serverErr error
	if cred != nil {
		serverErr = m.serverLogout(ctx, a, cred)
	}
	for _, n := range []string{credentialName(account), pendingName(account), SecretName(account, Ref{Kind: KindSession})} {
		if err := m.vault.Delete(ctx, n); err != nil && !isNotFound(err) {
			return err
		}
	}
	var local *LocalOnlyError
	if errors.As(serverErr, &local) {
		return local
	}
	if serverErr != nil {
		return fmt.Errorf("signed out locally (credential deleted), but the server's logout failed: %w", serverErr)
	}
	return nil
}

func (m *Manager) serverLogout(ctx context.Context, a config.Account, cred *credential) error {
	hc, err := m.httpClient(a)
	if err != nil {
		return err
	}
	switch a.Service {
	case Mattermost:
		if cred.Via == viaPAT {
			return nil
		}
		return mattermost.New(hc, cred.Token).Logout(ctx)
	case RocketChat:
		if cred.Via == viaPAT {
			return nil
		}
		return rocketchat.New(hc, rocketchat.Credentials{UserID: cred.UserID, AuthToken: cred.Token}).Logout(ctx)
	case Capillary:
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
	return nil
}
