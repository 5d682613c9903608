// Package capillary is a typed client for the Capillary auth engine
// (/auth/v1, mobile flavour): the first factor (token/generate, OTP or
// password), the MFA second factor (mfa/token/generate, MFA OTP or MFA
// password), token regeneration with the long-lived key, and MFA logout.
//
// Every call carries the account's identity (identifierType,
// identifierValue, brand, deviceId). The engine answers with a `status`
// envelope; `status.success:false` becomes a *client.APIError whose Code is
// the engine's numeric code ("1506", …), whatever the HTTP status. Plain-text
// Jersey 400s and proxies' HTML pages become *client.BadResponseError.
//
// Regenerate answers carry `key: null`: the caller keeps the key it has.
package capillary

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sort"
	"strings"
	"time"

	"keyturn/client"
)

// Identifier types the engine accepts.
const (
	IdentifierMobile     = "MOBILE"
	IdentifierEmail      = "EMAIL"
	IdentifierUsername   = "USERNAME"
	IdentifierExternalID = "EXTERNALID" // in the engine's enum, but not for signing in: see ErrExternalIDUnsupported
)

// identifierTypes are the ones the first-factor calls take (the docs list
// MOBILE, EMAIL and USERNAME).
var identifierTypes = []string{IdentifierMobile, IdentifierEmail, IdentifierUsername}

// ErrExternalIDUnsupported: EXTERNALID is in the engine's enum, but the
// Auth Engine docs list only MOBILE, EMAIL and USERNAME for token/generate
// and the other first-factor calls, so an account cannot sign in with it.
var ErrExternalIDUnsupported = errors.New("identifier type EXTERNALID cannot sign in: the Auth Engine's first-factor calls take only MOBILE, EMAIL or USERNAME (with the mobile number or e-mail address); use one of those")

// ValidIdentifierType checks s against the types an account can sign in
// with. The engine is strict (an unknown value is a plain-text Jersey
// 400), so keyturn checks before sending anything.
func ValidIdentifierType(s string) error {
	if s == IdentifierExternalID {
		return ErrExternalIDUnsupported
	}
	for _, t := range identifierTypes {
		if s == t {
			return nil
		}
	}
	if up := strings.ToUpper(strings.TrimSpace(s)); up != s {
		for _, t := range append(identifierTypes, IdentifierExternalID) {
			if up == t {
				return fmt.Errorf("identifier type %q must be written in capitals: %s", s, t)
			}
		}
	}
	return fmt.Errorf("identifier type %q is not one of %s", s, strings.Join(identifierTypes, ", "))
}

// Regions are the cluster API hosts that serve /auth/v1. Any other base
// URL (a brand's own host, say) works as well.
var Regions = map[string]string{
	"eu":    "https://eu.api.capillarytech.com",
	"apac":  "https://apac.api.capillarytech.com",
	"apac2": "https://apac2.api.capillarytech.com",
	"us":    "https://us.api.capillarytech.com",
	"in":    "https://in.api.capillarytech.com",
}

// RegionNames are the keys of Regions, sorted.
func RegionNames() []string {
	names := make([]string, 0, len(Regions))
	for n := range Regions {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// RegionURL is the base URL of a named region (case-insensitive).
func RegionURL(name string) (string, error) {
	if u, ok := Regions[strings.ToLower(strings.TrimSpace(name))]; ok {
		return u, nil
	}
	return "", fmt.Errorf("unknown Capillary region %q: use one of %s, or give the base URL itself", name, strings.Join(RegionNames(), ", "))
}

// Identity is who the calls are about; it is sent on every call.
type Identity struct {
	IdentifierType  string // MOBILE, EMAIL or USERNAME
	IdentifierValue string // e.g. "919999000001"
	Brand           string // the brand (org) name; case-insensitive on the server
	DeviceID        string // the device the session and tokens are bound to
	// Mobile and Email go with a USERNAME identifier on token/generate and
	// token/regenerate, which need one of them.
	Mobile string
	Email  string
}

// Check reports what is missing or wrong in the identity.
func (id Identity) Check() error {
	if err := ValidIdentifierType(id.IdentifierType); err != nil {
		return err
	}
	var missing []string
	if strings.TrimSpace(id.IdentifierValue) == "" {
		missing = append(missing, "identifier value")
	}
	if strings.TrimSpace(id.Brand) == "" {
		missing = append(missing, "brand")
	}
	if strings.TrimSpace(id.DeviceID) == "" {
		missing = append(missing, "device id")
	}
	if len(missing) > 0 {
		return fmt.Errorf("capillary account lacks its %s", strings.Join(missing, " and "))
	}
	if id.IdentifierType == IdentifierUsername && strings.TrimSpace(id.Mobile) == "" && strings.TrimSpace(id.Email) == "" {
		return errors.New("a USERNAME identifier signs in with the account's mobile or email as well (token/generate needs one): add it to the account")
	}
	return nil
}

// Client calls one auth engine as one identity.
type Client struct {
	c  *client.Client
	id Identity
}

// New is a client for identity id over the shared HTTP core c.
func New(c *client.Client, id Identity) *Client { return &Client{c: c, id: id} }

// Identity is the identity the client sends.
func (c *Client) Identity() Identity { return c.id }

// Session is what token/generate and mfa/token/generate return: a session
// to validate an OTP or password against, and a VIEW token.
type Session struct {
	SessionID string
	Token     string // the session's VIEW token
	Role      string // "VIEW"
	// UserRegisteredForPassword: the person has a password for this factor
	// (first factor: account password; MFA: MFA password). When false the
	// password step is not available; use the OTP (after setting a password
	// with password+confirmPassword, if the brand wants one).
	UserRegisteredForPassword bool
	Expires                   time.Time // the VIEW token's exp; zero when unreadable
}

// Tokens is what a validate or regenerate call returns.
type Tokens struct {
	Token   string
	Key     string    // "" when the server sent null (regenerate): keep the key you have
	Expires time.Time // the token's JWT exp; zero when the token carries none
	Role    string    // USER, or MFA_PENDING when the person must pass MFA next
}

// GenerateToken starts a first-factor session (token/generate). For a
// first-time password user, password and confirmPassword register the
// password (it takes effect after the OTP is validated); otherwise pass "".
func (c *Client) GenerateToken(ctx context.Context, password, confirmPassword string) (*Session, error) {
	body := c.firstFactorBody()
	setIf(body, "password", password)
	setIf(body, "confirmPassword", confirmPassword)
	var w wireResponse
	if err := c.call(ctx, http.MethodPost, "/auth/v1/token/generate", body, []string{password, confirmPassword}, &w); err != nil {
		return nil, err
	}
	return c.session(&w)
}

// GenerateOTP has the engine send a first-factor OTP (otp/generate).
func (c *Client) GenerateOTP(ctx context.Context, sessionID string) error {
	return c.sendOTP(ctx, "/auth/v1/otp/generate", sessionID)
}

// ValidateOTP checks the first-factor OTP (otp/validate) and returns the
// token and key. Role MFA_PENDING means the MFA step comes next.
func (c *Client) ValidateOTP(ctx context.Context, sessionID, otp string) (*Tokens, error) {
	return c.validate(ctx, "/auth/v1/otp/validate", sessionID, "otp", otp)
}

// ValidatePassword checks the first-factor password (password/validate).
func (c *Client) ValidatePassword(ctx context.Context, sessionID, password string) (*Tokens, error) {
	return c.validate(ctx, "/auth/v1/password/validate", sessionID, "password", password)
}

// RegenerateToken gets a new first-factor token with the key
// (token/regenerate). The answer's key is null: Tokens.Key is "".
func (c *Client) RegenerateToken(ctx context.Context, key string) (*Tokens, error) {
	return c.regenerate(ctx, "/auth/v1/token/regenerate", key)
}

// GenerateMFAToken starts an MFA session (mfa/token/generate) with the
// first-factor token. A first-time MFA password user passes the new MFA
// password twice; otherwise "".
func (c *Client) GenerateMFAToken(ctx context.Context, authorizedToken, password, confirmPassword string) (*Session, error) {
	if strings.TrimSpace(authorizedToken) == "" {
		return nil, errors.New("capillary: MFA needs the first-factor token; sign in with the first factor first")
	}
	body := c.body()
	body["authorizedToken"] = authorizedToken
	setIf(body, "password", password)
	setIf(body, "confirmPassword", confirmPassword)
	var w wireResponse
	if err := c.call(ctx, http.MethodPost, "/auth/v1/mfa/token/generate", body, []string{authorizedToken, password, confirmPassword}, &w); err != nil {
		return nil, err
	}
	return c.session(&w)
}

// GenerateMFAOTP has the engine send an MFA OTP (mfa/otp/generate).
func (c *Client) GenerateMFAOTP(ctx context.Context, sessionID string) error {
	return c.sendOTP(ctx, "/auth/v1/mfa/otp/generate", sessionID)
}

// ValidateMFAOTP checks the MFA OTP (mfa/otp/validate).
func (c *Client) ValidateMFAOTP(ctx context.Context, sessionID, otp string) (*Tokens, error) {
	return c.validate(ctx, "/auth/v1/mfa/otp/validate", sessionID, "otp", otp)
}

// ValidateMFAPassword checks the MFA password (mfa/password/validate).
func (c *Client) ValidateMFAPassword(ctx context.Context, sessionID, password string) (*Tokens, error) {
	return c.validate(ctx, "/auth/v1/mfa/password/validate", sessionID, "password", password)
}

// RegenerateMFAToken gets a new MFA token with the MFA key
// (mfa/token/regenerate). The answer's key is null: Tokens.Key is "".
func (c *Client) RegenerateMFAToken(ctx context.Context, key string) (*Tokens, error) {
	return c.regenerate(ctx, "/auth/v1/mfa/token/regenerate", key)
}

// ExpireMFAToken invalidates a token on the server (DELETE
// mfa/token/expire, with a JSON body).
func (c *Client) ExpireMFAToken(ctx context.Context, token string) error {
	if strings.TrimSpace(token) == "" {
		return errors.New("capillary: no token to expire")
	}
	body := c.body()
	body["token"] = token
	var w wireResponse
	return c.call(ctx, http.MethodDelete, "/auth/v1/mfa/token/expire", body, []string{token}, &w)
}

func (c *Client) sendOTP(ctx context.Context, path, sessionID string) error {
	if strings.TrimSpace(sessionID) == "" {
		return errors.New("capillary: no session id: generate a session first")
	}
	body := c.body()
	body["sessionId"] = sessionID
	var w wireResponse
	return c.call(ctx, http.MethodPost, path, body, nil, &w)
}

func (c *Client) validate(ctx context.Context, path, sessionID, field, secret string) (*Tokens, error) {
	if strings.TrimSpace(sessionID) == "" {
		return nil, errors.New("capillary: no session id: generate a session first")
	}
	if field == "otp" {
		secret = strings.TrimSpace(secret) // a code; a password goes exactly as typed
	}
	if secret == "" {
		what := "password"
		if field == "otp" {
			what = "one-time code"
		}
		return nil, fmt.Errorf("capillary: the %s is empty", what)
	}
	body := c.body()
	body["sessionId"] = sessionID
	// The OTP goes as a JSON string, as in the first-factor samples and the
	// MFA schema (the MFA sample's bare number would lose leading zeros).
	body[field] = secret
	var w wireResponse
	if err := c.call(ctx, http.MethodPost, path, body, []string{secret}, &w); err != nil {
		return nil, err
	}
	return c.tokens(&w)
}

func (c *Client) regenerate(ctx context.Context, path, key string) (*Tokens, error) {
	if strings.TrimSpace(key) == "" {
		return nil, errors.New("capillary: no key to regenerate the token with: sign in again")
	}
	body := c.body()
	if path == "/auth/v1/token/regenerate" {
		body = c.firstFactorBody()
	}
	body["key"] = key
	var w wireResponse
	if err := c.call(ctx, http.MethodPost, path, body, []string{key}, &w); err != nil {
		return nil, err
	}
	return c.tokens(&w)
}

// body is a request body holding the identity fields.
func (c *Client) body() map[string]any {
	return map[string]any{
		"identifierType":  c.id.IdentifierType,
		"identifierValue": c.id.IdentifierValue,
		"brand":           c.id.Brand,
		"deviceId":        c.id.DeviceID,
	}
}

// firstFactorBody is body plus, for a USERNAME identifier, the mobile or
// email that token/generate and token/regenerate need with it.
func (c *Client) firstFactorBody() map[string]any {
	b := c.body()
	if c.id.IdentifierType == IdentifierUsername {
		setIf(b, "mobile", strings.TrimSpace(c.id.Mobile))
		setIf(b, "email", strings.TrimSpace(c.id.Email))
	}
	return b
}

func setIf(m map[string]any, k, v string) {
	if v != "" {
		m[k] = v
	}
}
