package rocketchatsim

import (
	"crypto/md5"
	"encoding/hex"
	"encoding/json"
	"regexp"
	"strings"
	"time"

	"keyturn/sandbox/simnet"
)

// connection is what checkCodeForUser knows of the caller: the token in use
// (nil at login), the headers and the address.
type connection struct {
	token     *loginToken
	userAgent string
	address   string
	code      string // x-2fa-code
	method    string // x-2fa-method
}

// fingerprint is md5(JSON{userAgent, clientAddress}), which a remembered
// second factor is bound to.
func (c *connection) fingerprint() string {
	b, _ := json.Marshal(struct {
		UserAgent     string `json:"userAgent"`
		ClientAddress string `json:"clientAddress"`
	}{c.userAgent, c.address})
	sum := md5.Sum(b)
	return hex.EncodeToString(sum[:])
}

type tfaOptions struct {
	disablePasswordFallback bool
	disableRememberMe       bool
	requireSecondFactor     bool
}

// tfaDetails are the details of totp-required / totp-invalid /
// totp-max-attempts.
type tfaDetails struct {
	Method           string   `json:"method"`
	EmailOrUsername  string   `json:"emailOrUsername,omitempty"`
	CodeGenerated    bool     `json:"codeGenerated"`
	CodeExpires      string   `json:"codeExpires,omitempty"`
	AvailableMethods []string `json:"availableMethods"`
}

// invalidCodeData is what a method's processInvalidCode adds to details.
type invalidCodeData struct {
	emailOrUsername string
	codeGenerated   bool
	codeExpires     time.Time
}

// checker is one second-factor method (ICodeCheck).
type checker interface {
	name() string
	enabled(u *user) bool
	verify(u *user, code string) bool
	processInvalidCode(u *user) invalidCodeData
	maxFailedAttemptsReached(u *user) bool
}

// checkCodeForUser is Rocket.Chat's algorithm: pass when the token is
// remembered (or a PAT with bypassTwoFactor), pick the method (x-2fa-method
// when it names totp or email, else the first enabled of totp, email, else
// the password fallback), demand a code, verify it, remember the pass.
func (s *Server) checkCodeForUser(u *user, code, method string, conn *connection, opt tfaOptions) *meteorError {
	if code == "" && method == "" && conn != nil && conn.code != "" && conn.method != "" {
		code, method = conn.code, conn.method
	}
	now := s.now()
	if conn != nil && s.authorizedForToken(conn, u, opt, now) {
		return nil
	}
	chk := s.secondFactorMethod(u, method, opt)
	if chk == nil {
		return nil
	}
	data := chk.processInvalidCode(u)
	details := tfaDetails{Method: chk.name(), EmailOrUsername: data.emailOrUsername, CodeGenerated: data.codeGenerated,
		AvailableMethods: s.availableMethods(u)}
	if !data.codeExpires.IsZero() {
		details.CodeExpires = isoDate(data.codeExpires)
	}
	if code == "" {
		return &meteorError{id: "totp-required", reason: "TOTP Required", details: details}
	}
	if !chk.verify(u, code) {
		if chk.maxFailedAttemptsReached(u) {
			return &meteorError{id: "totp-max-attempts", reason: "TOTP Maximun Failed Attempts Reached", details: details}
		}
		return &meteorError{id: "totp-invalid", reason: "TOTP Invalid", details: details}
	}
	if !opt.disableRememberMe && conn != nil && conn.token != nil {
		conn.token.AuthorizedUntil = now.Add(rememberFor)
		conn.token.AuthorizedHash = conn.fingerprint()
	}
	return nil
}

func (s *Server) authorizedForToken(conn *connection, u *user, opt tfaOptions, now time.Time) bool {
	t := conn.token
	if t == nil || opt.requireSecondFactor {
		return false
	}
	if t.BypassTwoFactor {
		return true
	}
	if opt.disableRememberMe || s.forgets2FA {
		return false
	}
	if !u.CreatedAt.Add(rememberFor).Before(now) && len(s.availableMethods(u)) == 0 {
		return true // just registered, no method yet
	}
	if t.AuthorizedUntil.IsZero() || t.AuthorizedHash == "" || t.AuthorizedUntil.Before(now) {
		return false
	}
	return t.AuthorizedHash == conn.fingerprint()
}

func (s *Server) checkers() []checker { return []checker{totpCheck{s}, emailCheck{s}} }

// secondFactorMethod: a method named totp or email is used as asked (even
// when the user does not have it, which then fails); anything else picks
// the first enabled method, then the password fallback.
func (s *Server) secondFactorMethod(u *user, name string, opt tfaOptions) checker {
	for _, c := range s.checkers() {
		if name != "" && c.name() == name {
			return c
		}
	}
	for _, c := range s.checkers() {
		if c.enabled(u) {
			return c
		}
	}
	pw := passwordCheck{s}
	if opt.requireSecondFactor {
		return pw
	}
	if !opt.disablePasswordFallback && pw.enabled(u) {
		return pw
	}
	return nil
}

func (s *Server) availableMethods(u *user) []string {
	out := []string{}
	for _, c := range s.checkers() {
		if c.enabled(u) {
			out = append(out, c.name())
		}
	}
	return out
}

// ---- TOTP ----

type totpCheck struct{ s *Server }

func (totpCheck) name() string                             { return "totp" }
func (totpCheck) enabled(u *user) bool                     { return u.TOTP.Enabled }
func (totpCheck) processInvalidCode(*user) invalidCodeData { return invalidCodeData{} }
func (totpCheck) maxFailedAttemptsReached(*user) bool      { return false }

func (c totpCheck) verify(u *user, code string) bool {
	if !u.TOTP.Enabled || u.TOTP.Secret == "" {
		return false
	}
	return c.s.verifyTOTP(u, u.TOTP.Secret, code, true)
}

// verifyTOTP is TOTP.verify: an 8-character code is a backup code (used
// up on success); otherwise the RFC 6238 code within ±1 step.
func (s *Server) verifyTOTP(u *user, secret, code string, backups bool) bool {
	if backups && len(code) == backupCodeLength && u.TOTP.HashedBackup != nil {
		h := sha256Hex(code)
		for i, b := range u.TOTP.HashedBackup {
			if b == h {
				u.TOTP.HashedBackup = append(u.TOTP.HashedBackup[:i:i], u.TOTP.HashedBackup[i+1:]...)
				return true
			}
		}
		return false
	}
	_, ok := simnet.TOTPMatch(secret, code, s.now(), totpMaxDelta)
	return ok
}

// ---- email ----

type emailCheck struct{ s *Server }

func (emailCheck) name() string { return "email" }

func (emailCheck) enabled(u *user) bool { return u.Email2FA && len(u.verifiedEmails()) > 0 }

var nonDigits = regexp.MustCompile(`\D`)

func (c emailCheck) verify(u *user, code string) bool {
	if !c.enabled(u) || u.EmailCode == nil {
		return false
	}
	code = nonDigits.ReplaceAllString(code, "")
	if u.EmailCode.Expire.Before(c.s.now()) {
		return false
	}
	if sha256Hex(code) == u.EmailCode.Hash {
		u.EmailCode = nil // single use
		return true
	}
	u.EmailCode.Attempts++
	return false
}

func (c emailCheck) processInvalidCode(u *user) invalidCodeData {
	now := c.s.now()
	if u.EmailCode != nil && !u.EmailCode.Expire.After(now) {
		u.EmailCode = nil
	}
	who := u.Username
	if who == "" {
		if v := u.verifiedEmails(); len(v) > 0 {
			who = v[0]
		}
	}
	if u.EmailCode != nil && !c.maxFailedAttemptsReached(u) {
		return invalidCodeData{emailOrUsername: who, codeExpires: u.EmailCode.Expire}
	}
	c.s.sendEmailCode(u)
	return invalidCodeData{emailOrUsername: who, codeGenerated: true}
}

func (emailCheck) maxFailedAttemptsReached(u *user) bool {
	return u.EmailCode != nil && u.EmailCode.Attempts >= maxInvalidEmailCodes
}

// sendEmailCode stores a fresh code (replacing any other, so the count of
// wrong codes starts again) and mails it to every verified address.
func (s *Server) sendEmailCode(u *user) {
	code := simnet.RandomString(6, simnet.Digits)
	now := s.now()
	u.EmailCode = &emailCode{Hash: sha256Hex(code), Expire: now.Add(emailCodeExpiration)}
	for _, addr := range u.verifiedEmails() {
		s.outbox = append(s.outbox, Mail{To: addr, Username: u.Username, Subject: "Authentication code", Code: code,
			Text: "Here is your authentication code: " + code[:3] + "-" + code[3:], Time: now})
	}
}

// ---- password fallback ----

type passwordCheck struct{ s *Server }

func (passwordCheck) name() string                             { return "password" }
func (passwordCheck) enabled(u *user) bool                     { return u.PasswordDigest != "" }
func (passwordCheck) processInvalidCode(*user) invalidCodeData { return invalidCodeData{} }
func (passwordCheck) maxFailedAttemptsReached(*user) bool      { return false }

// verify: the code is the SHA-256 hex digest of the password.
func (passwordCheck) verify(u *user, code string) bool {
	return u.PasswordDigest != "" && strings.ToLower(code) == u.PasswordDigest
}
