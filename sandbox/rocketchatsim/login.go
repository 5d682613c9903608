package rocketchatsim

import (
	"crypto/subtle"
	"encoding/json"
	"net/http"
	"strings"
	"time"
)

// loginRequest is a Meteor login request after the REST route's rewrite.
type loginRequest struct {
	resume   *string
	totpCode *string       // from the totp wrapper; nil when there is none
	user     *userSelector // password login
	password *password
}

type userSelector struct{ Username, Email, ID string }

type password struct {
	plain  string
	digest string // hex SHA-256, from {"digest","algorithm":"sha-256"} or {"hashed"}
}

// loginError is how the login route answers a Meteor error: HTTP 401 with
// the id in "error" and the reason in "message".
type loginError struct {
	id      any // a string id, or Meteor's numeric error code
	message string
	details any
}

func (q *request) loginFailure(e *loginError) {
	body := map[string]any{"success": false, "status": "error", "error": e.id, "message": e.message}
	if e.details != nil {
		body["details"] = e.details
	}
	writeJSON(q.w, http.StatusUnauthorized, body)
}

var errUnauthorized = &loginError{id: "Unauthorized", message: "Unauthorized"}

// login is POST /api/v1/login: the compat rewrite of {user|username|email,
// password, code}, then Meteor's resume, totp and password handlers.
func (s *Server) login(q *request) {
	lr, lerr := s.parseLogin(q)
	if lerr != nil {
		q.loginFailure(lerr)
		return
	}
	if lr.resume != nil {
		s.loginResume(q, *lr.resume)
		return
	}
	u := s.findLoginUser(lr.user)
	if u != nil && s.loginBlocked(u, q.now) {
		q.loginFailure(&loginError{id: "error-login-blocked-for-user", message: "Login has been temporarily blocked For User"})
		return
	}
	if u == nil || !checkPassword(u, lr.password) {
		if u != nil {
			s.failures[u.ID] = append(s.failures[u.ID], q.now)
		}
		q.loginFailure(errUnauthorized)
		return
	}
	code := ""
	if lr.totpCode != nil {
		code = *lr.totpCode
	}
	// onValidateLogin: no connection token, no headers, no password fallback.
	if merr := s.checkCodeForUser(u, code, "", nil, tfaOptions{disablePasswordFallback: true}); merr != nil {
		if merr.id != "totp-required" {
			s.failures[u.ID] = append(s.failures[u.ID], q.now)
		}
		q.loginFailure(&loginError{id: merr.id, message: merr.reason, details: merr.details})
		return
	}
	delete(s.failures, u.ID)
	tok := s.addSession(u)
	q.loginSuccess(u, tok)
}

func (q *request) loginSuccess(u *user, tok string) {
	q.success(map[string]any{
		"status": "success",
		"data":   map[string]any{"userId": u.ID, "authToken": tok, "me": q.s.meDoc(u, q.r)},
	})
}

func (s *Server) loginResume(q *request, tok string) {
	h := hashLoginToken(tok)
	for _, u := range s.users {
		if t := u.token(h); t != nil && !s.expired(t, q.now) {
			// 2FA is never checked on resume; the same token comes back.
			q.loginSuccess(u, tok)
			return
		}
	}
	q.loginFailure(&loginError{id: 403, message: "You've been logged out by the server. Please log in again."})
}

// loginBlocked: 10 failures within 5 minutes block the user's logins.
func (s *Server) loginBlocked(u *user, now time.Time) bool {
	var recent []time.Time
	for _, t := range s.failures[u.ID] {
		if now.Sub(t) < loginBlockWindow {
			recent = append(recent, t)
		}
	}
	s.failures[u.ID] = recent
	return len(recent) >= loginBlockFailures
}

func checkPassword(u *user, p *password) bool {
	if p == nil || u.PasswordDigest == "" {
		return false
	}
	digest := p.digest
	if digest == "" {
		digest = sha256Hex(p.plain)
	}
	return subtle.ConstantTimeCompare([]byte(strings.ToLower(digest)), []byte(u.PasswordDigest)) == 1
}

func (s *Server) findLoginUser(sel *userSelector) *user {
	switch {
	case sel == nil:
		return nil
	case sel.ID != "":
		return s.userByID(sel.ID)
	case sel.Username != "":
		return s.userByUsername(sel.Username)
	case sel.Email != "":
		return s.userByEmail(sel.Email)
	}
	return nil
}

var compatKeys = map[string]bool{"user": true, "username": true, "email": true, "password": true, "code": true}

// parseLogin applies the REST route's loginCompatibility rewrite when the
// body's keys are all among user/username/email/password/code, and
// otherwise reads the body as a raw Meteor login request.
func (s *Server) parseLogin(q *request) (*loginRequest, *loginError) {
	compat := true
	for k := range q.body {
		if !compatKeys[k] {
			compat = false
		}
	}
	if compat {
		if lr, ok := compatLogin(q); ok {
			return lr, nil
		}
	}
	return rawLogin(q.body, 0)
}

func compatLogin(q *request) (*loginRequest, bool) {
	var sel *userSelector
	if u, ok := q.str("user"); ok {
		if strings.Contains(u, "@") {
			sel = &userSelector{Email: u}
		} else {
			sel = &userSelector{Username: u}
		}
	} else if u, ok := q.str("username"); ok && u != "" {
		sel = &userSelector{Username: u}
	} else if e, ok := q.str("email"); ok && e != "" {
		sel = &userSelector{Email: e}
	}
	if sel == nil {
		return nil, false // passed to Meteor untouched
	}
	lr := &loginRequest{user: sel, password: parsePassword(q.body["password"], true)}
	code, _ := q.str("code")
	if code == "" {
		code = q.r.Header.Get("x-2fa-code")
	}
	if code != "" {
		lr.totpCode = &code
	}
	return lr, true
}

// parsePassword reads a password: a string, {digest, algorithm:"sha-256"},
// or (compat only) {hashed}.
func parsePassword(raw json.RawMessage, compat bool) *password {
	if len(raw) == 0 {
		return nil
	}
	var plain string
	if json.Unmarshal(raw, &plain) == nil {
		return &password{plain: plain}
	}
	var obj struct {
		Digest    string `json:"digest"`
		Algorithm string `json:"algorithm"`
		Hashed    string `json:"hashed"`
	}
	if json.Unmarshal(raw, &obj) != nil {
		return nil
	}
	if compat && obj.Hashed != "" {
		return &password{digest: obj.Hashed}
	}
	if obj.Digest != "" && obj.Algorithm == "sha-256" {
		return &password{digest: obj.Digest}
	}
	return nil
}

// rawLogin runs Meteor's login handlers on an untouched body: resume,
// totp (which wraps another login request), password.
func rawLogin(body map[string]json.RawMessage, depth int) (*loginRequest, *loginError) {
	unrecognized := &loginError{id: 400, message: "Unrecognized options for login request"}
	if raw, ok := body["resume"]; ok && depth == 0 {
		var tok string
		if json.Unmarshal(raw, &tok) != nil || tok == "" {
			return nil, unrecognized
		}
		return &loginRequest{resume: &tok}, nil
	}
	if raw, ok := body["totp"]; ok && depth == 0 {
		var t struct {
			Login map[string]json.RawMessage `json:"login"`
			Code  string                     `json:"code"`
		}
		if json.Unmarshal(raw, &t) == nil && t.Code != "" && t.Login != nil {
			inner, lerr := rawLogin(t.Login, depth+1)
			if lerr != nil {
				return nil, lerr
			}
			inner.totpCode = &t.Code
			return inner, nil
		}
	}
	rawUser, hasUser := body["user"]
	rawPass, hasPass := body["password"]
	if !hasUser || !hasPass {
		return nil, unrecognized
	}
	var sel struct {
		Username string `json:"username"`
		Email    string `json:"email"`
		ID       string `json:"id"`
	}
	if json.Unmarshal(rawUser, &sel) != nil || (sel.Username == "" && sel.Email == "" && sel.ID == "") {
		return nil, &loginError{id: 400, message: "Match failed"}
	}
	p := parsePassword(rawPass, false)
	if p == nil {
		return nil, &loginError{id: 400, message: "Match failed"}
	}
	return &loginRequest{user: &userSelector{Username: sel.Username, Email: sel.Email, ID: sel.ID}, password: p}, nil
}

// meDoc is the user as /me and login show it.
func (s *Server) meDoc(u *user, r *http.Request) map[string]any {
	emails := []map[string]any{}
	for _, e := range u.Emails {
		emails = append(emails, map[string]any{"address": e.Address, "verified": e.Verified})
	}
	services := map[string]any{"password": map[string]any{"exists": u.PasswordDigest != ""}}
	if u.TOTP.Enabled {
		services["totp"] = map[string]any{"enabled": true}
	}
	if u.Email2FA {
		services["email2fa"] = map[string]any{"enabled": true}
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	doc := map[string]any{
		"_id": u.ID, "username": u.Username, "name": u.Name, "emails": emails,
		"status": "online", "statusConnection": "online", "utcOffset": 0, "active": true,
		"roles": u.Roles, "avatarUrl": scheme + "://" + r.Host + "/avatar/" + u.Username,
		"isOAuthUser": false, "settings": map[string]any{"profile": map[string]any{}, "preferences": map[string]any{}},
		"services": services,
	}
	if len(u.Emails) > 0 {
		doc["email"] = u.Emails[0].Address
	}
	return doc
}
