package rocketchat

import (
	"context"
	"errors"
	"net/http"
	"strings"

	"keyturn/client"
)

// User is the signed-in user as /me and login return it.
type User struct {
	ID        string       `json:"_id"`
	Username  string       `json:"username"`
	Name      string       `json:"name"`
	Emails    []Email      `json:"emails"`
	Email     string       `json:"email"`
	Status    string       `json:"status"`
	Active    bool         `json:"active"`
	Roles     []string     `json:"roles"`
	AvatarURL string       `json:"avatarUrl"`
	Services  UserServices `json:"services"`
}

// Email is one of the user's addresses.
type Email struct {
	Address  string `json:"address"`
	Verified bool   `json:"verified"`
}

// UserServices are the flags /me shows about how the user signs in; totp
// and email2fa appear only when enabled.
type UserServices struct {
	Password *struct {
		Exists bool `json:"exists"`
	} `json:"password,omitempty"`
	TOTP     *ServiceFlag `json:"totp,omitempty"`
	Email2FA *ServiceFlag `json:"email2fa,omitempty"`
}

// ServiceFlag is an on/off service setting.
type ServiceFlag struct {
	Enabled bool `json:"enabled"`
}

// TOTPEnabled says whether the user has an authenticator app set up.
func (u *User) TOTPEnabled() bool { return u.Services.TOTP != nil && u.Services.TOTP.Enabled }

// EmailTwoFactorEnabled says whether the user gets second-factor codes by email.
func (u *User) EmailTwoFactorEnabled() bool {
	return u.Services.Email2FA != nil && u.Services.Email2FA.Enabled
}

// HasPassword says whether the user has a local password (and so the
// password fallback when no other second factor is on).
func (u *User) HasPassword() bool {
	return u.Services.Password != nil && u.Services.Password.Exists
}

// SecondFactorMethods are the user's enabled methods in the order the server
// tries them: totp, then email.
func (u *User) SecondFactorMethods() []string {
	var m []string
	if u.TOTPEnabled() {
		m = append(m, client.MethodTOTP)
	}
	if u.EmailTwoFactorEnabled() {
		m = append(m, client.MethodEmail)
	}
	return m
}

// SendEmailCode asks the server to mail a fresh second-factor code to the
// user's verified addresses (and resets the count of wrong codes). The
// server answers success even for an unknown user. Credentials, when the
// client has any, are sent, and then the server mails the signed-in user.
func (r *Client) SendEmailCode(ctx context.Context, emailOrUsername string) error {
	emailOrUsername = strings.TrimSpace(emailOrUsername)
	if emailOrUsername == "" {
		return errors.New("rocketchat: sending an email code needs the user name or email address")
	}
	return r.do(ctx, call{method: http.MethodPost, path: pathSendEmailCode,
		body: map[string]string{"emailOrUsername": emailOrUsername}, auth: authOptional})
}

// TOTPSetup is what the server returns to start an authenticator setup:
// the base32 secret for manual entry and the otpauth:// URL for a QR code.
type TOTPSetup struct {
	Secret string `json:"secret"`
	URL    string `json:"url"`
}

// String never shows the secret.
func (t TOTPSetup) String() string { return "TOTP setup " + client.Redacted }

// GoString never shows the secret either.
func (t TOTPSetup) GoString() string { return t.String() }

// EnableTOTP starts the authenticator setup (users.enableTotp, Rocket.Chat
// 8.8+). TOTP stays off until ValidateTOTP confirms a code from the app.
// The route requires a second factor (for a user with no method on, the
// password). A server without the route gives an error that wraps
// ErrTOTPUnsupported; one where TOTP is already on a *client.APIError with
// Code CodeTOTPAlreadyEnabled.
func (r *Client) EnableTOTP(ctx context.Context, sf *SecondFactor) (*TOTPSetup, error) {
	var out TOTPSetup
	err := r.do(ctx, call{method: http.MethodPost, path: pathEnableTOTP, body: struct{}{}, auth: authRequired, sf: sf,
		out: &out, notFound: ErrTOTPUnsupported})
	if err != nil {
		return nil, err
	}
	if out.Secret == "" || out.URL == "" {
		return nil, &client.BadResponseError{Service: r.service, Status: http.StatusOK, StatusText: http.StatusText(http.StatusOK),
			ContentType: "application/json", Reason: "the answer has no secret or url"}
	}
	return &out, nil
}

// ValidateTOTP confirms the setup with a code from the authenticator app,
// turns TOTP on and returns the 12 single-use backup codes (shown once).
// The server signs out the user's other sessions (not PATs). A wrong code
// is a *client.APIError with Code CodeInvalidTOTP; sf answers the route's
// own second-factor check.
func (r *Client) ValidateTOTP(ctx context.Context, code string, sf *SecondFactor) ([]string, error) {
	code = strings.TrimSpace(code)
	if code == "" {
		return nil, errors.New("rocketchat: validating the authenticator needs a code from the app")
	}
	var out struct {
		Codes []string `json:"codes"`
	}
	err := r.do(ctx, call{method: http.MethodPost, path: pathValidateTOTP, body: map[string]string{"code": code},
		auth: authRequired, sf: sf, secrets: []string{code}, out: &out, notFound: ErrTOTPUnsupported})
	if err != nil {
		return nil, err
	}
	return out.Codes, nil
}

// DisableTOTP turns the authenticator off with a current code or a backup
// code. The server answers {"disabled":false} for a wrong code or when TOTP
// was not on; that is a *client.APIError with Code CodeInvalidTOTP.
func (r *Client) DisableTOTP(ctx context.Context, code string) error {
	code = strings.TrimSpace(code)
	if code == "" {
		return errors.New("rocketchat: turning the authenticator off needs a code from the app or a backup code")
	}
	var out struct {
		Disabled bool `json:"disabled"`
	}
	err := r.do(ctx, call{method: http.MethodPost, path: pathDisableTOTP, body: map[string]string{"code": code},
		auth: authRequired, secrets: []string{code}, out: &out, notFound: ErrTOTPUnsupported})
	if err != nil {
		return err
	}
	if !out.Disabled {
		return &client.APIError{Service: r.service, Status: http.StatusOK, Code: CodeInvalidTOTP,
			Message: "the server did not turn TOTP off", Detail: "the code was not accepted, or TOTP was not on"}
	}
	return nil
}
