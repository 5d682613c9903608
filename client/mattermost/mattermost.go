// Package mattermost is keyturn's typed client for the Mattermost API v4:
// login with the MFA code, MFA setup, slash-command and outgoing-webhook
// token regeneration, and personal access tokens. It follows what a 11.2
// server actually does where that differs from the published docs (see
// ../shared/api/mattermost.md): the session token arrives in the Token
// header, the MFA code is a JSON string, command regen is PUT and answers
// {"token"} while webhook regen is POST and answers the whole hook.
package mattermost

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"

	"keyturn/client"
)

// Error ids the server answers with that callers may branch on.
const (
	ErrMFARequired       = "mfa.validate_token.authenticate.app_error"
	ErrMFABadCode        = "api.user.check_user_mfa.bad_code.app_error"
	ErrMFAActivateBad    = "mfa.activate.bad_token.app_error"
	ErrMFADisabled       = "mfa.mfa_disabled.app_error"
	ErrLocked            = "api.user.check_user_login_attempts.too_many.app_error"
	ErrInvalidLogin      = "api.user.login.invalid_credentials_email_username"
	ErrBlankPassword     = "api.user.login.blank_pwd.app_error"
	ErrSessionExpired    = "api.context.session_expired.app_error"
	ErrPermission        = "api.context.permissions.app_error"
	ErrRouteNotFound     = "api.context.404.app_error"
	ErrCommandNotFound   = "store.sql_command.save.get.app_error"
	ErrCommandsDisabled  = "api.command.disabled.app_error"
	ErrWebhookNotFound   = "app.webhooks.get_outgoing.app_error"
	ErrWebhooksDisabled  = "api.outgoing_webhook.disabled.app_error"
	ErrTokenNotFound     = "app.user_access_token.get_by_user.app_error"
	ErrTokensDisabled    = "app.user_access_token.disabled"
	ErrUserNotFound      = "app.user.missing_account.const"
	ErrInvalidBodyParam  = "api.context.invalid_body_param.app_error"
	ErrInvalidURLParam   = "api.context.invalid_url_param.app_error"
	ErrDuplicateTrigger  = "api.command.duplicate_trigger.app_error"
	ErrTokenInQueryParam = "api.context.token_provided.app_error"

	// Refusals of a token's lifetime (create and rotate alike), from
	// servers with expiring tokens (11.10 recorded).
	ErrExpiresAtRequired = "app.user_access_token.expires_at_required.app_error"
	ErrExpiresAtInPast   = "app.user_access_token.expires_at_in_past.app_error"
	ErrExpiresAtTooFar   = "app.user_access_token.expires_at_too_far.app_error"
	ErrRotateDisabled    = "api.user.rotate_user_access_token.disabled_token.app_error"
)

// PerPage is the page size the list calls ask for (the server's maximum).
const PerPage = 200

// maxPages bounds a listing, in case a server ignores the page parameter.
const maxPages = 10000

// Client calls one Mattermost server as one user.
type Client struct {
	c     *client.Client
	token string
}

// New is a client on core c that authenticates with token (a session
// token or a personal access token, sent as "Authorization: Bearer"; never
// as a cookie, which the server would prefer over the header). token may
// be "" before Login.
func New(c *client.Client, token string) *Client { return &Client{c: c, token: token} }

// Token is the credential the client sends.
func (m *Client) Token() string { return m.token }

// WithToken is a client on the same core that sends t instead.
func (m *Client) WithToken(t string) *Client { return &Client{c: m.c, token: t} }

// Core is the shared HTTP client underneath.
func (m *Client) Core() *client.Client { return m.c }

func (m *Client) service() string { return m.c.Service() }

// User is a Mattermost user as the API shows it.
type User struct {
	ID                 string `json:"id"`
	CreateAt           int64  `json:"create_at"`
	UpdateAt           int64  `json:"update_at"`
	DeleteAt           int64  `json:"delete_at"`
	Username           string `json:"username"`
	AuthService        string `json:"auth_service"`
	Email              string `json:"email"`
	EmailVerified      bool   `json:"email_verified"`
	Nickname           string `json:"nickname"`
	FirstName          string `json:"first_name"`
	LastName           string `json:"last_name"`
	Position           string `json:"position"`
	Roles              string `json:"roles"` // space-separated, e.g. "system_user system_admin"
	Locale             string `json:"locale"`
	LastPasswordUpdate int64  `json:"last_password_update"`
	FailedAttempts     int    `json:"failed_attempts,omitempty"`
	MFAActive          bool   `json:"mfa_active,omitempty"` // absent (false) when MFA is off
	IsBot              bool   `json:"is_bot,omitempty"`
}

// HasRole reports whether the user holds a role.
func (u *User) HasRole(role string) bool {
	for _, r := range strings.Fields(u.Roles) {
		if r == role {
			return true
		}
	}
	return false
}

// IsSystemAdmin reports the system_admin role.
func (u *User) IsSystemAdmin() bool { return u.HasRole("system_admin") }

// Team is a team the user belongs to.
type Team struct {
	ID                  string  `json:"id"`
	CreateAt            int64   `json:"create_at"`
	UpdateAt            int64   `json:"update_at"`
	DeleteAt            int64   `json:"delete_at"`
	DisplayName         string  `json:"display_name"`
	Name                string  `json:"name"`
	Description         string  `json:"description"`
	Email               string  `json:"email"`
	Type                string  `json:"type"` // "O" open, "I" invite only
	CompanyName         string  `json:"company_name"`
	AllowedDomains      string  `json:"allowed_domains"`
	InviteID            string  `json:"invite_id"`
	AllowOpenInvite     bool    `json:"allow_open_invite"`
	SchemeID            *string `json:"scheme_id"`
	GroupConstrained    *bool   `json:"group_constrained"`
	PolicyID            *string `json:"policy_id"`
	CloudLimitsArchived bool    `json:"cloud_limits_archived"`
}

// Command is a custom slash command; Token is what the command's endpoint
// receives to prove the call came from Mattermost.
type Command struct {
	ID               string `json:"id"`
	Token            string `json:"token"`
	CreateAt         int64  `json:"create_at"`
	UpdateAt         int64  `json:"update_at"`
	DeleteAt         int64  `json:"delete_at"`
	CreatorID        string `json:"creator_id"`
	TeamID           string `json:"team_id"`
	Trigger          string `json:"trigger"`
	Method           string `json:"method"` // "P" or "G"
	Username         string `json:"username"`
	IconURL          string `json:"icon_url"`
	AutoComplete     bool   `json:"auto_complete"`
	AutoCompleteDesc string `json:"auto_complete_desc"`
	AutoCompleteHint string `json:"auto_complete_hint"`
	DisplayName      string `json:"display_name"`
	Description      string `json:"description"`
	URL              string `json:"url"`
	PluginID         string `json:"plugin_id"`
}

// OutgoingWebhook is an outgoing webhook; Token is sent with each callback.
type OutgoingWebhook struct {
	ID           string   `json:"id"`
	Token        string   `json:"token"`
	CreateAt     int64    `json:"create_at"`
	UpdateAt     int64    `json:"update_at"`
	DeleteAt     int64    `json:"delete_at"`
	CreatorID    string   `json:"creator_id"`
	ChannelID    string   `json:"channel_id"`
	TeamID       string   `json:"team_id"`
	TriggerWords []string `json:"trigger_words"`
	TriggerWhen  int      `json:"trigger_when"`
	CallbackURLs []string `json:"callback_urls"`
	DisplayName  string   `json:"display_name"`
	Description  string   `json:"description"`
	ContentType  string   `json:"content_type"`
	Username     string   `json:"username"`
	IconURL      string   `json:"icon_url"`
}

// UserAccessToken is a personal access token. Token is set only in the
// answers to CreateUserAccessToken and RotateUserAccessToken; the server
// never shows it again.
type UserAccessToken struct {
	ID          string `json:"id"`
	Token       string `json:"token,omitempty"`
	UserID      string `json:"user_id"`
	Description string `json:"description"`
	IsActive    bool   `json:"is_active"`
	ExpiresAt   int64  `json:"expires_at"` // Unix ms; 0 never (and on servers without expiry)
}

// Expires is ExpiresAt as a time; zero when the token never expires.
func (t *UserAccessToken) Expires() time.Time { return FromMillis(t.ExpiresAt) }

// FromMillis is a server's Unix-millisecond time; 0 is the zero time.
func FromMillis(ms int64) time.Time {
	if ms <= 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms)
}

// Millis is t in the server's Unix milliseconds; the zero time is 0.
func Millis(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

// MFASecret is a freshly generated TOTP secret and its QR code (a PNG).
type MFASecret struct {
	Secret string
	QRCode []byte
}

// appError is Mattermost's error body.
type appError struct {
	ID            string `json:"id"`
	Message       string `json:"message"`
	DetailedError string `json:"detailed_error"`
	RequestID     string `json:"request_id"`
	StatusCode    int    `json:"status_code"`
}

// tokenInText matches "token=…" as the server writes it into
// detailed_error (shown only with EnableDeveloper).
var tokenInText = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?i)(token=)[^\s,;&"]+`) })

// scrub removes any secret of the request from a server-supplied text.
func scrub(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, client.Redacted)
		}
	}
	return tokenInText().ReplaceAllString(s, "${1}"+client.Redacted)
}

// apiError turns an error answer into *client.APIError, or a
// *client.BadResponseError when it is not Mattermost's JSON.
func (m *Client) apiError(resp *client.Response, secrets []string) error {
	var ae appError
	if err := client.Decode(m.service(), resp, &ae); err != nil {
		return err
	}
	if ae.ID == "" && ae.Message == "" {
		return &client.BadResponseError{Service: m.service(), Status: resp.Status, StatusText: resp.StatusText,
			ContentType: resp.Header.Get("Content-Type"), Reason: "an error answer without Mattermost's error id or message"}
	}
	reqID := ae.RequestID
	if reqID == "" {
		reqID = resp.Header.Get("X-Request-Id")
	}
	return &client.APIError{Service: m.service(), Status: resp.Status, Code: ae.ID,
		Message: scrub(ae.Message, secrets), Detail: scrub(ae.DetailedError, secrets), RequestID: reqID}
}

// call sends one authenticated request and returns a 2xx answer; any
// other status is the server's error.
func (m *Client) call(ctx context.Context, method, path string, query url.Values, body any, secrets ...string) (*client.Response, error) {
	return m.do(ctx, &client.Request{Method: method, Path: path, Query: query, Body: body, Secrets: secrets})
}

// do sends a built request with the session token; see call.
func (m *Client) do(ctx context.Context, req *client.Request) (*client.Response, error) {
	req.Secrets = append(req.Secrets, m.token)
	if m.token != "" {
		req.Header = http.Header{"Authorization": {"Bearer " + m.token}}
	}
	resp, err := m.c.Do(ctx, req)
	if err != nil {
		return nil, err
	}
	if resp.Status < 200 || resp.Status > 299 {
		return nil, m.apiError(resp, req.Secrets)
	}
	return resp, nil
}

// get, send: call and decode the answer into out.
func (m *Client) get(ctx context.Context, path string, query url.Values, out any) error {
	resp, err := m.call(ctx, http.MethodGet, path, query, nil)
	if err != nil {
		return err
	}
	return client.Decode(m.service(), resp, out)
}

// getList is get for a list: the answer is decoded as it streams in, up to
// client.MaxListBytes, as some lists are not paginated.
func (m *Client) getList(ctx context.Context, path string, query url.Values, out any) error {
	_, err := m.do(ctx, &client.Request{Method: http.MethodGet, Path: path, Query: query, List: out})
	return err
}

func (m *Client) send(ctx context.Context, method, path string, body, out any) error {
	resp, err := m.call(ctx, method, path, nil, body)
	if err != nil {
		return err
	}
	return client.Decode(m.service(), resp, out)
}

// sendOK is a call whose answer is {"status":"OK"}.
func (m *Client) sendOK(ctx context.Context, method, path string, body any) error {
	var st struct {
		Status string `json:"status"`
	}
	if err := m.send(ctx, method, path, body, &st); err != nil {
		return err
	}
	if st.Status != "OK" {
		return &client.BadResponseError{Service: m.service(), Status: http.StatusOK, StatusText: http.StatusText(http.StatusOK),
			ContentType: "application/json", Reason: `the answer did not confirm with {"status":"OK"}`}
	}
	return nil
}

func (m *Client) badResponse(resp *client.Response, reason string) error {
	return &client.BadResponseError{Service: m.service(), Status: resp.Status, StatusText: resp.StatusText,
		ContentType: resp.Header.Get("Content-Type"), Reason: reason}
}

// need checks that an id the path needs is there.
func need(what, id string) error {
	if strings.TrimSpace(id) == "" {
		return fmt.Errorf("mattermost: %s is empty", what)
	}
	return nil
}

func seg(id string) string { return url.PathEscape(id) }

// Login signs in with a login id (user name or email) and password, and
// the TOTP code when the account has MFA ("" otherwise). It returns the
// session token from the Token header and the user.
//
// When the password is right but a code is needed, the error is a
// *client.SecondFactorRequired (Method totp; Invalid when a malformed code
// was given); a wrong or reused code is one with Invalid set. A wrong
// password, a locked account and everything else are *client.APIError.
func (m *Client) Login(ctx context.Context, loginID, password, mfaCode string) (string, *User, error) {
	body := struct {
		LoginID  string `json:"login_id"`
		Password string `json:"password"`
		Token    string `json:"token,omitempty"`
	}{loginID, password, mfaCode}
	secrets := []string{password, mfaCode}
	resp, err := m.c.Do(ctx, &client.Request{Method: http.MethodPost, Path: "/api/v4/users/login", Body: body, Secrets: secrets})
	if err != nil {
		return "", nil, err
	}
	if resp.Status < 200 || resp.Status > 299 {
		err := m.apiError(resp, secrets)
		var ae *client.APIError
		if errors.As(err, &ae) {
			switch ae.Code {
			case ErrMFARequired:
				return "", nil, &client.SecondFactorRequired{Service: m.service(), Method: client.MethodTOTP,
					Methods: []string{client.MethodTOTP}, Invalid: mfaCode != "", Message: ae.Message}
			case ErrMFABadCode:
				return "", nil, &client.SecondFactorRequired{Service: m.service(), Method: client.MethodTOTP,
					Methods: []string{client.MethodTOTP}, Invalid: true, Message: ae.Message}
			}
		}
		return "", nil, err
	}
	var u User
	if err := client.Decode(m.service(), resp, &u); err != nil {
		return "", nil, err
	}
	token := strings.TrimSpace(resp.Header.Get("Token"))
	if token == "" {
		return "", nil, m.badResponse(resp, "the login was accepted but the answer has no session token in its Token header")
	}
	if u.ID == "" {
		// The token came back: hand it over with the error so it is not lost.
		return token, nil, m.badResponse(resp, "the login was accepted but the answer names no user")
	}
	return token, &u, nil
}

// Logout ends the session. With a personal access token it does nothing
// on the server (the token keeps working): revoke the token instead.
func (m *Client) Logout(ctx context.Context) error {
	return m.sendOK(ctx, http.MethodPost, "/api/v4/users/logout", nil)
}

// Me is the signed-in user.
func (m *Client) Me(ctx context.Context) (*User, error) {
	var u User
	if err := m.get(ctx, "/api/v4/users/me", nil, &u); err != nil {
		return nil, err
	}
	if u.ID == "" {
		return nil, &client.BadResponseError{Service: m.service(), Status: 200, Reason: "the answer names no user (no id)"}
	}
	return &u, nil
}

// MyTeams are the teams the signed-in user belongs to.
func (m *Client) MyTeams(ctx context.Context) ([]Team, error) {
	var ts []Team
	if err := m.getList(ctx, "/api/v4/users/me/teams", nil, &ts); err != nil {
		return nil, err
	}
	return ts, nil
}

// GenerateMFA makes a new TOTP secret for the user ("me" for oneself). The
// server does NOT refuse when MFA is already active: it replaces the secret
// at once, so the old authenticator stops working. Callers must check
// User.MFAActive first and refuse or warn.
func (m *Client) GenerateMFA(ctx context.Context, userID string) (*MFASecret, error) {
	if err := need("user id", userID); err != nil {
		return nil, err
	}
	resp, err := m.call(ctx, http.MethodPost, "/api/v4/users/"+seg(userID)+"/mfa/generate", nil, nil)
	if err != nil {
		return nil, err
	}
	var out struct {
		Secret string `json:"secret"`
		QRCode string `json:"qr_code"`
	}
	if err := client.Decode(m.service(), resp, &out); err != nil {
		return nil, err
	}
	if out.Secret == "" {
		return nil, m.badResponse(resp, "the answer has no MFA secret")
	}
	png, err := base64.StdEncoding.DecodeString(out.QRCode)
	if err != nil {
		return nil, m.badResponse(resp, "the QR code is not valid base64")
	}
	return &MFASecret{Secret: out.Secret, QRCode: png}, nil
}

// OTPAuthURL is the otpauth URI the server puts in its QR code:
// otpauth://totp/<issuer>:<email>?secret=<secret>&issuer=<issuer>, where
// issuer is the site URL without its scheme and "www.", query-escaped
// ("Mattermost" when there is no site URL). keyturn uses it to draw the QR
// code in a terminal; pass the server's base URL as siteURL.
func OTPAuthURL(siteURL, email, secret string) string {
	issuer := "Mattermost"
	if site := strings.TrimSpace(siteURL); site != "" {
		site = strings.TrimPrefix(site, "https://")
		site = strings.TrimPrefix(site, "http://")
		site = strings.TrimPrefix(site, "www.")
		issuer = url.QueryEscape(site)
	}
	return "otpauth://totp/" + issuer + ":" + email + "?secret=" + secret + "&issuer=" + issuer
}

// ActivateMFA turns MFA on with a code from the generated secret. A wrong
// code is a *client.SecondFactorRequired with Invalid set. The code is used
// up: the next login needs the next 30-second code.
func (m *Client) ActivateMFA(ctx context.Context, userID, code string) error {
	if err := need("user id", userID); err != nil {
		return err
	}
	if err := need("MFA code", code); err != nil {
		return err
	}
	body := struct {
		Activate bool   `json:"activate"`
		Code     string `json:"code"`
	}{true, code}
	resp, err := m.call(ctx, http.MethodPut, "/api/v4/users/"+seg(userID)+"/mfa", nil, body, code)
	if err != nil {
		var ae *client.APIError
		if errors.As(err, &ae) && ae.Code == ErrMFAActivateBad {
			return &client.SecondFactorRequired{Service: m.service(), Method: client.MethodTOTP,
				Methods: []string{client.MethodTOTP}, Invalid: true, Message: ae.Message}
		}
		return err
	}
	return m.checkOK(resp)
}

// DeactivateMFA turns MFA off (the server asks for no code).
func (m *Client) DeactivateMFA(ctx context.Context, userID string) error {
	if err := need("user id", userID); err != nil {
		return err
	}
	return m.sendOK(ctx, http.MethodPut, "/api/v4/users/"+seg(userID)+"/mfa", map[string]bool{"activate": false})
}

func (m *Client) checkOK(resp *client.Response) error {
	var st struct {
		Status string `json:"status"`
	}
	if err := client.Decode(m.service(), resp, &st); err != nil {
		return err
	}
	if st.Status != "OK" {
		return m.badResponse(resp, `the answer did not confirm with {"status":"OK"}`)
	}
	return nil
}

// ListCommands is the team's custom slash commands, with their tokens.
func (m *Client) ListCommands(ctx context.Context, teamID string) ([]Command, error) {
	if err := need("team id", teamID); err != nil {
		return nil, err
	}
	var cs []Command
	q := url.Values{"team_id": {teamID}, "custom_only": {"true"}}
	if err := m.getList(ctx, "/api/v4/commands", q, &cs); err != nil {
		return nil, err
	}
	return cs, nil
}

// GetCommand is one slash command. Without the permission to manage it the
// server answers 404 (ErrCommandNotFound), as for an unknown id.
func (m *Client) GetCommand(ctx context.Context, id string) (*Command, error) {
	if err := need("command id", id); err != nil {
		return nil, err
	}
	var c Command
	if err := m.get(ctx, "/api/v4/commands/"+seg(id), nil, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// RegenCommandToken replaces a slash command's token and returns the new
// one. The old token stops working at once. After an error for which
// client.MayHaveApplied is true the server may have rotated already: do not
// retry blindly; GetCommand shows the current token.
func (m *Client) RegenCommandToken(ctx context.Context, id string) (string, error) {
	if err := need("command id", id); err != nil {
		return "", err
	}
	resp, err := m.call(ctx, http.MethodPut, "/api/v4/commands/"+seg(id)+"/regen_token", nil, nil)
	if err != nil {
		return "", err
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := client.Decode(m.service(), resp, &out); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", m.badResponse(resp, "the answer has no token")
	}
	return out.Token, nil
}

// ListOutgoingWebhooks is every outgoing webhook of the team the user may
// manage, with tokens, fetched page by page.
func (m *Client) ListOutgoingWebhooks(ctx context.Context, teamID string) ([]OutgoingWebhook, error) {
	if err := need("team id", teamID); err != nil {
		return nil, err
	}
	return listAll(ctx, m, "/api/v4/hooks/outgoing", url.Values{"team_id": {teamID}},
		func(h OutgoingWebhook) string { return h.ID })
}

// GetOutgoingWebhook is one outgoing webhook, with its token.
func (m *Client) GetOutgoingWebhook(ctx context.Context, id string) (*OutgoingWebhook, error) {
	if err := need("webhook id", id); err != nil {
		return nil, err
	}
	var h OutgoingWebhook
	if err := m.get(ctx, "/api/v4/hooks/outgoing/"+seg(id), nil, &h); err != nil {
		return nil, err
	}
	return &h, nil
}

// RegenOutgoingWebhookToken replaces a webhook's token and returns the
// whole hook with the new one. As with RegenCommandToken, never retry
// blindly after an ambiguous failure: GetOutgoingWebhook shows the current
// token.
func (m *Client) RegenOutgoingWebhookToken(ctx context.Context, id string) (*OutgoingWebhook, error) {
	if err := need("webhook id", id); err != nil {
		return nil, err
	}
	resp, err := m.call(ctx, http.MethodPost, "/api/v4/hooks/outgoing/"+seg(id)+"/regen_token", nil, nil)
	if err != nil {
		return nil, err
	}
	var h OutgoingWebhook
	if err := client.Decode(m.service(), resp, &h); err != nil {
		return nil, err
	}
	if h.Token == "" {
		return nil, m.badResponse(resp, "the answer has no token")
	}
	return &h, nil
}

// CreateUserAccessToken makes a personal access token for the user ("me"
// for oneself) that never expires. The answer is the only time the token
// is shown: store it before anything else.
func (m *Client) CreateUserAccessToken(ctx context.Context, userID, description string) (*UserAccessToken, error) {
	return m.CreateExpiringUserAccessToken(ctx, userID, description, time.Time{})
}

// CreateExpiringUserAccessToken is CreateUserAccessToken with an expiry
// (the zero time sends none). A server older than expiring tokens ignores
// expires_at and answers without it: compare the answer's ExpiresAt. A
// refusal of the lifetime is a *LifetimeError.
func (m *Client) CreateExpiringUserAccessToken(ctx context.Context, userID, description string, expires time.Time) (*UserAccessToken, error) {
	if err := need("user id", userID); err != nil {
		return nil, err
	}
	if err := need("token description", description); err != nil {
		return nil, err
	}
	body := struct {
		Description string `json:"description"`
		ExpiresAt   int64  `json:"expires_at,omitempty"`
	}{description, Millis(expires)}
	resp, err := m.call(ctx, http.MethodPost, "/api/v4/users/"+seg(userID)+"/tokens", nil, body)
	if err != nil {
		return nil, lifetimeError(err)
	}
	return m.decodeIssued(resp)
}

// decodeIssued reads a token answer that must carry the secret.
func (m *Client) decodeIssued(resp *client.Response) (*UserAccessToken, error) {
	var t UserAccessToken
	if err := client.Decode(m.service(), resp, &t); err != nil {
		return nil, err
	}
	if t.Token == "" || t.ID == "" {
		return nil, m.badResponse(resp, "the answer has no token or token id")
	}
	return &t, nil
}

// RotateUserAccessToken gives the token a new secret in place (same id and
// description) and returns it with the secret, shown this once; the old
// secret and its sessions stop working at once. expires is always sent,
// as 0 for the zero time: the server reads an absent expires_at as "never
// expires", so a caller keeping a lifetime must pass it. After an error
// for which client.MayHaveApplied is true the server may have rotated: do
// not retry blindly. A server without the route (older than 11.10) answers
// a routing 404: see RotateUnsupported. A refusal of the lifetime is a
// *LifetimeError.
func (m *Client) RotateUserAccessToken(ctx context.Context, tokenID string, expires time.Time) (*UserAccessToken, error) {
	if err := need("token id", tokenID); err != nil {
		return nil, err
	}
	body := struct {
		TokenID   string `json:"token_id"`
		ExpiresAt int64  `json:"expires_at"`
	}{tokenID, Millis(expires)}
	resp, err := m.call(ctx, http.MethodPost, "/api/v4/users/tokens/rotate", nil, body)
	if err != nil {
		return nil, lifetimeError(err)
	}
	return m.decodeIssued(resp)
}

// RotateUnsupported reports the answer of a server that has no rotate
// route (Mattermost before 11.10): a routing 404, whose id differs from
// the 404 for an unknown token id (ErrTokenNotFound).
func RotateUnsupported(err error) bool {
	var ae *client.APIError
	return errors.As(err, &ae) && ae.Status == http.StatusNotFound && ae.Code == ErrRouteNotFound
}

// LifetimeError is the server's refusal of a token's expiry: required (the
// server has a maximum lifetime and none was given), in the past, or
// beyond the maximum. MaxDays is the maximum when the message names it.
type LifetimeError struct {
	*client.APIError
	MaxDays int
}

func (e *LifetimeError) Unwrap() error { return e.APIError }

// Required, InPast and TooFar say which refusal it is.
func (e *LifetimeError) Required() bool { return e.Code == ErrExpiresAtRequired }
func (e *LifetimeError) InPast() bool   { return e.Code == ErrExpiresAtInPast }
func (e *LifetimeError) TooFar() bool   { return e.Code == ErrExpiresAtTooFar }

// lifetimeDays finds "(30 days)" in the too-far message.
var lifetimeDays = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`\((\d{1,5}) days?\)`) })

// lifetimeError turns a lifetime refusal into a *LifetimeError; other
// errors pass unchanged.
func lifetimeError(err error) error {
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != http.StatusBadRequest {
		return err
	}
	switch ae.Code {
	case ErrExpiresAtRequired, ErrExpiresAtInPast, ErrExpiresAtTooFar:
	default:
		return err
	}
	le := &LifetimeError{APIError: ae}
	if m := lifetimeDays().FindStringSubmatch(ae.Message); m != nil && ae.Code == ErrExpiresAtTooFar {
		le.MaxDays, _ = strconv.Atoi(m[1])
	}
	return le
}

// ClientConfig is what keyturn reads of the server's client configuration
// (GET /config/client?format=old, any signed-in user).
type ClientConfig struct {
	// Version is the server's version ("11.10.0"), from X-Version-Id.
	Version string
	// UserAccessTokens: personal access tokens are enabled.
	UserAccessTokens bool
	// LifetimePolicyKnown: the server has the lifetime setting at all
	// (absent before expiring tokens).
	LifetimePolicyKnown bool
	// MaxTokenLifetimeDays: every new or rotated token must expire within
	// this many days; 0 no maximum.
	MaxTokenLifetimeDays int
}

// ClientConfig reads the server's client configuration. The server sends
// every value as a string, the lifetime too ("30").
func (m *Client) ClientConfig(ctx context.Context) (*ClientConfig, error) {
	resp, err := m.call(ctx, http.MethodGet, "/api/v4/config/client", url.Values{"format": {"old"}}, nil)
	if err != nil {
		return nil, err
	}
	var raw struct {
		EnableUserAccessTokens                 string  `json:"EnableUserAccessTokens"`
		MaximumPersonalAccessTokenLifetimeDays *string `json:"MaximumPersonalAccessTokenLifetimeDays"`
	}
	if err := client.Decode(m.service(), resp, &raw); err != nil {
		return nil, err
	}
	cc := &ClientConfig{Version: VersionOf(resp.Header.Get("X-Version-Id")), UserAccessTokens: raw.EnableUserAccessTokens == "true"}
	if v := raw.MaximumPersonalAccessTokenLifetimeDays; v != nil {
		days, err := strconv.Atoi(*v)
		if err != nil || days < 0 {
			return nil, m.badResponse(resp, "MaximumPersonalAccessTokenLifetimeDays is not a number of days")
		}
		cc.LifetimePolicyKnown, cc.MaxTokenLifetimeDays = true, days
	}
	return cc, nil
}

// VersionOf is the version in an X-Version-Id header
// ("11.10.0..<config hash>.false" → "11.10.0"): the last three fields are
// build number, config hash and enterprise flag.
func VersionOf(header string) string {
	f := strings.Split(strings.TrimSpace(header), ".")
	if len(f) < 4 {
		return ""
	}
	return strings.Join(f[:len(f)-3], ".")
}

// ListUserAccessTokens is all of a user's tokens (without their secrets),
// fetched page by page.
func (m *Client) ListUserAccessTokens(ctx context.Context, userID string) ([]UserAccessToken, error) {
	if err := need("user id", userID); err != nil {
		return nil, err
	}
	return listAll(ctx, m, "/api/v4/users/"+seg(userID)+"/tokens", url.Values{},
		func(t UserAccessToken) string { return t.ID })
}

// GetUserAccessToken is one token (without its secret).
func (m *Client) GetUserAccessToken(ctx context.Context, id string) (*UserAccessToken, error) {
	if err := need("token id", id); err != nil {
		return nil, err
	}
	var t UserAccessToken
	if err := m.get(ctx, "/api/v4/users/tokens/"+seg(id), nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// RevokeUserAccessToken deletes a token for good; its sessions end.
func (m *Client) RevokeUserAccessToken(ctx context.Context, id string) error {
	return m.tokenAction(ctx, "revoke", id)
}

// DisableUserAccessToken stops a token working until it is enabled again.
func (m *Client) DisableUserAccessToken(ctx context.Context, id string) error {
	return m.tokenAction(ctx, "disable", id)
}

// EnableUserAccessToken makes a disabled token work again.
func (m *Client) EnableUserAccessToken(ctx context.Context, id string) error {
	return m.tokenAction(ctx, "enable", id)
}

func (m *Client) tokenAction(ctx context.Context, action, id string) error {
	if err := need("token id", id); err != nil {
		return err
	}
	return m.sendOK(ctx, http.MethodPost, "/api/v4/users/tokens/"+action, map[string]string{"token_id": id})
}

// listAll fetches every page of a list. It stops at a short page, or when
// a page brings nothing new (a server that ignores paging).
func listAll[T any](ctx context.Context, m *Client, path string, q url.Values, id func(T) string) ([]T, error) {
	var all []T
	seen := map[string]bool{}
	for page := 0; page < maxPages; page++ {
		pq := url.Values{}
		for k, v := range q {
			pq[k] = v
		}
		pq.Set("page", fmt.Sprint(page))
		pq.Set("per_page", fmt.Sprint(PerPage))
		var items []T
		if err := m.getList(ctx, path, pq, &items); err != nil {
			return nil, err
		}
		fresh := 0
		for _, it := range items {
			k := id(it)
			if seen[k] {
				continue
			}
			seen[k] = true
			all = append(all, it)
			fresh++
		}
		if len(items) < PerPage || fresh == 0 {
			break
		}
	}
	if all == nil {
		all = []T{}
	}
	return all, nil
}
