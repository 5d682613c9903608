package rocketchatsim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// route is one REST v1 endpoint and the options ApiClass checks before
// running it, in this order: authentication, rate limit, permission,
// second factor.
type route struct {
	authRequired      bool
	authOptional      bool
	permission        string
	twoFactorRequired bool
	disableRememberMe bool
	handler           func(*request)
}

// request is one call being served.
type request struct {
	s        *Server
	w        http.ResponseWriter
	r        *http.Request
	body     map[string]json.RawMessage
	user     *user       // authenticated caller, if any
	token    *loginToken // the token used
	rawToken string
	now      time.Time
}

func (s *Server) routes() map[string]route {
	return map[string]route{
		"GET /api/info":                                    {handler: s.info},
		"POST /api/v1/login":                               {handler: s.login},
		"GET /api/v1/me":                                   {authRequired: true, handler: s.me},
		"POST /api/v1/logout":                              {authRequired: true, handler: s.logout},
		"GET /api/v1/logout":                               {authRequired: true, handler: s.logout}, // deprecated
		"POST /api/v1/users.logout":                        {authRequired: true, handler: s.usersLogout},
		"POST /api/v1/users.generatePersonalAccessToken":   {authRequired: true, twoFactorRequired: true, permission: permPAT, handler: s.generatePAT},
		"POST /api/v1/users.regeneratePersonalAccessToken": {authRequired: true, twoFactorRequired: true, permission: permPAT, handler: s.regeneratePAT},
		"GET /api/v1/users.getPersonalAccessTokens":        {authRequired: true, permission: permPAT, handler: s.listPATs},
		"POST /api/v1/users.removePersonalAccessToken":     {authRequired: true, twoFactorRequired: true, permission: permPAT, handler: s.removePAT},
		"POST /api/v1/users.2fa.sendEmailCode":             {authOptional: true, handler: s.sendEmailCodeRoute},
		"POST /api/v1/users.enableTotp":                    {authRequired: true, twoFactorRequired: true, handler: s.enableTOTP},
		"POST /api/v1/users.validateTotp":                  {authRequired: true, twoFactorRequired: true, handler: s.validateTOTP},
		"POST /api/v1/users.disableTotp":                   {authRequired: true, handler: s.disableTOTP},
		"GET /api/v1/users.totpCodesRemaining":             {authRequired: true, handler: s.totpCodesRemaining},
		"POST /api/v1/users.2fa.enableEmail":               {authRequired: true, handler: s.enableEmail2FA},
		"POST /api/v1/users.2fa.disableEmail":              {authRequired: true, twoFactorRequired: true, disableRememberMe: true, handler: s.disableEmail2FA},
	}
}

// ServeHTTP serves the REST API. It does not inject faults itself.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	rt, ok := s.table[r.Method+" "+r.URL.Path]
	if !ok {
		writeJSON(w, http.StatusNotFound, map[string]any{"status": "error", "message": "API endpoint does not exist"})
		return
	}
	body, ok := readBody(r)
	if !ok {
		writeJSON(w, http.StatusBadRequest, map[string]any{"success": false, "error": "Invalid JSON body"})
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	req := &request{s: s, w: w, r: r, body: body, now: s.now()}

	if rt.authRequired || rt.authOptional {
		if ok := req.authenticate(); !ok && rt.authRequired {
			writeJSON(w, http.StatusUnauthorized, map[string]any{
				"success": false, "error": messageMustBeLoggedIn, "status": "error", "message": messageMustBeLoggedIn})
			return
		}
	}
	if strings.HasPrefix(r.URL.Path, "/api/v1/") && !s.enforceRateLimit(req, r.Method+" "+r.URL.Path) {
		return
	}
	if rt.permission != "" && !req.user.can(rt.permission) {
		writeJSON(w, http.StatusForbidden, map[string]any{
			"success": false, "error": "User does not have the permissions required for this action [error-unauthorized]"})
		return
	}
	if rt.twoFactorRequired {
		conn := &connection{token: req.token, userAgent: r.UserAgent(), address: clientAddress(r),
			code: r.Header.Get("x-2fa-code"), method: r.Header.Get("x-2fa-method")}
		if merr := s.checkCodeForUser(req.user, "", "", conn, tfaOptions{disableRememberMe: rt.disableRememberMe}); merr != nil {
			req.failure(merr)
			return
		}
	}
	rt.handler(req)
}

// readBody reads a JSON object body (none is an empty one); ok is false
// when the body cannot be read or is not a JSON object.
func readBody(r *http.Request) (body map[string]json.RawMessage, ok bool) {
	body = map[string]json.RawMessage{}
	if r.Body == nil {
		return body, true
	}
	data, err := io.ReadAll(io.LimitReader(r.Body, 1<<20))
	if err != nil {
		return nil, false
	}
	data = bytes.TrimSpace(data)
	if len(data) == 0 {
		return body, true
	}
	if err := json.Unmarshal(data, &body); err != nil {
		return nil, false
	}
	return body, true
}

// authenticate resolves X-User-Id and X-Auth-Token.
func (q *request) authenticate() bool {
	uid := q.r.Header.Get("X-User-Id")
	tok := q.r.Header.Get("X-Auth-Token")
	if uid == "" || tok == "" {
		return false
	}
	u := q.s.userByID(uid)
	if u == nil {
		return false
	}
	t := u.token(hashLoginToken(tok))
	if t == nil || q.s.expired(t, q.now) {
		return false
	}
	q.user, q.token, q.rawToken = u, t, tok
	return true
}

// str reads a string body parameter; ok is false when it is absent or not
// a string.
func (q *request) str(key string) (string, bool) {
	raw, present := q.body[key]
	if !present {
		return "", false
	}
	var s string
	if json.Unmarshal(raw, &s) != nil {
		return "", false
	}
	return s, true
}

// success is API.v1.success: HTTP 200 with success:true added.
func (q *request) success(fields map[string]any) {
	if fields == nil {
		fields = map[string]any{}
	}
	fields["success"] = true
	writeJSON(q.w, http.StatusOK, fields)
}

// failureText is API.v1.failure with a plain string: no errorType.
func (q *request) failureText(msg string) {
	writeJSON(q.w, http.StatusBadRequest, map[string]any{"success": false, "error": msg})
}

// meteorError is a Meteor.Error: an id, a reason and optional details.
type meteorError struct {
	id      string
	reason  string
	details any
}

// failure is API.v1.failure of a Meteor.Error: HTTP 400 with
// "<reason> [<id>]", errorType and details.
func (q *request) failure(e *meteorError) {
	body := map[string]any{"success": false, "error": e.message(), "errorType": e.id}
	if e.details != nil {
		body["details"] = e.details
	}
	writeJSON(q.w, http.StatusBadRequest, body)
}

func (e *meteorError) message() string {
	if e.reason == "" {
		return "[" + e.id + "]"
	}
	return e.reason + " [" + e.id + "]"
}

// ---- rate limiter ----

type window struct {
	count int
	reset time.Time
}

// enforceRateLimit counts the call against (address, route+verb) and sets
// the X-RateLimit-* headers; it answers 429 and returns false when the
// limit is exceeded. Callers with api-bypass-rate-limit are exempt.
func (s *Server) enforceRateLimit(q *request, key string) bool {
	if !s.rateLimit || (q.user != nil && q.user.can(permBypassRateLimit)) {
		return true
	}
	k := clientAddress(q.r) + " " + key
	win := s.limiter[k]
	if win == nil || !q.now.Before(win.reset) {
		win = &window{reset: q.now.Add(rateLimitWindow)}
		s.limiter[k] = win
	}
	win.count++
	remaining := rateLimitCalls - win.count
	if remaining < 0 {
		remaining = 0
	}
	h := q.w.Header()
	h.Set("X-RateLimit-Limit", strconv.Itoa(rateLimitCalls))
	h.Set("X-RateLimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-RateLimit-Reset", strconv.FormatInt(win.reset.UnixMilli(), 10))
	if win.count <= rateLimitCalls {
		return true
	}
	wait := win.reset.Sub(q.now)
	secs := int((wait + time.Second - 1) / time.Second)
	writeJSON(q.w, http.StatusTooManyRequests, map[string]any{"success": false,
		"error": fmt.Sprintf("Error, too many requests. Please slow down. You must wait %d seconds before trying this endpoint again. [error-too-many-requests]", secs)})
	return false
}

func (s *Server) info(q *request) {
	q.success(map[string]any{"version": Version})
}
