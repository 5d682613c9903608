package account

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"keyturn/client"
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

// Login signs in. It returns the account's new state, a *Challenge when a
// second factor is needed, or a *NotStoredError when the server issued a
// session the store refused (the token is in the error: nothing is lost).
func (m *Manager) Login(ctx context.Context, req LoginRequest) (st *Status, err error) {
	defer func() { m.auditStep(ctx, Event{Action: ActLogin, Account: req.Account}, err) }()
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
	svc, err := serviceOf(a.Service)
	if err == nil {
		err = svc.login(ctx, m, a, req)
	}
	if err != nil {
		return nil, refusedSignIn(err)
	}
	// Signed in: the state is read back even if the caller gave up meanwhile,
	// so it reports the session that was stored.
	return m.Show(context.WithoutCancel(ctx), a.Name)
}

// refusedSignIn words a sign-in the server refused outright: at this step
// a 401 is the first factor, not a session that ended.
func refusedSignIn(err error) error {
	var ae *client.APIError
	var ch *Challenge
	if errors.As(err, &ae) && ae.Unauthorized() && !errors.As(err, &ch) {
		return say(err, "The server did not accept the user name or password.")
	}
	return err
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

func expiryPtr(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

// LoginWithToken signs in with a token made elsewhere: a Mattermost
// personal access token, or a Rocket.Chat PAT with its user id. The token
// is checked against the server before it is stored.
func (m *Manager) LoginWithToken(ctx context.Context, account, token, userID string) (st *Status, err error) {
	defer func() { m.auditStep(ctx, Event{Action: ActLogin, Account: account}, err) }()
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
	t, ok := capability[tokenSignIn](a.Service)
	if !ok {
		return nil, fmt.Errorf("%s: signing in with a token works for Mattermost and Rocket.Chat only", account)
	}
	if err := t.loginWithToken(ctx, m, a, hc, token, userID); err != nil {
		return nil, err
	}
	return m.Show(ctx, account)
}

// Logout ends the session on the server where the API has it and deletes
// the credential. A Rocket.Chat PAT is never logged out: that would delete
// it. A Mattermost PAT survives a logout, so none is sent.
func (m *Manager) Logout(ctx context.Context, account string) (err error) {
	defer func() { m.audit(ctx, Event{Action: ActLogout, Account: account}, err) }()
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
	if svc, ok := Lookup(a.Service); ok {
		return svc.logout(ctx, m, a, hc, cred)
	}
	return nil
}
