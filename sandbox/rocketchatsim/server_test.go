package rocketchatsim

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"keyturn/sandbox/simnet"
)

type harness struct {
	t   *testing.T
	env *simnet.Env
	sim *Server
	srv *httptest.Server
	ua  string
}

func newHarness(t *testing.T, rateLimit bool) *harness {
	t.Helper()
	env := simnet.NewEnv()
	sim := New(env)
	sim.SetRateLimit(rateLimit)
	srv := httptest.NewServer(env.Faults.Wrap(sim))
	t.Cleanup(srv.Close)
	return &harness{t: t, env: env, sim: sim, srv: srv, ua: "keyturn-test/1"}
}

type answer struct {
	status int
	header http.Header
	body   map[string]any
	raw    string
}

// String shows the answer for a failure message with every secret field
// (tokens, TOTP secrets and URLs, backup codes) redacted.
func (a answer) String() string {
	var v any
	if json.Unmarshal([]byte(a.raw), &v) != nil {
		return fmt.Sprintf("(%d bytes)", len(a.raw))
	}
	b, _ := json.Marshal(redact(v))
	return string(b)
}

func redact(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			switch k {
			case "token", "authToken", "secret", "url", "codes":
				x[k] = "[redacted]"
			default:
				x[k] = redact(val)
			}
		}
	case []any:
		for i := range x {
			x[i] = redact(x[i])
		}
	}
	return v
}

type creds struct{ id, token string }

func (h *harness) call(method, path string, c *creds, hdr map[string]string, body any) answer {
	h.t.Helper()
	var rd io.Reader
	if body != nil {
		var b []byte
		switch v := body.(type) {
		case string:
			b = []byte(v)
		default:
			var err error
			if b, err = json.Marshal(v); err != nil {
				h.t.Fatal(err)
			}
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("User-Agent", h.ua)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if c != nil {
		req.Header.Set("X-User-Id", c.id)
		req.Header.Set("X-Auth-Token", c.token)
	}
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	data, _ := io.ReadAll(res.Body)
	a := answer{status: res.StatusCode, header: res.Header, raw: string(data)}
	if len(data) > 0 {
		if err := json.Unmarshal(data, &a.body); err != nil {
			h.t.Fatalf("%s %s: answer is not a JSON object (%d bytes)", method, path, len(data))
		}
	}
	return a
}

func (h *harness) login(body any) answer {
	h.t.Helper()
	return h.call("POST", "/api/v1/login", nil, nil, body)
}

// mustLogin signs in and returns the credentials.
func (h *harness) mustLogin(user, password, code string) *creds {
	h.t.Helper()
	body := map[string]string{"user": user, "password": password}
	if code != "" {
		body["code"] = code
	}
	a := h.login(body)
	if a.status != 200 {
		h.t.Fatalf("login %s: status %d, error %v", user, a.status, a.body["error"])
	}
	data := a.body["data"].(map[string]any)
	return &creds{id: data["userId"].(string), token: data["authToken"].(string)}
}

func (h *harness) aliceCode() string { return simnet.TOTPCode(AliceTOTP, h.env.Clock.Now()) }

func sum(s string) string {
	b := sha256.Sum256([]byte(s))
	return hex.EncodeToString(b[:])
}

func details(t *testing.T, a answer) map[string]any {
	t.Helper()
	d, ok := a.body["details"].(map[string]any)
	if !ok {
		t.Fatalf("answer has no details: %s", a)
	}
	return d
}

func wantError(t *testing.T, a answer, status int, errorType string) {
	t.Helper()
	if a.status != status {
		t.Fatalf("status %d, want %d (%v)", a.status, status, a.body["error"])
	}
	if a.body["success"] != false {
		t.Errorf("success = %v, want false", a.body["success"])
	}
	if got := a.body["errorType"]; errorType != "" && got != errorType {
		t.Errorf("errorType = %v, want %s", got, errorType)
	}
}

func methods(d map[string]any) string {
	var out []string
	for _, m := range d["availableMethods"].([]any) {
		out = append(out, m.(string))
	}
	return strings.Join(out, ",")
}

func ledgerHas(env *simnet.Env, kind, token string) bool {
	for _, e := range env.Ledger.Entries() {
		if e.Service == Service && e.Kind == kind && e.Token == token {
			return true
		}
	}
	return false
}

func TestLoginWithoutSecondFactor(t *testing.T) {
	h := newHarness(t, false)
	a := h.login(map[string]string{"user": "carol", "password": CarolPassword})
	if a.status != 200 || a.body["status"] != "success" || a.body["success"] != true {
		t.Fatalf("login: %d %s", a.status, a.body["error"])
	}
	data := a.body["data"].(map[string]any)
	if data["userId"] != CarolID {
		t.Errorf("userId = %v", data["userId"])
	}
	tok := data["authToken"].(string)
	if len(tok) != 43 {
		t.Errorf("authToken has %d characters, want 43", len(tok))
	}
	if !ledgerHas(h.env, "session", tok) {
		t.Error("the session token is not in the ledger")
	}
	me := data["me"].(map[string]any)
	if me["username"] != "carol" || me["email"] != "carol@example.com" {
		t.Errorf("me = %v %v", me["username"], me["email"])
	}
	svc := me["services"].(map[string]any)
	if _, ok := svc["totp"]; ok {
		t.Error("carol's services show totp")
	}
	if svc["password"].(map[string]any)["exists"] != true {
		t.Error("services.password.exists is not true")
	}
	if !strings.HasSuffix(me["avatarUrl"].(string), "/avatar/carol") {
		t.Errorf("avatarUrl = %v", me["avatarUrl"])
	}
}

func TestLoginWrongPasswordAndUnknownUser(t *testing.T) {
	h := newHarness(t, false)
	for _, body := range []map[string]string{
		{"user": "carol", "password": "wrong"},
		{"user": "nobody", "password": "x"},
		{"user": "nobody@example.com", "password": "x"},
	} {
		a := h.login(body)
		if a.status != 401 || a.body["error"] != "Unauthorized" || a.body["message"] != "Unauthorized" || a.body["status"] != "error" {
			t.Errorf("login %s: %d %s", body["user"], a.status, a)
		}
	}
	if n := len(h.env.Ledger.Entries()); n != 1 { // the seeded PAT only
		t.Errorf("ledger has %d entries after failed logins", n)
	}
}

func TestLoginBlockedAfterTenFailures(t *testing.T) {
	h := newHarness(t, false)
	for i := 0; i < 10; i++ {
		if a := h.login(map[string]string{"user": "carol", "password": "wrong"}); a.status != 401 {
			t.Fatalf("attempt %d: %d", i, a.status)
		}
	}
	a := h.login(map[string]string{"user": "carol", "password": CarolPassword})
	if a.status != 401 || a.body["error"] != "error-login-blocked-for-user" {
		t.Fatalf("11th login: %d %s", a.status, a)
	}
	h.env.Clock.Advance(loginBlockWindow + time.Second)
	h.mustLogin("carol", CarolPassword, "")
}

func TestLoginTOTP(t *testing.T) {
	h := newHarness(t, false)
	a := h.login(map[string]string{"user": "alice", "password": AlicePassword})
	if a.status != 401 || a.body["error"] != "totp-required" || a.body["message"] != "TOTP Required" {
		t.Fatalf("no code: %d %s", a.status, a)
	}
	d := details(t, a)
	if d["method"] != "totp" || d["codeGenerated"] != false || methods(d) != "totp,email" {
		t.Errorf("details = %v", d)
	}
	a = h.login(map[string]string{"user": "alice", "password": AlicePassword, "code": "000000"})
	if a.status != 401 || a.body["error"] != "totp-invalid" {
		t.Fatalf("wrong code: %d %s", a.status, a)
	}
	// A code from the previous step is still good (±1 step).
	prev := simnet.TOTPCode(AliceTOTP, h.env.Clock.Now().Add(-30*time.Second))
	h.mustLogin("alice", AlicePassword, prev)
	// Wrong password with a good code is still Unauthorized.
	a = h.login(map[string]string{"user": "alice", "password": "nope", "code": h.aliceCode()})
	if a.status != 401 || a.body["error"] != "Unauthorized" {
		t.Errorf("wrong password: %d %s", a.status, a)
	}
	// The x-2fa-code header works at login when the body has no code.
	a = h.call("POST", "/api/v1/login", nil, map[string]string{"x-2fa-code": h.aliceCode()},
		map[string]string{"username": "alice", "password": AlicePassword})
	if a.status != 200 {
		t.Errorf("header code: %d %s", a.status, a)
	}
}

func TestLoginBackupCodeIsSingleUse(t *testing.T) {
	h := newHarness(t, false)
	h.mustLogin("alice", AlicePassword, AliceBackupCodes[3])
	a := h.login(map[string]string{"user": "alice", "password": AlicePassword, "code": AliceBackupCodes[3]})
	if a.status != 401 || a.body["error"] != "totp-invalid" {
		t.Fatalf("reused backup code: %d %s", a.status, a)
	}
	c := h.mustLogin("alice", AlicePassword, AliceBackupCodes[4])
	a = h.call("GET", "/api/v1/users.totpCodesRemaining", c, nil, nil)
	if a.body["remaining"] != float64(10) {
		t.Errorf("remaining = %v, want 10", a.body["remaining"])
	}
}

func TestLoginIgnoresEmailCodeWhenTOTPIsOn(t *testing.T) {
	h := newHarness(t, false)
	if a := h.call("POST", "/api/v1/users.2fa.sendEmailCode", nil, nil, map[string]string{"emailOrUsername": "alice"}); a.status != 200 {
		t.Fatalf("sendEmailCode: %d", a.status)
	}
	code := h.sim.LastEmailCode("alice")
	if len(code) != 6 {
		t.Fatalf("no email code for alice")
	}
	a := h.call("POST", "/api/v1/login", nil, map[string]string{"x-2fa-method": "email"},
		map[string]string{"user": "alice", "password": AlicePassword, "code": code})
	if a.status != 401 || a.body["error"] != "totp-invalid" || details(t, a)["method"] != "totp" {
		t.Fatalf("email code at login: %d %s", a.status, a)
	}
}

func TestLoginEmailCode(t *testing.T) {
	h := newHarness(t, false)
	a := h.login(map[string]string{"user": "bob", "password": BobPassword})
	if a.status != 401 || a.body["error"] != "totp-required" {
		t.Fatalf("no code: %d %s", a.status, a)
	}
	d := details(t, a)
	if d["method"] != "email" || d["codeGenerated"] != true || d["emailOrUsername"] != "bob" || methods(d) != "email" {
		t.Errorf("details = %v", d)
	}
	box := h.sim.Outbox()
	if len(box) != 1 || box[0].To != "bob@example.com" || box[0].Text != "Here is your authentication code: "+box[0].Code[:3]+"-"+box[0].Code[3:] {
		t.Fatalf("outbox = %d mails", len(box))
	}
	// Asking again does not mail again while the code is valid.
	a = h.login(map[string]string{"user": "bob", "password": BobPassword})
	d = details(t, a)
	if d["codeGenerated"] != false {
		t.Errorf("second ask generated a new code")
	}
	exp, err := time.Parse(time.RFC3339, d["codeExpires"].(string))
	if err != nil || exp.Sub(h.env.Clock.Now()) < 59*time.Minute || !strings.HasSuffix(d["codeExpires"].(string), "Z") {
		t.Errorf("codeExpires = %v", d["codeExpires"])
	}
	if len(h.sim.Outbox()) != 1 {
		t.Errorf("a second mail went out")
	}
	code := h.sim.LastEmailCode("bob")
	// The dash of the mail is fine: non-digits are stripped.
	c := h.mustLogin("bob", BobPassword, code[:3]+"-"+code[3:])
	if c.id != BobID {
		t.Errorf("userId = %s", c.id)
	}
	// Single use: the same code fails, and a new one is mailed.
	a = h.login(map[string]string{"user": "bob", "password": BobPassword, "code": code})
	if a.body["error"] != "totp-invalid" || details(t, a)["codeGenerated"] != true {
		t.Errorf("reused code: %s", a)
	}
}

func TestEmailCodeMaxAttemptsAndExpiry(t *testing.T) {
	h := newHarness(t, false)
	h.login(map[string]string{"user": "bob", "password": BobPassword})
	good := h.sim.LastEmailCode("bob")
	wrong := "000000"
	if good == wrong {
		wrong = "111111"
	}
	for i := 1; i <= 5; i++ {
		a := h.call("POST", "/api/v1/login", nil, nil, map[string]string{"user": "bob", "password": BobPassword, "code": wrong})
		want := "totp-invalid"
		if i == 5 {
			want = "totp-max-attempts"
		}
		if a.body["error"] != want {
			t.Fatalf("wrong code %d: %v", i, a.body["error"])
		}
		if i == 5 && a.body["message"] != "TOTP Maximun Failed Attempts Reached" {
			t.Errorf("message = %v", a.body["message"])
		}
	}
	// After the limit the old code is dead and the next attempt mails a new one.
	a := h.login(map[string]string{"user": "bob", "password": BobPassword, "code": good})
	if a.body["error"] != "totp-invalid" || details(t, a)["codeGenerated"] != true {
		t.Fatalf("after max attempts: %s", a)
	}
	fresh := h.sim.LastEmailCode("bob")
	// An hour later that code has expired.
	h.env.Clock.Advance(emailCodeExpiration + time.Second)
	a = h.login(map[string]string{"user": "bob", "password": BobPassword, "code": fresh})
	if a.body["error"] != "totp-invalid" {
		t.Fatalf("expired code: %s", a)
	}
	h.mustLogin("bob", BobPassword, h.sim.LastEmailCode("bob"))
}

func TestLoginBodyForms(t *testing.T) {
	h := newHarness(t, false)
	ok := func(name string, body any, hdr map[string]string) string {
		t.Helper()
		a := h.call("POST", "/api/v1/login", nil, hdr, body)
		if a.status != 200 {
			t.Errorf("%s: %d %s", name, a.status, a)
			return ""
		}
		return a.body["data"].(map[string]any)["authToken"].(string)
	}
	ok("username", map[string]string{"username": "carol", "password": CarolPassword}, nil)
	ok("email", map[string]string{"email": "carol@example.com", "password": CarolPassword}, nil)
	ok("user with @", map[string]string{"user": "carol@example.com", "password": CarolPassword}, nil)
	ok("hashed password", map[string]any{"user": "carol", "password": map[string]string{"hashed": sum(CarolPassword)}}, nil)
	ok("raw meteor totp", map[string]any{"totp": map[string]any{
		"login": map[string]any{"user": map[string]string{"username": "alice"},
			"password": map[string]string{"digest": sum(AlicePassword), "algorithm": "sha-256"}},
		"code": h.aliceCode()}}, nil)
	ok("raw meteor password", map[string]any{"user": map[string]string{"email": "carol@example.com"}, "password": CarolPassword}, nil)

	// An object user is not wrapped with the code: alice is asked for one.
	a := h.login(map[string]any{"user": map[string]string{"username": "alice"}, "password": AlicePassword, "code": h.aliceCode()})
	if a.status != 401 || a.body["error"] != "totp-required" {
		t.Errorf("object user with code: %d %s", a.status, a)
	}
	// Any other key passes the body raw to Meteor, where a string user fails.
	a = h.login(map[string]any{"user": "carol", "password": CarolPassword, "extra": true})
	if a.status != 401 || a.body["error"] != float64(400) {
		t.Errorf("extra key: %d %s", a.status, a)
	}
	a = h.login(map[string]any{"nothing": true})
	if a.status != 401 || a.body["message"] != "Unrecognized options for login request" {
		t.Errorf("unrecognized: %d %s", a.status, a)
	}

	// Resume gives back the same token, with no new ledger entry and no 2FA.
	c := h.mustLogin("alice", AlicePassword, h.aliceCode())
	before := len(h.env.Ledger.Entries())
	if tok := ok("resume", map[string]string{"resume": c.token}, nil); tok != c.token {
		t.Errorf("resume returned another token")
	}
	if len(h.env.Ledger.Entries()) != before {
		t.Error("resume added a ledger entry")
	}
	a = h.login(map[string]string{"resume": "not-a-token"})
	if a.status != 401 || a.body["error"] != float64(403) {
		t.Errorf("bad resume: %d %s", a.status, a)
	}
}

func TestMeAndUnauthorizedShapes(t *testing.T) {
	h := newHarness(t, false)
	c := h.mustLogin("carol", CarolPassword, "")
	a := h.call("GET", "/api/v1/me", c, nil, nil)
	if a.status != 200 || a.body["success"] != true || a.body["_id"] != CarolID || a.body["username"] != "carol" {
		t.Fatalf("me: %d %s", a.status, a)
	}
	want := `{"error":"You must be logged in to do this.","message":"You must be logged in to do this.","status":"error","success":false}`
	for name, cr := range map[string]*creds{"none": nil, "bad token": {c.id, "wrong"}, "other user": {AliceID, c.token}} {
		a := h.call("GET", "/api/v1/me", cr, nil, nil)
		if a.status != 401 || a.raw != want {
			t.Errorf("%s: %d %s", name, a.status, a)
		}
	}
	// Sessions expire after 90 days; the seeded PAT does not.
	h.env.Clock.Advance(91 * 24 * time.Hour)
	if a := h.call("GET", "/api/v1/me", c, nil, nil); a.status != 401 {
		t.Errorf("expired session: %d", a.status)
	}
	if a := h.call("GET", "/api/v1/me", &creds{AliceID, AlicePAT}, nil, nil); a.status != 200 {
		t.Errorf("seeded PAT: %d", a.status)
	}
}

func TestLogoutDeletesTheTokenUsed(t *testing.T) {
	h := newHarness(t, false)
	c1 := h.mustLogin("carol", CarolPassword, "")
	c2 := h.mustLogin("carol", CarolPassword, "")
	a := h.call("POST", "/api/v1/logout", c1, nil, nil)
	if a.status != 200 || a.raw != "" {
		t.Fatalf("logout on a current server (7.4+) answers 200 with an empty body: %d %q", a.status, a.raw)
	}
	if a := h.call("GET", "/api/v1/me", c1, nil, nil); a.status != 401 {
		t.Errorf("token still works after logout: %d", a.status)
	}
	if a := h.call("GET", "/api/v1/me", c2, nil, nil); a.status != 200 {
		t.Errorf("the other session died: %d", a.status)
	}
	// With a PAT, logout deletes the PAT.
	pat := &creds{AliceID, AlicePAT}
	if a := h.call("POST", "/api/v1/logout", pat, nil, nil); a.status != 200 {
		t.Fatalf("logout with PAT: %d", a.status)
	}
	if a := h.call("GET", "/api/v1/me", pat, nil, nil); a.status != 401 {
		t.Errorf("PAT still works after logout: %d", a.status)
	}
	ac := h.mustLogin("alice", AlicePassword, h.aliceCode())
	if a := h.call("GET", "/api/v1/users.getPersonalAccessTokens", ac, nil, nil); len(a.body["tokens"].([]any)) != 0 {
		t.Errorf("PAT still listed: %s", a)
	}
}

func TestUsersLogoutWipesEverything(t *testing.T) {
	h := newHarness(t, false)
	c := h.mustLogin("alice", AlicePassword, h.aliceCode())
	a := h.call("POST", "/api/v1/users.logout", c, nil, map[string]string{})
	if a.status != 200 || a.body["message"] != "User "+AliceID+" has been logged out!" {
		t.Fatalf("users.logout: %d %s", a.status, a)
	}
	for _, cr := range []*creds{c, {AliceID, AlicePAT}} {
		if a := h.call("GET", "/api/v1/me", cr, nil, nil); a.status != 401 {
			t.Errorf("token survives users.logout: %d", a.status)
		}
	}
	// Another user needs logout-other-user.
	cc := h.mustLogin("carol", CarolPassword, "")
	if a := h.call("POST", "/api/v1/users.logout", cc, nil, map[string]string{"userId": BobID}); a.status != 403 {
		t.Errorf("carol logged bob out: %d", a.status)
	}
}

func TestPATWithPasswordFallback(t *testing.T) {
	h := newHarness(t, false)
	c := h.mustLogin("carol", CarolPassword, "")
	gen := func(hdr map[string]string, body any) answer {
		return h.call("POST", "/api/v1/users.generatePersonalAccessToken", c, hdr, body)
	}
	a := gen(nil, map[string]any{"tokenName": "cli", "bypassTwoFactor": false})
	wantError(t, a, 400, "totp-required")
	if a.body["error"] != "TOTP Required [totp-required]" {
		t.Errorf("error = %v", a.body["error"])
	}
	if d := details(t, a); d["method"] != "password" || d["codeGenerated"] != false || len(d["availableMethods"].([]any)) != 0 {
		t.Errorf("details = %v", d)
	}
	// Only the code header is not enough: both are needed.
	wantError(t, gen(map[string]string{"x-2fa-code": sum(CarolPassword)}, map[string]any{"tokenName": "cli"}), 400, "totp-required")
	// The plain password is not the code.
	wantError(t, gen(map[string]string{"x-2fa-code": CarolPassword, "x-2fa-method": "password"}, map[string]any{"tokenName": "cli"}), 400, "totp-invalid")
	// Upper-case hex is accepted (the server lower-cases the code).
	a = gen(map[string]string{"x-2fa-code": strings.ToUpper(sum(CarolPassword)), "x-2fa-method": "password"}, map[string]any{"tokenName": "cli", "bypassTwoFactor": false})
	if a.status != 200 || a.body["success"] != true {
		t.Fatalf("generate: %d %s", a.status, a)
	}
	tok := a.body["token"].(string)
	if len(tok) != 43 || !ledgerHas(h.env, "pat", tok) {
		t.Errorf("token of %d characters, in ledger: %v", len(tok), ledgerHas(h.env, "pat", tok))
	}
	// Remembered for 30 minutes on this token, User-Agent and address.
	if a := gen(nil, map[string]any{"tokenName": "cli"}); a.body["errorType"] != "error-token-already-exists" ||
		a.body["error"] != "A token with this name already exists [error-token-already-exists]" ||
		details(t, a)["method"] != "personalAccessTokens:generateToken" {
		t.Errorf("duplicate name: %s", a)
	}
	if a := gen(nil, map[string]any{}); a.status != 400 || a.raw != `{"error":"The 'tokenName' param is required","success":false}` {
		t.Errorf("missing name: %s", a)
	}
	h.ua = "another-agent/2"
	wantError(t, gen(nil, map[string]any{"tokenName": "cli2"}), 400, "totp-required")
	h.ua = "keyturn-test/1"
	if a := gen(nil, map[string]any{"tokenName": "cli2"}); a.status != 200 {
		t.Errorf("remembered: %d %s", a.status, a)
	}
	h.env.Clock.Advance(rememberFor + time.Second)
	wantError(t, gen(nil, map[string]any{"tokenName": "cli3"}), 400, "totp-required")

	a = h.call("GET", "/api/v1/users.getPersonalAccessTokens", c, nil, nil)
	list := a.body["tokens"].([]any)
	if len(list) != 2 {
		t.Fatalf("list: %s", a)
	}
	first := list[0].(map[string]any)
	if first["name"] != "cli" || first["lastTokenPart"] != tok[len(tok)-6:] || first["bypassTwoFactor"] != false {
		t.Errorf("listed %v %v %v", first["name"], first["lastTokenPart"] == tok[len(tok)-6:], first["bypassTwoFactor"])
	}
	if _, err := time.Parse(time.RFC3339, first["createdAt"].(string)); err != nil {
		t.Errorf("createdAt = %v", first["createdAt"])
	}
	// The PAT works, and is not stored in clear.
	if a := h.call("GET", "/api/v1/me", &creds{CarolID, tok}, nil, nil); a.status != 200 {
		t.Errorf("PAT does not work: %d", a.status)
	}
	for _, lt := range h.sim.userByID(CarolID).Tokens {
		if lt.Hashed == tok || strings.Contains(lt.Hashed, tok) {
			t.Error("a token is stored in clear")
		}
	}
}

func TestPATBypassTwoFactorAndRegenerate(t *testing.T) {
	h := newHarness(t, false)
	c := h.mustLogin("alice", AlicePassword, h.aliceCode())
	totp := map[string]string{"x-2fa-code": h.aliceCode(), "x-2fa-method": "totp"}
	a := h.call("POST", "/api/v1/users.generatePersonalAccessToken", c, totp, map[string]any{"tokenName": "bot", "bypassTwoFactor": true})
	if a.status != 200 {
		t.Fatalf("generate: %s", a)
	}
	bot := &creds{AliceID, a.body["token"].(string)}
	h.ua = "elsewhere/1" // nothing remembered for the PAT anyway
	// A bypass PAT skips the second factor; the seeded non-bypass one does not.
	if a := h.call("POST", "/api/v1/users.generatePersonalAccessToken", bot, nil, map[string]any{"tokenName": "from-bot"}); a.status != 200 {
		t.Errorf("bypass PAT was asked for 2FA: %s", a)
	}
	wantError(t, h.call("POST", "/api/v1/users.generatePersonalAccessToken", &creds{AliceID, AlicePAT}, nil, map[string]any{"tokenName": "x"}), 400, "totp-required")

	// Regenerate keeps the name and bypassTwoFactor; the old token dies.
	a = h.call("POST", "/api/v1/users.regeneratePersonalAccessToken", bot, nil, map[string]any{"tokenName": "bot"})
	if a.status != 200 {
		t.Fatalf("regenerate: %s", a)
	}
	newBot := &creds{AliceID, a.body["token"].(string)}
	if !ledgerHas(h.env, "pat", newBot.token) {
		t.Error("regenerated token not in the ledger")
	}
	if a := h.call("GET", "/api/v1/me", bot, nil, nil); a.status != 401 {
		t.Errorf("old token still works: %d", a.status)
	}
	a = h.call("GET", "/api/v1/users.getPersonalAccessTokens", newBot, nil, nil)
	found := false
	for _, x := range a.body["tokens"].([]any) {
		m := x.(map[string]any)
		if m["name"] == "bot" {
			found = m["bypassTwoFactor"] == true
		}
	}
	if !found {
		t.Errorf("regenerated token lost bypassTwoFactor: %s", a)
	}
	a = h.call("POST", "/api/v1/users.regeneratePersonalAccessToken", newBot, nil, map[string]any{"tokenName": "nope"})
	wantError(t, a, 400, "error-token-does-not-exists")
	if details(t, a)["method"] != "personalAccessTokens:regenerateToken" || a.body["error"] != "Token does not exist [error-token-does-not-exists]" {
		t.Errorf("regenerate missing: %s", a)
	}
	a = h.call("POST", "/api/v1/users.removePersonalAccessToken", newBot, nil, map[string]any{"tokenName": "nope"})
	wantError(t, a, 400, "error-token-does-not-exists")
	if details(t, a)["method"] != "personalAccessTokens:removeToken" {
		t.Errorf("remove missing: %s", a)
	}
	if a := h.call("POST", "/api/v1/users.removePersonalAccessToken", newBot, nil, map[string]any{"tokenName": AlicePATName}); a.status != 200 || a.raw != `{"success":true}` {
		t.Errorf("remove: %s", a)
	}
	if a := h.call("GET", "/api/v1/me", &creds{AliceID, AlicePAT}, nil, nil); a.status != 401 {
		t.Errorf("removed PAT still works: %d", a.status)
	}
}

func TestMethodHeaderChoice(t *testing.T) {
	h := newHarness(t, false)
	c := h.mustLogin("alice", AlicePassword, h.aliceCode())
	gen := func(hdr map[string]string) answer {
		return h.call("POST", "/api/v1/users.generatePersonalAccessToken", c, hdr, map[string]any{"tokenName": "t"})
	}
	// password does not override TOTP: the check falls back to totp.
	a := gen(map[string]string{"x-2fa-code": sum(AlicePassword), "x-2fa-method": "password"})
	wantError(t, a, 400, "totp-invalid")
	if details(t, a)["method"] != "totp" {
		t.Errorf("method = %v", details(t, a)["method"])
	}
	// email is honoured by name: a wrong code mails one.
	a = gen(map[string]string{"x-2fa-code": "1", "x-2fa-method": "email"})
	wantError(t, a, 400, "totp-invalid")
	if d := details(t, a); d["method"] != "email" || d["codeGenerated"] != true || d["emailOrUsername"] != "alice" {
		t.Errorf("details = %v", d)
	}
	if a := gen(map[string]string{"x-2fa-code": h.sim.LastEmailCode("alice"), "x-2fa-method": "email"}); a.status != 200 {
		t.Errorf("email code: %s", a)
	}
	// totp named for a user without TOTP fails as totp.
	b := h.mustLogin("carol", CarolPassword, "")
	a = h.call("POST", "/api/v1/users.generatePersonalAccessToken", b, map[string]string{"x-2fa-code": "123456", "x-2fa-method": "totp"}, map[string]any{"tokenName": "t"})
	wantError(t, a, 400, "totp-invalid")
	if d := details(t, a); d["method"] != "totp" {
		t.Errorf("details = %v", d)
	}
}

func TestPermissionDenied(t *testing.T) {
	h := newHarness(t, false)
	c := h.mustLogin("dave", DavePassword, "")
	want := `{"error":"User does not have the permissions required for this action [error-unauthorized]","success":false}`
	for _, p := range []struct{ method, path string }{
		{"POST", "/api/v1/users.generatePersonalAccessToken"},
		{"POST", "/api/v1/users.regeneratePersonalAccessToken"},
		{"GET", "/api/v1/users.getPersonalAccessTokens"},
		{"POST", "/api/v1/users.removePersonalAccessToken"},
	} {
		var body any
		if p.method == "POST" {
			body = map[string]any{"tokenName": "x"}
		}
		a := h.call(p.method, p.path, c, nil, body)
		if a.status != 403 || a.raw != want {
			t.Errorf("%s: %d %s", p.path, a.status, a)
		}
	}
}

func TestSendEmailCode(t *testing.T) {
	h := newHarness(t, false)
	a := h.call("POST", "/api/v1/users.2fa.sendEmailCode", nil, nil, map[string]string{})
	if a.status != 400 || a.raw != `{"error":"emailOrUsername is required [error-parameter-required]","errorType":"error-parameter-required","success":false}` {
		t.Errorf("missing: %d %s", a.status, a)
	}
	if a := h.call("POST", "/api/v1/users.2fa.sendEmailCode", nil, nil, map[string]string{"emailOrUsername": "ghost"}); a.status != 200 || len(h.sim.Outbox()) != 0 {
		t.Errorf("unknown user: %d, %d mails", a.status, len(h.sim.Outbox()))
	}
	h.call("POST", "/api/v1/users.2fa.sendEmailCode", nil, nil, map[string]string{"emailOrUsername": "bob@example.com"})
	first := h.sim.LastEmailCode("bob")
	h.call("POST", "/api/v1/users.2fa.sendEmailCode", nil, nil, map[string]string{"emailOrUsername": "bob"})
	second := h.sim.LastEmailCode("bob@example.com")
	if len(h.sim.Outbox()) != 2 || first == "" || second == "" {
		t.Fatalf("outbox has %d mails", len(h.sim.Outbox()))
	}
	// Only the fresh code works.
	if first != second {
		if a := h.login(map[string]string{"user": "bob", "password": BobPassword, "code": first}); a.body["error"] != "totp-invalid" {
			t.Errorf("replaced code accepted: %s", a)
		}
	}
	// Authenticated, the caller gets the code whatever the name.
	c := h.mustLogin("carol", CarolPassword, "")
	h.call("POST", "/api/v1/users.2fa.sendEmailCode", c, nil, map[string]string{"emailOrUsername": "bob"})
	if box := h.sim.Outbox(); box[len(box)-1].To != "carol@example.com" {
		t.Errorf("mailed %s", box[len(box)-1].To)
	}
}

func TestTOTPSetupLifecycle(t *testing.T) {
	h := newHarness(t, false)
	c := h.mustLogin("carol", CarolPassword, "")
	other := h.mustLogin("carol", CarolPassword, "")
	pw := map[string]string{"x-2fa-code": sum(CarolPassword), "x-2fa-method": "password"}
	wantError(t, h.call("POST", "/api/v1/users.enableTotp", c, nil, map[string]any{}), 400, "totp-required")
	a := h.call("POST", "/api/v1/users.enableTotp", c, pw, map[string]any{})
	if a.status != 200 {
		t.Fatalf("enableTotp: %s", a)
	}
	secret := a.body["secret"].(string)
	if a.body["url"] != "otpauth://totp/Rocket.Chat%3Acarol?secret="+secret {
		t.Errorf("url = %v", a.body["url"])
	}
	// Not on until validated.
	if me := h.call("GET", "/api/v1/me", c, nil, nil); me.body["services"].(map[string]any)["totp"] != nil {
		t.Error("totp on before validation")
	}
	var setup bool
	for _, code := range h.sim.Codes(h.env.Clock.Now()) {
		setup = setup || (code.Label == "rocketchat carol TOTP (setup)" && code.Code == simnet.TOTPCode(secret, h.env.Clock.Now()))
	}
	if !setup {
		t.Error("Codes has no setup code for carol")
	}
	a = h.call("POST", "/api/v1/users.validateTotp", c, nil, map[string]string{"code": "000000"})
	if a.status != 400 || a.raw != `{"error":"[invalid-totp]","errorType":"invalid-totp","success":false}` {
		t.Errorf("wrong code: %d %s", a.status, a)
	}
	a = h.call("POST", "/api/v1/users.validateTotp", c, nil, map[string]string{"code": simnet.TOTPCode(secret, h.env.Clock.Now())})
	if a.status != 200 {
		t.Fatalf("validateTotp: %s", a)
	}
	codes := a.body["codes"].([]any)
	if len(codes) != 12 || len(codes[0].(string)) != 8 {
		t.Errorf("%d backup codes", len(codes))
	}
	if a := h.call("GET", "/api/v1/me", other, nil, nil); a.status != 401 {
		t.Errorf("the other session survived validateTotp: %d", a.status)
	}
	me := h.call("GET", "/api/v1/me", c, nil, nil)
	if me.body["services"].(map[string]any)["totp"] == nil {
		t.Error("totp not on after validation")
	}
	// Login now wants the new TOTP.
	if a := h.login(map[string]string{"user": "carol", "password": CarolPassword}); a.body["error"] != "totp-required" {
		t.Errorf("login after setup: %s", a)
	}
	// Already on (the second factor is remembered on this token).
	a = h.call("POST", "/api/v1/users.enableTotp", c, nil, map[string]any{})
	if a.status != 400 || a.raw != `{"error":"[error-2fa-already-enabled]","errorType":"error-2fa-already-enabled","success":false}` {
		t.Errorf("enable again: %s", a)
	}
	if a := h.call("POST", "/api/v1/users.disableTotp", c, nil, map[string]string{"code": "000000"}); a.raw != `{"disabled":false,"success":true}` {
		t.Errorf("disable with wrong code: %s", a)
	}
	if a := h.call("POST", "/api/v1/users.disableTotp", c, nil, map[string]string{"code": codes[0].(string)}); a.raw != `{"disabled":true,"success":true}` {
		t.Errorf("disable with backup code: %s", a)
	}
	if a := h.call("POST", "/api/v1/users.disableTotp", c, nil, map[string]string{"code": "000000"}); a.body["disabled"] != false {
		t.Errorf("disable when off: %s", a)
	}
}

func TestEmail2FAToggle(t *testing.T) {
	h := newHarness(t, false)
	c := h.mustLogin("carol", CarolPassword, "")
	if a := h.call("POST", "/api/v1/users.2fa.enableEmail", c, nil, nil); a.status != 200 {
		t.Fatalf("enableEmail: %s", a)
	}
	// disableEmail always wants a code (no remember).
	a := h.call("POST", "/api/v1/users.2fa.disableEmail", c, nil, nil)
	wantError(t, a, 400, "totp-required")
	code := h.sim.LastEmailCode("carol")
	if a := h.call("POST", "/api/v1/users.2fa.disableEmail", c, map[string]string{"x-2fa-code": code, "x-2fa-method": "email"}, nil); a.status != 200 {
		t.Fatalf("disableEmail: %s", a)
	}
	if a := h.login(map[string]string{"user": "carol", "password": CarolPassword}); a.status != 200 {
		t.Errorf("login after disable: %s", a)
	}
}

func TestRateLimiter(t *testing.T) {
	h := newHarness(t, true)
	c := h.mustLogin("carol", CarolPassword, "")
	start := h.env.Clock.Now()
	for i := 1; i <= 10; i++ {
		a := h.call("GET", "/api/v1/me", c, nil, nil)
		if a.status != 200 {
			t.Fatalf("call %d: %d", i, a.status)
		}
		if a.header.Get("X-RateLimit-Limit") != "10" || a.header.Get("X-RateLimit-Remaining") != strconv.Itoa(10-i) {
			t.Errorf("call %d: limit %q remaining %q", i, a.header.Get("X-RateLimit-Limit"), a.header.Get("X-RateLimit-Remaining"))
		}
	}
	a := h.call("GET", "/api/v1/me", c, nil, nil)
	if a.status != 429 || !strings.Contains(a.body["error"].(string), "You must wait 60 seconds before trying this endpoint again. [error-too-many-requests]") {
		t.Fatalf("11th call: %d %s", a.status, a)
	}
	reset, _ := strconv.ParseInt(a.header.Get("X-RateLimit-Reset"), 10, 64)
	if d := time.UnixMilli(reset).Sub(start); d < 59*time.Second || d > 61*time.Second {
		t.Errorf("X-RateLimit-Reset is %s after the first call", d)
	}
	// Other routes have their own window; the admin is exempt.
	if a := h.call("GET", "/api/v1/users.getPersonalAccessTokens", c, nil, nil); a.status != 200 {
		t.Errorf("other route: %d", a.status)
	}
	admin := &creds{AliceID, AlicePAT}
	for i := 0; i < 15; i++ {
		if a := h.call("GET", "/api/v1/me", admin, nil, nil); a.status != 200 || a.header.Get("X-RateLimit-Limit") != "" {
			t.Fatalf("admin call %d: %d", i, a.status)
		}
	}
	h.env.Clock.Advance(rateLimitWindow)
	if a := h.call("GET", "/api/v1/me", c, nil, nil); a.status != 200 {
		t.Errorf("after the window: %d", a.status)
	}
	// Login is limited for everyone, per address.
	for i := 0; i < 10; i++ {
		h.login(map[string]string{"user": "alice", "password": "wrong"})
	}
	if a := h.login(map[string]string{"user": "alice", "password": AlicePassword}); a.status != 429 {
		t.Errorf("login 11: %d", a.status)
	}
	h.sim.SetRateLimit(false)
	for i := 0; i < 15; i++ {
		if a := h.call("GET", "/api/v1/me", c, nil, nil); a.status != 200 {
			t.Fatalf("limiter off, call %d: %d", i, a.status)
		}
	}
}

func TestFaultsKeepTheLedgerRight(t *testing.T) {
	h := newHarness(t, false)
	c := h.mustLogin("carol", CarolPassword, "")
	pw := map[string]string{"x-2fa-code": sum(CarolPassword), "x-2fa-method": "password"}
	h.env.Faults.Add(simnet.Rule{Path: "generatePersonalAccessToken", Fault: simnet.DropAfterApply, Times: 1})
	req, _ := http.NewRequest("POST", h.srv.URL+"/api/v1/users.generatePersonalAccessToken", strings.NewReader(`{"tokenName":"lost"}`))
	req.Header.Set("X-User-Id", c.id)
	req.Header.Set("X-Auth-Token", c.token)
	req.Header.Set("x-2fa-code", pw["x-2fa-code"])
	req.Header.Set("x-2fa-method", "password")
	if res, err := http.DefaultClient.Do(req); err == nil {
		res.Body.Close()
		t.Fatal("the connection was not dropped")
	}
	var n int
	for _, e := range h.env.Ledger.Entries() {
		if e.Kind == "pat" && e.ID == "lost" {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("ledger has %d entries for the dropped token", n)
	}
	a := h.call("GET", "/api/v1/users.getPersonalAccessTokens", c, nil, nil)
	if !strings.Contains(a.raw, `"name":"lost"`) {
		t.Errorf("the token created before the drop is not listed: %s", a)
	}
	h.env.Faults.Add(simnet.Rule{Path: "/login", Fault: simnet.ErrorAfterApply, Times: 1})
	before := len(h.env.Ledger.Entries())
	if a := h.login(map[string]string{"user": "carol", "password": CarolPassword}); a.status != 500 {
		t.Fatalf("login under fault: %d", a.status)
	}
	if after := len(h.env.Ledger.Entries()); after != before+1 {
		t.Errorf("ledger grew by %d for a login answered 500", after-before)
	}
}

func TestRoutingAndBodies(t *testing.T) {
	h := newHarness(t, false)
	if a := h.call("GET", "/api/v1/nope", nil, nil, nil); a.status != 404 {
		t.Errorf("unknown route: %d", a.status)
	}
	if a := h.call("GET", "/api/v1/login", nil, nil, nil); a.status != 404 {
		t.Errorf("GET login: %d", a.status)
	}
	if a := h.call("POST", "/api/v1/login", nil, nil, "{not json"); a.status != 400 || a.body["success"] != false {
		t.Errorf("bad JSON: %d %s", a.status, a)
	}
	if a := h.call("GET", "/api/info", nil, nil, nil); a.body["version"] != Version {
		t.Errorf("info: %s", a)
	}
}

func TestSeedsAndCodes(t *testing.T) {
	h := newHarness(t, false)
	b, err := json.Marshal(h.sim.Seeds())
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"username":"alice"`, AliceTOTP, `"username":"dave"`, `"canCreatePersonalAccessTokens":false`, AliceBackupCodes[0]} {
		if !bytes.Contains(b, []byte(want)) {
			t.Errorf("seeds lack %.12s…", want)
		}
	}
	now := h.env.Clock.Now()
	codes := h.sim.Codes(now)
	if len(codes) != 1 || codes[0].Label != "rocketchat alice TOTP" || codes[0].Code != simnet.TOTPCode(AliceTOTP, now) {
		t.Errorf("codes = %d entries", len(codes))
	}
	h.login(map[string]string{"user": "bob", "password": BobPassword})
	codes = h.sim.Codes(now)
	found := false
	for _, c := range codes {
		found = found || (c.Label == "rocketchat bob email code" && c.Code == h.sim.LastEmailCode("bob"))
	}
	if !found {
		t.Error("Codes lacks bob's email code")
	}
	if len(h.sim.LastEmailCode("nobody")) != 0 {
		t.Error("a code for nobody")
	}
	if fmt.Sprint(len(AlicePAT)) != "43" {
		t.Errorf("the seeded PAT has %d characters", len(AlicePAT))
	}
}

// Before 7.4 logout answered with a JSON body; the switch brings it back.
func TestOlderLogoutBody(t *testing.T) {
	h := newHarness(t, false)
	h.sim.SetOlderLogout(true)
	c := h.mustLogin("carol", CarolPassword, "")
	a := h.call("POST", "/api/v1/logout", c, nil, nil)
	if a.status != 200 || a.raw != `{"data":{"message":"You've been logged out!"},"status":"success"}` {
		t.Fatalf("older logout: %d %s", a.status, a)
	}
	if a := h.call("GET", "/api/v1/me", c, nil, nil); a.status != 401 {
		t.Errorf("token still works after logout: %d", a.status)
	}
}

// A server that does not remember a passed second factor asks again on
// the next call: a single-use e-mail code serves one call.
func TestForgetsSecondFactor(t *testing.T) {
	h := newHarness(t, false)
	h.sim.SetForgetsSecondFactor(true)
	h.login(map[string]string{"user": "bob", "password": BobPassword})
	c := h.mustLogin("bob", BobPassword, h.sim.LastEmailCode("bob"))
	gen := func(hdr map[string]string, name string) answer {
		return h.call("POST", "/api/v1/users.generatePersonalAccessToken", c, hdr, map[string]any{"tokenName": name})
	}
	wantError(t, gen(nil, "one"), 400, "totp-required")
	code := h.sim.LastEmailCode("bob")
	if a := gen(map[string]string{"x-2fa-code": code, "x-2fa-method": "email"}, "one"); a.status != 200 {
		t.Fatalf("first token with the code: %d %s", a.status, a)
	}
	wantError(t, gen(nil, "two"), 400, "totp-required")
	h.sim.SetForgetsSecondFactor(false)
	code = h.sim.LastEmailCode("bob")
	if a := gen(map[string]string{"x-2fa-code": code, "x-2fa-method": "email"}, "two"); a.status != 200 {
		t.Fatalf("second token: %d %s", a.status, a)
	}
	if a := gen(nil, "three"); a.status != 200 {
		t.Fatalf("a remembering server passes the next call: %d %s", a.status, a)
	}
}
