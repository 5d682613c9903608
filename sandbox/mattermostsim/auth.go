package mattermostsim

import (
	"crypto/subtle"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"sort"
	"strings"
	"time"

	"rsc.io/qr"

	"keyturn/sandbox/simnet"
)

// userView is the sanitized User the API shows (mfa_active and
// failed_attempts are omitted when zero, as on the real server).
type userView struct {
	ID                  string            `json:"id"`
	CreateAt            int64             `json:"create_at"`
	UpdateAt            int64             `json:"update_at"`
	DeleteAt            int64             `json:"delete_at"`
	Username            string            `json:"username"`
	AuthService         string            `json:"auth_service"`
	Email               string            `json:"email"`
	EmailVerified       bool              `json:"email_verified"`
	Nickname            string            `json:"nickname"`
	FirstName           string            `json:"first_name"`
	LastName            string            `json:"last_name"`
	Position            string            `json:"position"`
	Roles               string            `json:"roles"`
	NotifyProps         map[string]string `json:"notify_props"`
	LastPasswordUpdate  int64             `json:"last_password_update"`
	FailedAttempts      int               `json:"failed_attempts,omitempty"`
	Locale              string            `json:"locale"`
	Timezone            map[string]string `json:"timezone"`
	MFAActive           bool              `json:"mfa_active,omitempty"`
	DisableWelcomeEmail bool              `json:"disable_welcome_email"`
	RemoteID            string            `json:"remote_id"`
}

func viewOf(u *user) userView {
	return userView{
		ID: u.ID, CreateAt: u.CreateAt, UpdateAt: u.UpdateAt, Username: u.Username, Email: u.Email, EmailVerified: true,
		Roles: u.Roles, LastPasswordUpdate: u.LastPasswordUpdate, FailedAttempts: u.FailedAttempts, Locale: "en",
		MFAActive: u.MFAActive,
		NotifyProps: map[string]string{"channel": "true", "comments": "never", "desktop": "mention", "desktop_sound": "true",
			"email": "true", "first_name": "false", "mention_keys": "", "push": "mention", "push_status": "online"},
		Timezone: map[string]string{"automaticTimezone": "", "manualTimezone": "", "useAutomaticTimezone": "true"},
	}
}

type teamView struct {
	ID                  string  `json:"id"`
	CreateAt            int64   `json:"create_at"`
	UpdateAt            int64   `json:"update_at"`
	DeleteAt            int64   `json:"delete_at"`
	DisplayName         string  `json:"display_name"`
	Name                string  `json:"name"`
	Description         string  `json:"description"`
	Email               string  `json:"email"`
	Type                string  `json:"type"`
	CompanyName         string  `json:"company_name"`
	AllowedDomains      string  `json:"allowed_domains"`
	InviteID            string  `json:"invite_id"`
	AllowOpenInvite     bool    `json:"allow_open_invite"`
	SchemeID            *string `json:"scheme_id"`
	GroupConstrained    *bool   `json:"group_constrained"`
	PolicyID            *string `json:"policy_id"`
	CloudLimitsArchived bool    `json:"cloud_limits_archived"`
}

// checkCode validates a TOTP code as dgoogauth does for Mattermost (window
// size 3, so one step either side, and no reuse of a step). wellFormed is
// false when the code is not 6 or 8 digits; 8-digit scratch codes do not
// exist here. The caller holds s.mu.
func (u *user) checkCode(code string, now time.Time) (wellFormed, ok bool) {
	code = strings.TrimSpace(code)
	if len(code) != 6 && len(code) != 8 {
		return false, false
	}
	for i := 0; i < len(code); i++ {
		if code[i] < '0' || code[i] > '9' {
			return false, false
		}
	}
	if len(code) != 6 || u.MFASecret == "" {
		return true, false
	}
	step, match := simnet.TOTPMatch(u.MFASecret, code, now, 1)
	if !match {
		return true, false
	}
	for _, st := range u.usedSteps {
		if st == step {
			return true, false
		}
	}
	cur := simnet.TOTPStep(now)
	kept := u.usedSteps[:0]
	for _, st := range u.usedSteps {
		if st >= cur-1 {
			kept = append(kept, st)
		}
	}
	u.usedSteps = append(kept, step)
	return true, true
}

func (c *ctx) invalidCredentials() {
	c.fail(401, "api.user.login.invalid_credentials_email_username", "Enter a valid email or username and/or password.")
}

// login is POST /users/login: password first, then the MFA code; wrong
// passwords and wrong (non-empty) codes count towards the lockout.
func (c *ctx) login() {
	s := c.s
	props := stringMap(c.body())
	password := props["password"]
	if password == "" {
		c.fail(400, "api.user.login.blank_pwd.app_error", "Password field must not be blank")
		return
	}
	var u *user
	if id := props["id"]; id != "" {
		u = s.users[id]
	} else {
		u = s.byLogin[strings.ToLower(strings.TrimSpace(props["login_id"]))]
	}
	if u == nil {
		c.invalidCredentials()
		return
	}
	if u.FailedAttempts >= s.settings.MaximumLoginAttempts {
		c.fail(401, "api.user.check_user_login_attempts.too_many.app_error",
			"Your account is locked because of too many failed password attempts. Please reset your password.")
		return
	}
	if subtle.ConstantTimeCompare([]byte(password), []byte(u.Password)) != 1 {
		u.FailedAttempts++
		c.invalidCredentials()
		return
	}
	if u.MFAActive && s.settings.EnableMultifactorAuthentication {
		code := props["token"]
		wellFormed, ok := u.checkCode(code, s.now())
		if !wellFormed {
			if code != "" {
				u.FailedAttempts++
			}
			c.fail(401, "mfa.validate_token.authenticate.app_error", "Invalid MFA token.")
			return
		}
		if !ok {
			u.FailedAttempts++
			c.fail(401, "api.user.check_user_mfa.bad_code.app_error", "Invalid MFA token.")
			return
		}
	}
	shown := viewOf(u) // the real server shows the count from before the reset
	u.FailedAttempts = 0
	now := s.now()
	sess := &session{ID: newID(), Token: newID(), UserID: u.ID, CSRF: newID(), ExpiresAt: now.Add(s.settings.SessionLength)}
	s.sessions[sess.Token] = sess
	s.env.Ledger.Record(Service, KindSession, sess.ID, sess.Token)
	c.w.Header().Set("Token", sess.Token)
	if c.r.Header.Get("X-Requested-With") == "XMLHttpRequest" {
		age := int(s.settings.SessionLength / time.Second)
		http.SetCookie(c.w, &http.Cookie{Name: "MMAUTHTOKEN", Value: sess.Token, Path: "/", MaxAge: age, HttpOnly: true})
		http.SetCookie(c.w, &http.Cookie{Name: "MMUSERID", Value: u.ID, Path: "/", MaxAge: age})
		http.SetCookie(c.w, &http.Cookie{Name: "MMCSRF", Value: sess.CSRF, Path: "/", MaxAge: age})
	}
	c.ok(shown)
}

// logout is POST /users/logout: it ends a login session; a personal access
// token keeps working. It answers OK even with no token.
func (c *ctx) logout() {
	if c.sess != nil && c.sess.PATID == "" {
		delete(c.s.sessions, c.sess.Token)
	}
	http.SetCookie(c.w, &http.Cookie{Name: "MMAUTHTOKEN", Value: "", Path: "/", MaxAge: -1, HttpOnly: true})
	c.statusOK()
}

func (c *ctx) getUser() {
	id := c.userParam()
	if id == "" {
		return
	}
	u := c.s.users[id]
	if u == nil {
		c.userNotFound()
		return
	}
	c.ok(viewOf(u))
}

func (c *ctx) getTeamsForUser() {
	id := c.userParam()
	if id == "" {
		return
	}
	if !c.canUser(id) {
		c.permissionDenied()
		return
	}
	out := []teamView{}
	for _, t := range c.s.teams {
		if _, member := t.admins[id]; member {
			out = append(out, teamView{ID: t.ID, CreateAt: t.CreateAt, UpdateAt: t.CreateAt, DisplayName: t.DisplayName,
				Name: t.Name, Type: "O", InviteID: t.InviteID})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Name < out[j].Name })
	c.ok(out)
}

// OTPAuthURL is what the server's QR code holds: the issuer is the site URL
// without scheme and "www.", query-escaped ("Mattermost" when empty).
func OTPAuthURL(siteURL, email, secret string) string {
	issuer := "Mattermost"
	if site := strings.TrimSpace(siteURL); site != "" {
		site = strings.TrimPrefix(site, "https://")
		site = strings.TrimPrefix(site, "http://")
		site = strings.TrimPrefix(site, "www.")
		issuer = url.QueryEscape(site)
	}
	return fmt.Sprintf("otpauth://totp/%v:%v?secret=%v&issuer=%v", issuer, email, secret, issuer)
}

// QRCodePNG encodes an otpauth URL as the real server does (rsc.io/qr, level
// H, 8 pixels a module).
func QRCodePNG(otpauthURL string) ([]byte, error) {
	code, err := qr.Encode(otpauthURL, qr.H)
	if err != nil {
		return nil, err
	}
	return code.PNG(), nil
}

// generateMFA is POST /users/{id}/mfa/generate. Like the real server it
// does not refuse when MFA is already active: it replaces the secret.
func (c *ctx) generateMFA() {
	s := c.s
	id := c.userParam()
	if id == "" {
		return
	}
	if !c.canUser(id) {
		c.permissionDenied()
		return
	}
	u := s.users[id]
	if u == nil {
		c.userNotFound()
		return
	}
	if !s.settings.EnableMultifactorAuthentication {
		c.mfaDisabled()
		return
	}
	secret := simnet.TOTPSecret()
	png, err := QRCodePNG(OTPAuthURL("http://"+c.r.Host, u.Email, secret))
	if err != nil {
		c.fail(500, "mfa.generate_qr_code.create_code.app_error", "Error generating QR code.")
		return
	}
	u.MFASecret = secret
	u.UpdateAt = millis(s.now())
	h := c.w.Header()
	h.Set("Cache-Control", "no-cache")
	h.Set("Pragma", "no-cache")
	h.Set("Expires", "0")
	c.ok(map[string]string{"secret": secret, "qr_code": base64.StdEncoding.EncodeToString(png)})
}

// updateMFA is PUT /users/{id}/mfa: activate with a code from the
// generated secret (the step is then used up, also for login), or
// deactivate with no code at all.
func (c *ctx) updateMFA() {
	s := c.s
	id := c.userParam()
	if id == "" {
		return
	}
	if !c.canUser(id) {
		c.permissionDenied()
		return
	}
	var props map[string]any
	_ = json.Unmarshal(c.body(), &props)
	activate, ok := props["activate"].(bool)
	if !ok {
		c.invalidBodyParam("activate")
		return
	}
	code := ""
	if activate {
		code, ok = props["code"].(string)
		if !ok || code == "" {
			c.invalidBodyParam("code")
			return
		}
	}
	if !s.settings.EnableMultifactorAuthentication {
		c.mfaDisabled()
		return
	}
	u := s.users[id]
	if u == nil {
		c.userNotFound()
		return
	}
	if activate {
		if _, ok := u.checkCode(code, s.now()); !ok {
			c.fail(401, "mfa.activate.bad_token.app_error", "Invalid MFA token.")
			return
		}
		u.MFAActive = true
	} else {
		u.MFAActive = false
		u.MFASecret = ""
	}
	u.UpdateAt = millis(s.now())
	c.statusOK()
}
