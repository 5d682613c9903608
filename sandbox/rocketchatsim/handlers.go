package rocketchatsim

import (
	"encoding/json"
	"net/http"
	"net/url"
	"strings"

	"keyturn/sandbox/simnet"
)

func (s *Server) me(q *request) {
	q.success(s.meDoc(q.user, q.r))
}

// logout deletes the token it was called with, a PAT included. From 7.4
// on the router sends nothing for the handler's bare {status, data}: 200
// with an empty body.
func (s *Server) logout(q *request) {
	h := q.token.Hashed
	q.user.removeTokens(func(t *loginToken) bool { return t.Hashed != h })
	if !s.olderLogout {
		q.w.WriteHeader(http.StatusOK)
		return
	}
	writeJSON(q.w, http.StatusOK, map[string]any{"status": "success", "data": map[string]any{"message": "You've been logged out!"}})
}

// usersLogout wipes every token of a user, PATs included.
func (s *Server) usersLogout(q *request) {
	target := q.user
	if id, ok := q.str("userId"); ok && id != "" && id != q.user.ID {
		if !q.user.can(permLogoutOtherUser) {
			writeJSON(q.w, http.StatusForbidden, map[string]any{
				"success": false, "error": "User does not have the permissions required for this action [error-unauthorized]"})
			return
		}
		target = s.userByID(id)
		if target == nil {
			q.failure(&meteorError{id: "error-invalid-user-id", reason: "Invalid user id"})
			return
		}
	}
	target.removeTokens(func(*loginToken) bool { return false })
	q.success(map[string]any{"message": "User " + target.ID + " has been logged out!"})
}

// ---- personal access tokens ----

func (s *Server) generatePAT(q *request) {
	name, ok := q.str("tokenName")
	if !ok || name == "" {
		q.failureText("The 'tokenName' param is required")
		return
	}
	var bypass bool
	if raw, ok := q.body["bypassTwoFactor"]; ok {
		_ = json.Unmarshal(raw, &bypass)
	}
	tok, merr := s.generateToken(q.user, name, bypass)
	if merr != nil {
		q.failure(merr)
		return
	}
	q.success(map[string]any{"token": tok})
}

func (s *Server) generateToken(u *user, name string, bypass bool) (string, *meteorError) {
	if !u.can(permPAT) {
		return "", &meteorError{id: "not-authorized", reason: "Not Authorized", details: map[string]any{"method": "personalAccessTokens:generateToken"}}
	}
	if u.pat(name) != nil {
		return "", &meteorError{id: "error-token-already-exists", reason: "A token with this name already exists",
			details: map[string]any{"method": "personalAccessTokens:generateToken"}}
	}
	tok := simnet.RocketToken()
	s.addPAT(u, name, tok, bypass, s.now())
	return tok, nil
}

// regeneratePAT deletes the named token and creates a new one with the same
// name and bypassTwoFactor.
func (s *Server) regeneratePAT(q *request) {
	name, ok := q.str("tokenName")
	if !ok || name == "" {
		q.failureText("The 'tokenName' param is required")
		return
	}
	old := q.user.pat(name)
	if old == nil {
		q.failure(&meteorError{id: "error-token-does-not-exists", reason: "Token does not exist",
			details: map[string]any{"method": "personalAccessTokens:regenerateToken"}})
		return
	}
	bypass := old.BypassTwoFactor
	q.user.removeTokens(func(t *loginToken) bool { return t != old })
	tok, merr := s.generateToken(q.user, name, bypass)
	if merr != nil {
		q.failure(merr)
		return
	}
	q.success(map[string]any{"token": tok})
}

func (s *Server) listPATs(q *request) {
	tokens := []map[string]any{}
	for _, t := range q.user.Tokens {
		if t.PAT {
			tokens = append(tokens, map[string]any{"name": t.Name, "createdAt": isoDate(t.CreatedAt),
				"lastTokenPart": t.LastTokenPart, "bypassTwoFactor": t.BypassTwoFactor})
		}
	}
	q.success(map[string]any{"tokens": tokens})
}

func (s *Server) removePAT(q *request) {
	name, ok := q.str("tokenName")
	if !ok || name == "" {
		q.failureText("The 'tokenName' param is required")
		return
	}
	if !q.user.can(permPAT) {
		q.failure(&meteorError{id: "not-authorized", reason: "Not Authorized", details: map[string]any{"method": "personalAccessTokens:removeToken"}})
		return
	}
	t := q.user.pat(name)
	if t == nil {
		q.failure(&meteorError{id: "error-token-does-not-exists", reason: "Token does not exist",
			details: map[string]any{"method": "personalAccessTokens:removeToken"}})
		return
	}
	q.user.removeTokens(func(x *loginToken) bool { return x != t })
	q.success(nil)
}

// ---- emailed codes ----

// sendEmailCodeRoute mails a fresh code to the caller (when authenticated)
// or to the named user; an unknown user still gets success.
func (s *Server) sendEmailCodeRoute(q *request) {
	who, _ := q.str("emailOrUsername")
	if who == "" {
		q.failure(&meteorError{id: "error-parameter-required", reason: "emailOrUsername is required"})
		return
	}
	u := q.user
	if u == nil {
		if strings.Contains(who, "@") {
			u = s.userByEmail(who)
		} else {
			u = s.userByUsername(who)
		}
	}
	if u != nil {
		s.sendEmailCode(u)
	}
	q.success(nil)
}

func (s *Server) enableEmail2FA(q *request) {
	for _, e := range q.user.Emails {
		if !e.Verified {
			q.failure(&meteorError{id: "error-invalid-user", reason: "You need to verify your emails before setting up 2FA"})
			return
		}
	}
	q.user.Email2FA = true
	s.removeOtherSessions(q)
	q.success(nil)
}

func (s *Server) disableEmail2FA(q *request) {
	q.user.Email2FA = false
	q.success(nil)
}

// removeOtherSessions logs out every other login session; PATs survive.
func (s *Server) removeOtherSessions(q *request) {
	cur := q.token
	q.user.removeTokens(func(t *loginToken) bool { return t.PAT || t == cur })
}

// ---- TOTP (8.8 REST) ----

func (s *Server) enableTOTP(q *request) {
	u := q.user
	if u.TOTP.Enabled {
		q.failure(&meteorError{id: "error-2fa-already-enabled"})
		return
	}
	secret := simnet.TOTPSecret()
	u.TOTP = totpState{TempSecret: secret}
	q.success(map[string]any{"secret": secret, "url": otpauthURL(u.Username, secret)})
}

// otpauthURL is speakeasy.otpauthURL({secret, label:"Rocket.Chat:"+username}).
func otpauthURL(username, secret string) string {
	// encodeURIComponent: ":" becomes %3A, a space %20.
	label := strings.ReplaceAll(url.QueryEscape("Rocket.Chat:"+username), "+", "%20")
	return "otpauth://totp/" + label + "?secret=" + secret
}

func (s *Server) validateTOTP(q *request) {
	code, _ := q.str("code")
	u := q.user
	if code == "" || u.TOTP.TempSecret == "" || !s.verifyTOTP(u, u.TOTP.TempSecret, code, false) {
		q.failure(&meteorError{id: "invalid-totp"})
		return
	}
	codes := make([]string, backupCodeCount)
	hashed := make([]string, backupCodeCount)
	for i := range codes {
		codes[i] = simnet.RandomString(backupCodeLength, simnet.RocketIDChars)
		hashed[i] = sha256Hex(codes[i])
	}
	u.TOTP = totpState{Enabled: true, Secret: u.TOTP.TempSecret, HashedBackup: hashed}
	s.removeOtherSessions(q)
	q.success(map[string]any{"codes": codes})
}

// disableTOTP answers {"disabled":false} for a wrong code or when TOTP is off.
func (s *Server) disableTOTP(q *request) {
	code, _ := q.str("code")
	u := q.user
	if !u.TOTP.Enabled || code == "" || !s.verifyTOTP(u, u.TOTP.Secret, code, true) {
		q.success(map[string]any{"disabled": false})
		return
	}
	u.TOTP = totpState{}
	q.success(map[string]any{"disabled": true})
}

func (s *Server) totpCodesRemaining(q *request) {
	if !q.user.TOTP.Enabled {
		q.failure(&meteorError{id: "invalid-totp"})
		return
	}
	q.success(map[string]any{"remaining": len(q.user.TOTP.HashedBackup)})
}
