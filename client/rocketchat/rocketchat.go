// Package rocketchat is a typed client for Rocket.Chat's REST API v1: login
// with a second-factor code, the current user, logout, personal access
// tokens (PATs), emailed two-factor codes and TOTP setup (server 8.8+).
//
// Authenticated calls send X-User-Id and X-Auth-Token. Routes that require
// two-factor authentication answer `totp-required` / `totp-invalid` /
// `totp-max-attempts` (HTTP 400, or 401 at login); these become a
// *client.SecondFactorRequired, and the caller retries the same call with a
// *SecondFactor, which travels in the x-2fa-code and x-2fa-method headers.
// For the password method the client sends the lowercase hex SHA-256 of
// the password, never the password itself.
//
// Every other error answer becomes a *client.APIError whose Code is the
// server's error id (errorType, the `[error-xxx]` suffix of the message, or
// the bare id of a login error); 429s are *client.RateLimitedError.
//
// A Client is immutable and safe for concurrent use; WithCredentials gives a
// copy acting as someone else (for instance after Login).
package rocketchat

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"

	"keyturn/client"
)

// ServiceName names the service in errors when the core client was built
// without one.
const ServiceName = "rocketchat"

// API paths.
const (
	pathLogin          = "/api/v1/login"
	pathMe             = "/api/v1/me"
	pathLogout         = "/api/v1/logout"
	pathGeneratePAT    = "/api/v1/users.generatePersonalAccessToken"
	pathRegeneratePAT  = "/api/v1/users.regeneratePersonalAccessToken"
	pathListPATs       = "/api/v1/users.getPersonalAccessTokens"
	pathRemovePAT      = "/api/v1/users.removePersonalAccessToken"
	pathSendEmailCode  = "/api/v1/users.2fa.sendEmailCode"
	pathEnableTOTP     = "/api/v1/users.enableTotp"
	pathValidateTOTP   = "/api/v1/users.validateTotp"
	pathDisableTOTP    = "/api/v1/users.disableTotp"
	headerUserID       = "X-User-Id"
	headerAuthToken    = "X-Auth-Token"
	header2FACode      = "x-2fa-code"
	header2FAMethod    = "x-2fa-method"
	maxTokenNameLength = 1000
)

// Errors returned before any request is sent.
var (
	// ErrNoCredentials: the call needs a user id and token (Login first, or a PAT).
	ErrNoCredentials = errors.New("rocketchat: not signed in: log in, or give a user id and personal access token")
	// ErrLogoutWithPAT: /logout deletes the token it is called with, so
	// keyturn never calls it with a personal access token.
	ErrLogoutWithPAT = errors.New("rocketchat: refusing to log out with a personal access token: the server would delete the token; remove it explicitly instead")
	// ErrTOTPUnsupported: the server has no users.enableTotp route (before 8.8).
	ErrTOTPUnsupported = errors.New("this server has no REST TOTP setup (users.enableTotp came with Rocket.Chat 8.8): set up the authenticator in Rocket.Chat's web client (My Account → Security), or check that the URL is the Rocket.Chat server")
)

// Credentials act as a user: the user id and an auth token (a login
// session's token or a personal access token).
type Credentials struct {
	UserID    string
	AuthToken string
	// IsPAT marks AuthToken as a personal access token. Logout refuses to
	// run with one, since /logout deletes the token it is called with.
	IsPAT bool
}

// Empty reports whether there is nothing to authenticate with.
func (c Credentials) Empty() bool { return c.UserID == "" || c.AuthToken == "" }

// String never shows the token.
func (c Credentials) String() string {
	kind := "session"
	if c.IsPAT {
		kind = "personal access token"
	}
	if c.AuthToken == "" {
		return fmt.Sprintf("rocketchat user %s (no token)", c.UserID)
	}
	return fmt.Sprintf("rocketchat user %s (%s %s)", c.UserID, kind, client.Redacted)
}

// GoString never shows the token either.
func (c Credentials) GoString() string { return c.String() }

// SecondFactor answers a challenge (*client.SecondFactorRequired).
type SecondFactor struct {
	// Method is the challenge's Method: client.MethodTOTP, MethodEmail or
	// MethodPassword. Echo what the server asked for: Rocket.Chat honours
	// only "totp" and "email" by name and otherwise checks the user's
	// first enabled method.
	Method string
	// Code is the code from the authenticator app or the email, a TOTP
	// backup code, or, for MethodPassword, the plain password: the client
	// sends its SHA-256 hex digest.
	Code string
}

// String never shows the code.
func (s SecondFactor) String() string {
	return fmt.Sprintf("second factor %s %s", s.Method, client.Redacted)
}

// GoString never shows the code either.
func (s SecondFactor) GoString() string { return s.String() }

// HashPassword is what Rocket.Chat's password fallback expects as the code:
// the lowercase hex SHA-256 of the plain password.
func HashPassword(plain string) string {
	sum := sha256.Sum256([]byte(plain))
	return hex.EncodeToString(sum[:])
}

// Client calls one Rocket.Chat server as one user.
type Client struct {
	hc      *client.Client
	cred    Credentials
	service string
}

// New wraps the shared core client; cred may be empty for Login and
// SendEmailCode.
func New(c *client.Client, cred Credentials) *Client {
	svc := c.Service()
	if svc == "" || svc == "server" {
		svc = ServiceName
	}
	return &Client{hc: c, cred: cred, service: svc}
}

// Open builds the core client from opts (Service defaults to
// "rocketchat") and wraps it.
func Open(opts client.Options, cred Credentials) (*Client, error) {
	if opts.Service == "" {
		opts.Service = ServiceName
	}
	hc, err := client.New(opts)
	if err != nil {
		return nil, err
	}
	return New(hc, cred), nil
}

// Credentials are the ones the client acts with.
func (r *Client) Credentials() Credentials { return r.cred }

// WithCredentials is a copy of the client acting with cred; it shares the
// HTTP client (and so the User-Agent Rocket.Chat remembers a passed second
// factor by).
func (r *Client) WithCredentials(cred Credentials) *Client {
	cp := *r
	cp.cred = cred
	return &cp
}

// Core is the shared HTTP client underneath.
func (r *Client) Core() *client.Client { return r.hc }

// call is one API request. auth adds the credential headers (and fails
// without any when required); sf adds the two-factor headers; out, when
// not nil, receives a 200 answer.
type call struct {
	method   string
	path     string
	body     any
	auth     authMode
	sf       *SecondFactor
	secrets  []string
	out      any
	list     bool  // out is a list: decoded as it streams in, up to client.MaxListBytes
	notFound error // returned (wrapped) for a 404: the route is missing
}

type authMode int

const (
	authNone     authMode = iota // never send credentials
	authOptional                 // send them when there are any
	authRequired                 // refuse to send the request without them
)

func (r *Client) do(ctx context.Context, c call) error {
	h := http.Header{}
	switch c.auth {
	case authRequired:
		if r.cred.Empty() {
			return ErrNoCredentials
		}
		fallthrough
	case authOptional:
		if !r.cred.Empty() {
			h.Set(headerUserID, r.cred.UserID)
			h.Set(headerAuthToken, r.cred.AuthToken)
			c.secrets = append(c.secrets, r.cred.AuthToken)
		}
	}
	if c.sf != nil {
		method, code, err := secondFactorHeaders(*c.sf)
		if err != nil {
			return err
		}
		h.Set(header2FACode, code)
		h.Set(header2FAMethod, method)
		c.secrets = append(c.secrets, c.sf.Code, code)
	}
	req := &client.Request{Method: c.method, Path: c.path, Header: h, Body: c.body, Secrets: c.secrets}
	var la *listAnswer
	if c.list {
		la = &listAnswer{out: c.out}
		req.List = la
	}
	resp, err := r.hc.Do(ctx, req)
	if err != nil {
		return r.rateLimitSeconds(err)
	}
	if resp.Status == http.StatusNotFound && c.notFound != nil {
		return fmt.Errorf("%s: %w", r.service, c.notFound)
	}
	if resp.Status < 200 || resp.Status > 299 {
		return r.errorFrom(resp)
	}
	if c.out == nil && len(bytes.TrimSpace(resp.Body)) == 0 {
		// Nothing is needed from the answer and nothing came: 7.4 and
		// later answer logout with 200 and no body at all
		// (RocketChat/Rocket.Chat#35922), and a 204 carries none.
		return nil
	}
	if la != nil {
		if la.env.Success != nil && !*la.env.Success {
			resp.Body = la.failed
			return r.errorFrom(resp)
		}
		return nil
	}
	var env envelope
	if err := client.Decode(r.service, resp, &env); err != nil {
		return err
	}
	if env.Success != nil && !*env.Success {
		// An answer that says it failed, whatever its status.
		return r.errorFrom(resp)
	}
	if c.out != nil {
		return client.Decode(r.service, resp, c.out)
	}
	return nil
}

func secondFactorHeaders(sf SecondFactor) (method, code string, err error) {
	method = strings.ToLower(strings.TrimSpace(sf.Method))
	if method == "" {
		return "", "", errors.New("rocketchat: the second factor has no method: echo the method of the server's challenge (totp, email or password)")
	}
	if sf.Code == "" {
		return "", "", fmt.Errorf("rocketchat: the %s code is empty", method)
	}
	code = strings.TrimSpace(sf.Code)
	if method == client.MethodPassword {
		// The plain password is hashed as typed, spaces and all.
		code = HashPassword(sf.Code)
	}
	return method, code, nil
}

// listAnswer decodes one streamed answer into both the envelope and the
// payload; a failed one is kept (when small) for errorFrom instead.
type listAnswer struct {
	env    envelope
	out    any
	failed []byte
}

func (a *listAnswer) UnmarshalJSON(data []byte) error {
	if err := json.Unmarshal(data, &a.env); err != nil {
		return err
	}
	if a.env.Success != nil && !*a.env.Success {
		if len(data) <= client.MaxBodyBytes {
			a.failed = append([]byte(nil), data...)
		}
		return nil
	}
	return json.Unmarshal(data, a.out)
}

// envelope is what every answer may carry besides its payload.
type envelope struct {
	Success *bool  `json:"success"`
	Status  string `json:"status"`
}

// LoginResult is a successful login: the session credentials and the user.
type LoginResult struct {
	Credentials Credentials
	Me          *User
}

// Login signs in with a user name (or an email address: one with "@") and
// password, plus the second-factor code when the account has one (TOTP, or
// an 8-character TOTP backup code, or the emailed code). Without the code,
// or with a wrong one, it returns a *client.SecondFactorRequired; Rocket.Chat
// uses the user's first enabled method (TOTP before email) at login and
// never the password fallback. A wrong user or password is a
// *client.APIError with status 401.
func (r *Client) Login(ctx context.Context, user, password, code string) (*LoginResult, error) {
	if strings.TrimSpace(user) == "" {
		return nil, errors.New("rocketchat: login needs a user name or email address")
	}
	if password == "" {
		return nil, errors.New("rocketchat: login needs the password")
	}
	body := loginBody{User: user, Password: password, Code: strings.TrimSpace(code)}
	var out struct {
		Data struct {
			UserID    string `json:"userId"`
			AuthToken string `json:"authToken"`
			Me        *User  `json:"me"`
		} `json:"data"`
	}
	err := r.do(ctx, call{method: http.MethodPost, path: pathLogin, body: body, auth: authNone,
		secrets: []string{password, body.Code}, out: &out})
	if err != nil {
		return nil, loginHint(err)
	}
	if out.Data.UserID == "" || out.Data.AuthToken == "" {
		return nil, &client.BadResponseError{Service: r.service, Status: http.StatusOK, StatusText: http.StatusText(http.StatusOK),
			ContentType: "application/json", Reason: "the login answer has no data.userId or data.authToken"}
	}
	return &LoginResult{
		Credentials: Credentials{UserID: out.Data.UserID, AuthToken: out.Data.AuthToken},
		Me:          out.Data.Me,
	}, nil
}

type loginBody struct {
	User     string `json:"user"`
	Password string `json:"password"`
	Code     string `json:"code,omitempty"`
}

// loginHint explains Rocket.Chat 9's bare {"error":"unauthorized"}, which
// stands for a wrong password and a missing second factor alike.
func loginHint(err error) error {
	var ae *client.APIError
	if errors.As(err, &ae) && ae.Status == http.StatusUnauthorized && ae.Code == "unauthorized" && ae.Detail == "" {
		ae.Detail = "the server does not say why: the user name or password is wrong, or the account needs a second-factor code"
	}
	return err
}

// Me is the signed-in user; it is also the side-effect-free way to check
// that stored credentials still work (a 401 *client.APIError when not).
func (r *Client) Me(ctx context.Context) (*User, error) {
	var u User
	if err := r.do(ctx, call{method: http.MethodGet, path: pathMe, auth: authRequired, out: &u}); err != nil {
		return nil, err
	}
	if u.ID == "" {
		return nil, &client.BadResponseError{Service: r.service, Status: http.StatusOK, StatusText: http.StatusText(http.StatusOK),
			ContentType: "application/json", Reason: "the answer to /me has no _id"}
	}
	return &u, nil
}

// Logout ends the login session: the server deletes the token sent. Any
// 2xx is success: 7.4 and later answer 200 with an empty body, older
// servers {"status":"success","data":{…}}. It refuses (ErrLogoutWithPAT, nothing sent) when the credentials are marked
// as a personal access token, which /logout would delete too.
func (r *Client) Logout(ctx context.Context) error {
	if r.cred.IsPAT {
		return ErrLogoutWithPAT
	}
	return r.do(ctx, call{method: http.MethodPost, path: pathLogout, auth: authRequired})
}
