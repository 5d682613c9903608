package mattermostsim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"image/png"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"keyturn/sandbox/simnet"
)

// The sandbox is tested over raw HTTP: it must not lean on keyturn's
// client, so that a wire mistake in one is not mirrored by the other.

type harness struct {
	t   testing.TB
	env *simnet.Env
	s   *Server
	srv *httptest.Server
}

func start(t testing.TB) *harness {
	t.Helper()
	env := simnet.NewEnv()
	s := New(env)
	srv := httptest.NewServer(env.Faults.Wrap(s))
	t.Cleanup(srv.Close)
	return &harness{t: t, env: env, s: s, srv: srv}
}

type answer struct {
	status int
	header http.Header
	body   []byte
}

func (a answer) err() appError {
	var e appError
	_ = json.Unmarshal(a.body, &e)
	return e
}

func (a answer) decode(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(a.body, v); err != nil {
		t.Fatalf("answer (HTTP %d) is not the expected JSON: %v", a.status, err)
	}
}

// keys is the sorted field names of a JSON object answer.
func (a answer) keys(t testing.TB) []string {
	var m map[string]json.RawMessage
	a.decode(t, &m)
	var out []string
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

// call sends a request; body is JSON-encoded unless it is a string or nil;
// hdr are extra header name/value pairs.
func (h *harness) call(method, path, token string, body any, hdr ...string) answer {
	h.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		rd = strings.NewReader(b)
	default:
		data, _ := json.Marshal(b)
		rd = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, h.srv.URL+path, rd)
	if err != nil {
		h.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Add(hdr[i], hdr[i+1])
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return answer{status: resp.StatusCode, header: resp.Header, body: data}
}

// expectErr checks an error answer: status, id, message (when given), and
// that the request id is the X-Request-Id header.
func (h *harness) expectErr(a answer, status int, id, message string) {
	h.t.Helper()
	e := a.err()
	if a.status != status || e.ID != id || e.StatusCode != status {
		h.t.Fatalf("got HTTP %d %q, want %d %q", a.status, e.ID, status, id)
	}
	if message != "" && e.Message != message {
		h.t.Errorf("message %q, want %q", e.Message, message)
	}
	if e.RequestID == "" || e.RequestID != a.header.Get("X-Request-Id") || len(e.RequestID) != 26 {
		h.t.Errorf("request_id %q and X-Request-Id %q must be the same 26-char id", e.RequestID, a.header.Get("X-Request-Id"))
	}
	if a.header.Get("Content-Type") != "application/json" {
		h.t.Errorf("Content-Type %q", a.header.Get("Content-Type"))
	}
}

func (h *harness) login(user, password, code string) answer {
	h.t.Helper()
	body := map[string]string{"login_id": user, "password": password}
	if code != "" {
		body["token"] = code
	}
	return h.call("POST", "/api/v4/users/login", "", body)
}

// session logs in and returns the session token.
func (h *harness) session(user, password, secret string) string {
	h.t.Helper()
	code := ""
	if secret != "" {
		code = simnet.TOTPCode(secret, h.env.Clock.Now())
	}
	a := h.login(user, password, code)
	if a.status != 200 || a.header.Get("Token") == "" {
		h.t.Fatalf("login %s: HTTP %d %s", user, a.status, a.err().ID)
	}
	return a.header.Get("Token")
}

func (h *harness) admin() string { return h.session(AdminUsername, AdminPassword, AdminTOTPSecret) }

func (h *harness) next() { h.env.Clock.Advance(30 * time.Second) }

const (
	idInvalidCreds = "api.user.login.invalid_credentials_email_username"
	idMFARequired  = "mfa.validate_token.authenticate.app_error"
	idBadCode      = "api.user.check_user_mfa.bad_code.app_error"
	idLocked       = "api.user.check_user_login_attempts.too_many.app_error"
	idExpired      = "api.context.session_expired.app_error"
	idPermission   = "api.context.permissions.app_error"
	idNoCommand    = "store.sql_command.save.get.app_error"
	idNoToken      = "app.user_access_token.get_by_user.app_error"
	idBodyParam    = "api.context.invalid_body_param.app_error"
	msgBadMFA      = "Invalid MFA token."
)

func wrong(secret string, now time.Time) string {
	valid := map[string]bool{}
	for d := -3; d <= 3; d++ {
		valid[simnet.TOTPCode(secret, now.Add(time.Duration(d)*30*time.Second))] = true
	}
	for i := 0; ; i++ {
		c := fmt.Sprintf("%06d", (123457*i)%1000000)
		if !valid[c] {
			return c
		}
	}
}

func TestLoginPasswordThenTOTP(t *testing.T) {
	h := start(t)
	now := h.env.Clock.Now()
	h.expectErr(h.login("admin", "", ""), 400, "api.user.login.blank_pwd.app_error", "Password field must not be blank")
	h.expectErr(h.login("ghost", "nope", ""), 401, idInvalidCreds, "Enter a valid email or username and/or password.")
	h.expectErr(h.login("admin", "bad", ""), 401, idInvalidCreds, "")
	// A wrong password with a right code is still a wrong password.
	h.expectErr(h.login("admin", "bad", simnet.TOTPCode(AdminTOTPSecret, now)), 401, idInvalidCreds, "")
	h.expectErr(h.login("admin", AdminPassword, ""), 401, idMFARequired, msgBadMFA)
	h.expectErr(h.login("admin", AdminPassword, "abc"), 401, idMFARequired, msgBadMFA)
	h.expectErr(h.login("admin", AdminPassword, "12345678"), 401, idBadCode, msgBadMFA)
	h.expectErr(h.login("admin", AdminPassword, wrong(AdminTOTPSecret, now)), 401, idBadCode, msgBadMFA)
	// A code that is not a JSON string is dropped: the server sees no code.
	h.expectErr(h.call("POST", "/api/v4/users/login", "", `{"login_id":"admin","password":"`+AdminPassword+`","token":123456}`),
		401, idMFARequired, "")
	// Two steps old is outside the window.
	h.expectErr(h.login("admin", AdminPassword, simnet.TOTPCode(AdminTOTPSecret, now.Add(-60*time.Second))), 401, idBadCode, "")
	// One step old is inside it, and so is the current one, once each.
	prev := simnet.TOTPCode(AdminTOTPSecret, now.Add(-30*time.Second))
	cur := simnet.TOTPCode(AdminTOTPSecret, now)
	if a := h.login("admin", AdminPassword, prev); a.status != 200 {
		t.Fatalf("previous step refused: %s", a.err().ID)
	}
	if prev != cur {
		a := h.login("ADMIN", AdminPassword, " "+cur+" ")
		if a.status != 200 {
			t.Fatalf("current step refused: %s", a.err().ID)
		}
		var u map[string]any
		a.decode(t, &u)
		if u["mfa_active"] != true || u["username"] != "admin" || u["password"] != nil || u["mfa_secret"] != nil {
			t.Errorf("login body: mfa_active %v, leaks secret fields: %v", u["mfa_active"], u["password"] != nil || u["mfa_secret"] != nil)
		}
		if len(a.header.Get("Token")) != 26 || a.header.Get("X-Version-Id") == "" || a.header.Get("Set-Cookie") != "" {
			t.Errorf("login headers: token length %d, cookies %q", len(a.header.Get("Token")), a.header.Get("Set-Cookie"))
		}
	}
	h.expectErr(h.login("admin", AdminPassword, cur), 401, idBadCode, "")
	h.expectErr(h.login("admin", AdminPassword, prev), 401, idBadCode, "")
}

func TestLoginBodyShape(t *testing.T) {
	h := start(t)
	a := h.login("bob", BobPassword, "")
	want := []string{"auth_service", "create_at", "delete_at", "disable_welcome_email", "email", "email_verified", "first_name", "id",
		"last_name", "last_password_update", "locale", "nickname", "notify_props", "position", "remote_id", "roles", "timezone", "update_at", "username"}
	if got := a.keys(t); !reflect.DeepEqual(got, want) {
		t.Errorf("user keys %v, want the recorded %v", got, want)
	}
	// By email and by id too.
	if a := h.login(BobEmail, BobPassword, ""); a.status != 200 {
		t.Errorf("login by email: %d", a.status)
	}
	if a := h.call("POST", "/api/v4/users/login", "", map[string]string{"id": BobID, "password": BobPassword}); a.status != 200 {
		t.Errorf("login by id: %d", a.status)
	}
}

func TestLockout(t *testing.T) {
	h := start(t)
	now := h.env.Clock.Now()
	// Missing codes do not count; wrong passwords and wrong codes do.
	for i := 0; i < 20; i++ {
		h.expectErr(h.login("admin", AdminPassword, ""), 401, idMFARequired, "")
	}
	for i := 0; i < 5; i++ {
		h.expectErr(h.login("admin", "nope", ""), 401, idInvalidCreds, "")
		h.expectErr(h.login("admin", AdminPassword, wrong(AdminTOTPSecret, now)), 401, idBadCode, "")
	}
	h.expectErr(h.login("admin", AdminPassword, simnet.TOTPCode(AdminTOTPSecret, now)), 401, idLocked,
		"Your account is locked because of too many failed password attempts. Please reset your password.")

	// Below the limit, a success resets the count.
	for i := 0; i < 9; i++ {
		h.expectErr(h.login("bob", "nope", ""), 401, idInvalidCreds, "")
	}
	h.session("bob", BobPassword, "")
	for i := 0; i < 9; i++ {
		h.expectErr(h.login("bob", "nope", ""), 401, idInvalidCreds, "")
	}
	h.session("bob", BobPassword, "")

	h.s.Configure(func(s *Settings) { s.MaximumLoginAttempts = 2 })
	h.expectErr(h.login("alice", "x", ""), 401, idInvalidCreds, "")
	h.expectErr(h.login("alice", "x", ""), 401, idInvalidCreds, "")
	h.expectErr(h.login("alice", AlicePassword, ""), 401, idLocked, "")
}

func TestSessionsAndAuthHeaders(t *testing.T) {
	h := start(t)
	tok := h.session("bob", BobPassword, "")
	if a := h.call("GET", "/api/v4/users/me", "", nil, "Authorization", "bearer "+tok); a.status != 200 {
		t.Errorf("lower-case bearer: %d", a.status)
	}
	if a := h.call("GET", "/api/v4/users/me", "", nil, "Authorization", "Token "+tok); a.status != 200 {
		t.Errorf("Token scheme: %d", a.status)
	}
	h.expectErr(h.call("GET", "/api/v4/users/me", "", nil), 401, idExpired, "Invalid or expired session, please login again.")
	h.expectErr(h.call("GET", "/api/v4/users/me", "bogus", nil), 401, idExpired, "")
	h.expectErr(h.call("GET", "/api/v4/users/me?access_token="+tok, "", nil), 401, "api.context.token_provided.app_error",
		"Session is not OAuth but token was provided in the query string.")
	// A cookie wins over the header; on a POST it needs the CSRF header.
	ck := "MMAUTHTOKEN=" + tok
	if a := h.call("GET", "/api/v4/users/me", "garbage", nil, "Cookie", ck); a.status != 200 {
		t.Errorf("cookie did not win over a bad bearer: %d", a.status)
	}
	admin := h.admin()
	h.expectErr(h.call("GET", "/api/v4/users/me/teams", admin, nil, "Cookie", "MMAUTHTOKEN=bogus"), 401, idExpired, "")
	h.expectErr(h.call("POST", "/api/v4/users/me/tokens", "", map[string]string{"description": "x"}, "Cookie", ck), 401, idExpired, "")
	h.expectErr(h.call("POST", "/api/v4/users/me/tokens", "", map[string]string{"description": "x"}, "Cookie", ck, "X-Requested-With", "XMLHttpRequest"),
		403, idPermission, "")
	// A browser login sets the cookies.
	h.next()
	a := h.call("POST", "/api/v4/users/login", "", map[string]string{"login_id": "alice", "password": AlicePassword}, "X-Requested-With", "XMLHttpRequest")
	names := map[string]string{}
	for _, c := range (&http.Response{Header: a.header}).Cookies() {
		names[c.Name] = c.Value
	}
	if names["MMAUTHTOKEN"] != a.header.Get("Token") || names["MMUSERID"] != AliceID || names["MMCSRF"] == "" {
		t.Errorf("browser login cookies wrong (%d set)", len(names))
	}
	if b := h.call("POST", "/api/v4/users/me/tokens", "", map[string]string{"description": "csrf"},
		"Cookie", "MMAUTHTOKEN="+names["MMAUTHTOKEN"], "X-CSRF-Token", names["MMCSRF"]); b.status != 200 {
		t.Errorf("cookie POST with X-CSRF-Token: %d", b.status)
	}

	// Sessions expire after 30 days.
	h.env.Clock.Advance(29 * 24 * time.Hour)
	if a := h.call("GET", "/api/v4/users/me", tok, nil); a.status != 200 {
		t.Errorf("session dead after 29 days: %d", a.status)
	}
	h.env.Clock.Advance(2 * 24 * time.Hour)
	h.expectErr(h.call("GET", "/api/v4/users/me", tok, nil), 401, idExpired, "")

	// Logout ends a session, answers OK without one.
	tok = h.session("bob", BobPassword, "")
	for _, tk := range []string{tok, ""} {
		a := h.call("POST", "/api/v4/users/logout", tk, nil)
		if a.status != 200 || string(a.body) != `{"status":"OK"}` {
			t.Errorf("logout: %d %s", a.status, a.body)
		}
	}
	h.expectErr(h.call("GET", "/api/v4/users/me", tok, nil), 401, idExpired, "")
}

func TestRouteNotFound(t *testing.T) {
	h := start(t)
	admin := h.admin()
	cmd := h.s.Seeds().(Seed).Commands[0].ID
	hook := h.s.Seeds().(Seed).OutgoingWebhooks[0].ID
	for _, r := range []struct{ method, path string }{
		{"GET", "/api/v4/nope"},
		{"POST", "/api/v4/commands/" + cmd + "/regen_token"},
		{"PUT", "/api/v4/hooks/outgoing/" + hook + "/regen_token"},
		{"GET", "/api/v4/users/me/"},
		{"GET", "/api/v4/users/a.b"},
		{"GET", "/"},
	} {
		a := h.call(r.method, r.path, admin, nil)
		want := `{"id":"api.context.404.app_error","message":"Sorry, we could not find the page.","detailed_error":"There doesn't appear to be an api call for the url='` +
			r.path + `'.  Typo? are you missing a team_id or user_id as part of the url?","status_code":404}`
		if a.status != 404 || string(a.body) != want {
			t.Errorf("%s %s: %d %s", r.method, r.path, a.status, a.body)
		}
		if a.header.Get("X-Request-Id") != "" {
			t.Errorf("%s %s: a routing 404 has no X-Request-Id", r.method, r.path)
		}
	}
}

func TestPermissionsOfAPlainUser(t *testing.T) {
	h := start(t)
	bob := h.session("bob", BobPassword, "")
	alice := h.session("alice", AlicePassword, "")
	seed := h.s.Seeds().(Seed)
	cmd, hook := seed.Commands[0].ID, seed.OutgoingWebhooks[0].ID

	h.expectErr(h.call("GET", "/api/v4/commands?team_id="+TeamID+"&custom_only=true", bob, nil), 403, idPermission,
		"You do not have the appropriate permissions.")
	h.expectErr(h.call("GET", "/api/v4/commands/"+cmd, bob, nil), 404, idNoCommand, "Unable to get the command.")
	h.expectErr(h.call("PUT", "/api/v4/commands/"+cmd+"/regen_token", bob, nil), 404, idNoCommand, "")
	h.expectErr(h.call("POST", "/api/v4/commands", bob, map[string]any{"team_id": TeamID, "trigger": "x", "method": "P", "url": "https://a.b/c"}), 403, idPermission, "")
	h.expectErr(h.call("POST", "/api/v4/hooks/outgoing/"+hook+"/regen_token", bob, nil), 403, idPermission, "")
	h.expectErr(h.call("GET", "/api/v4/hooks/outgoing/"+hook, bob, nil), 403, idPermission, "")
	h.expectErr(h.call("GET", "/api/v4/hooks/outgoing?team_id="+TeamID, bob, nil), 403, idPermission, "")
	h.expectErr(h.call("GET", "/api/v4/hooks/outgoing?channel_id="+TownSquareID, bob, nil), 403, idPermission, "")
	h.expectErr(h.call("POST", "/api/v4/users/"+BobID+"/tokens", bob, map[string]string{"description": "bob"}), 403, idPermission, "")
	h.expectErr(h.call("GET", "/api/v4/users/me/tokens", bob, nil), 403, idPermission, "")
	h.expectErr(h.call("POST", "/api/v4/users/"+AdminID+"/mfa/generate", bob, nil), 403, idPermission, "")
	h.expectErr(h.call("PUT", "/api/v4/users/"+AdminID+"/mfa", bob, map[string]any{"activate": false}), 403, idPermission, "")
	h.expectErr(h.call("GET", "/api/v4/users/"+AdminID+"/teams", bob, nil), 403, idPermission, "")
	h.expectErr(h.call("GET", "/api/v4/users/tokens", alice, nil), 403, idPermission, "")
	h.expectErr(h.call("GET", "/api/v4/hooks/outgoing", alice, nil), 403, idPermission, "")
	h.expectErr(h.call("POST", "/api/v4/users/"+AdminID+"/tokens", alice, map[string]string{"description": "x"}), 403, idPermission, "")
	// Without custom_only a plain member sees only the built-in commands.
	a := h.call("GET", "/api/v4/commands?team_id="+TeamID, bob, nil)
	var cmds []map[string]any
	a.decode(t, &cmds)
	if a.status != 200 || len(cmds) < 20 {
		t.Fatalf("built-ins: %d, %d", a.status, len(cmds))
	}
	for _, c := range cmds {
		if c["id"] != "" || c["token"] != "" {
			t.Errorf("a plain member saw a custom command or token")
		}
	}
	// Bob's own team list and user are fine.
	if a := h.call("GET", "/api/v4/users/me/teams", bob, nil); a.status != 200 || !strings.Contains(string(a.body), `"name":"ops"`) {
		t.Errorf("bob's teams: %d %s", a.status, a.body)
	}
	if a := h.call("GET", "/api/v4/users/"+AliceID, bob, nil); a.status != 200 {
		t.Errorf("get user: %d", a.status)
	}

	admin := h.admin()
	h.expectErr(h.call("POST", "/api/v4/users/aaaaaaaaaaaaaaaaaaaaaaaaaa/mfa/generate", admin, nil), 404, "app.user.missing_account.const", "Unable to find the user.")
	h.expectErr(h.call("POST", "/api/v4/users/xyz/mfa/generate", admin, nil), 400, "api.context.invalid_url_param.app_error",
		"Invalid or missing user_id parameter in request URL.")
	h.expectErr(h.call("GET", "/api/v4/users/aaaaaaaaaaaaaaaaaaaaaaaaaa", admin, nil), 404, "app.user.missing_account.const", "")
	h.expectErr(h.call("GET", "/api/v4/commands/xyz", admin, nil), 400, "api.context.invalid_url_param.app_error",
		"Invalid or missing command_id parameter in request URL.")
}

func TestQRCodeMatchesTheRealServer(t *testing.T) {
	want, err := os.ReadFile("testdata/mfa-generate-qr.png")
	if err != nil {
		t.Fatal(err)
	}
	u := OTPAuthURL("http://127.0.0.1:8065", "admin@example.com", "NNBGKJZQLIF6IVTTDANEOV6YJOZZPMTA")
	if u != "otpauth://totp/127.0.0.1%3A8065:admin@example.com?secret=NNBGKJZQLIF6IVTTDANEOV6YJOZZPMTA&issuer=127.0.0.1%3A8065" {
		t.Fatalf("otpauth URL %q", u)
	}
	got, err := QRCodePNG(u)
	if err != nil || !bytes.Equal(got, want) {
		t.Fatalf("QR code differs from the recorded one (%v)", err)
	}
	for site, issuer := range map[string]string{"": "Mattermost", "https://www.x.example": "x.example", "https://x.example/mm": "x.example%2Fmm"} {
		if got := OTPAuthURL(site, "e", "S"); got != "otpauth://totp/"+issuer+":e?secret=S&issuer="+issuer {
			t.Errorf("OTPAuthURL(%q) = %q", site, got)
		}
	}
}

func TestMFASetup(t *testing.T) {
	h := start(t)
	alice := h.session("alice", AlicePassword, "")
	mfa := "/api/v4/users/" + AliceID + "/mfa"
	h.expectErr(h.call("PUT", mfa, alice, map[string]any{"activate": true, "code": "123456"}), 401, "mfa.activate.bad_token.app_error", msgBadMFA)
	h.expectErr(h.call("PUT", mfa, alice, map[string]any{"activate": true}), 400, idBodyParam, "Invalid or missing code in request body.")
	h.expectErr(h.call("PUT", mfa, alice, map[string]any{"activate": "true", "code": "123456"}), 400, idBodyParam, "Invalid or missing activate in request body.")
	h.expectErr(h.call("PUT", mfa, alice, "not json"), 400, idBodyParam, "Invalid or missing activate in request body.")

	a := h.call("POST", "/api/v4/users/me/mfa/generate", alice, nil)
	if a.status != 200 || a.header.Get("Cache-Control") != "no-cache" {
		t.Fatalf("generate: %d", a.status)
	}
	var gen struct {
		Secret string `json:"secret"`
		QRCode string `json:"qr_code"`
	}
	a.decode(t, &gen)
	if len(gen.Secret) != 32 || strings.Trim(gen.Secret, "ABCDEFGHIJKLMNOPQRSTUVWXYZ234567") != "" {
		t.Errorf("secret is not 32 base32 characters")
	}
	pngBytes, _ := base64.StdEncoding.DecodeString(gen.QRCode)
	img, err := png.Decode(bytes.NewReader(pngBytes))
	if err != nil || img.Bounds().Dx() < 200 {
		t.Fatalf("QR code is not a PNG: %v", err)
	}
	host := strings.TrimPrefix(h.srv.URL, "http://")
	want, _ := QRCodePNG(OTPAuthURL(h.srv.URL, AliceEmail, gen.Secret))
	if !bytes.Equal(pngBytes, want) || !strings.Contains(OTPAuthURL(h.srv.URL, AliceEmail, gen.Secret), strings.ReplaceAll(host, ":", "%3A")) {
		t.Errorf("QR code does not hold the otpauth URL with the server's host as issuer")
	}
	if h.s.TOTPSecret("alice") != gen.Secret {
		t.Errorf("TOTPSecret does not follow the generate")
	}
	now := h.env.Clock.Now()
	h.expectErr(h.call("PUT", mfa, alice, map[string]any{"activate": true, "code": wrong(gen.Secret, now)}), 401, "mfa.activate.bad_token.app_error", "")
	act := simnet.TOTPCode(gen.Secret, now)
	if a := h.call("PUT", mfa, alice, map[string]any{"activate": true, "code": act}); a.status != 200 || string(a.body) != `{"status":"OK"}` {
		t.Fatalf("activate: %d %s", a.status, a.body)
	}
	var me map[string]any
	h.call("GET", "/api/v4/users/me", alice, nil).decode(t, &me)
	if me["mfa_active"] != true {
		t.Error("mfa_active not set")
	}
	h.expectErr(h.login("alice", AlicePassword, ""), 401, idMFARequired, "")
	h.expectErr(h.login("alice", AlicePassword, act), 401, idBadCode, "")
	h.next()
	alice2 := h.session("alice", AlicePassword, gen.Secret)

	// Generating again while active replaces the secret.
	var gen2 struct {
		Secret string `json:"secret"`
	}
	h.call("POST", "/api/v4/users/me/mfa/generate", alice2, nil).decode(t, &gen2)
	if gen2.Secret == "" || gen2.Secret == gen.Secret {
		t.Fatal("second generate did not replace the secret")
	}
	h.next()
	h.expectErr(h.login("alice", AlicePassword, simnet.TOTPCode(gen.Secret, h.env.Clock.Now())), 401, idBadCode, "")
	h.session("alice", AlicePassword, gen2.Secret)

	// Deactivation needs no code; then login needs none.
	if a := h.call("PUT", mfa, alice2, map[string]any{"activate": false}); a.status != 200 {
		t.Fatalf("deactivate: %d", a.status)
	}
	h.session("alice", AlicePassword, "")
	if h.s.TOTPSecret("alice") != "" || h.s.TOTPSecret("nobody") != "" {
		t.Error("secret kept after deactivation")
	}

	// An admin may generate for someone else; MFA off answers 501.
	admin := h.admin()
	if a := h.call("POST", "/api/v4/users/"+BobID+"/mfa/generate", admin, nil); a.status != 200 {
		t.Errorf("admin generate for bob: %d", a.status)
	}
	h.s.Configure(func(s *Settings) { s.EnableMultifactorAuthentication = false })
	h.expectErr(h.call("POST", "/api/v4/users/me/mfa/generate", admin, nil), 501, "mfa.mfa_disabled.app_error",
		"Multi-factor authentication has been disabled on this server.")
	h.expectErr(h.call("PUT", "/api/v4/users/me/mfa", admin, map[string]any{"activate": false}), 501, "mfa.mfa_disabled.app_error", "")
	h.session("admin", AdminPassword, "") // MFA off server-wide: no code asked
}

func TestCommands(t *testing.T) {
	h := start(t)
	admin := h.admin()
	create := func(body map[string]any) answer { return h.call("POST", "/api/v4/commands", admin, body) }
	a := create(map[string]any{"team_id": TeamID, "trigger": "Rotate", "method": "P", "url": "http://127.0.0.1:9/hook", "display_name": "Rotate", "description": "d"})
	if a.status != 201 {
		t.Fatalf("create: %d %s", a.status, a.err().ID)
	}
	wantKeys := []string{"auto_complete", "auto_complete_desc", "auto_complete_hint", "create_at", "creator_id", "delete_at", "description",
		"display_name", "icon_url", "id", "method", "plugin_id", "team_id", "token", "trigger", "update_at", "url", "username"}
	if got := a.keys(t); !reflect.DeepEqual(got, wantKeys) {
		t.Errorf("command keys %v", got)
	}
	var c command
	a.decode(t, &c)
	if c.Trigger != "rotate" || c.CreatorID != AdminID || len(c.Token) != 26 || len(c.ID) != 26 {
		t.Errorf("created command: trigger %q creator %q, token/id lengths %d/%d", c.Trigger, c.CreatorID, len(c.Token), len(c.ID))
	}
	h.expectErr(create(map[string]any{"team_id": TeamID, "trigger": "rotate", "method": "P", "url": "http://127.0.0.1:9/hook"}), 400,
		"api.command.duplicate_trigger.app_error", "This trigger word is already in use. Please choose another word.")
	h.expectErr(create(map[string]any{"team_id": TeamID, "trigger": "echo", "method": "P", "url": "http://127.0.0.1:9/hook"}), 400,
		"api.command.duplicate_trigger.app_error", "")
	h.expectErr(create(map[string]any{"team_id": TeamID, "trigger": "rot2", "method": "POST", "url": "http://127.0.0.1:9/hook"}), 400,
		"model.command.is_valid.method.app_error", "Invalid Method.")
	h.expectErr(create(map[string]any{"team_id": TeamID, "trigger": "rot3", "method": "P", "url": "nope"}), 400, "model.command.is_valid.url.app_error", "")
	h.expectErr(create(map[string]any{"team_id": TeamID, "trigger": "/rot4", "method": "P", "url": "https://a.b/c"}), 400, "model.command.is_valid.trigger.app_error", "")
	h.expectErr(create(map[string]any{"team_id": "short", "trigger": "rot5", "method": "P", "url": "https://a.b/c"}), 400, "model.command.is_valid.team_id.app_error", "")
	h.expectErr(h.call("POST", "/api/v4/commands", admin, "{"), 400, idBodyParam, "Invalid or missing command in request body.")
	h.expectErr(h.call("GET", "/api/v4/commands", admin, nil), 400, idBodyParam, "Invalid or missing team_id in request body.")

	// Regen is PUT and answers only the token.
	a = h.call("PUT", "/api/v4/commands/"+c.ID+"/regen_token", admin, nil)
	if a.status != 200 || !reflect.DeepEqual(a.keys(t), []string{"token"}) {
		t.Fatalf("regen: %d %v", a.status, a.keys(t))
	}
	var regen struct{ Token string }
	a.decode(t, &regen)
	var got command
	h.call("GET", "/api/v4/commands/"+c.ID, admin, nil).decode(t, &got)
	if regen.Token == c.Token || got.Token != regen.Token || got.UpdateAt < c.UpdateAt {
		t.Errorf("regen did not replace the token")
	}
	var list []command
	h.call("GET", "/api/v4/commands?team_id="+TeamID+"&custom_only=true", admin, nil).decode(t, &list)
	if len(list) != 4 || list[3].Token != regen.Token {
		t.Errorf("custom list: %d", len(list))
	}
	h.expectErr(h.call("PUT", "/api/v4/commands/aaaaaaaaaaaaaaaaaaaaaaaaaa/regen_token", admin, nil), 404, idNoCommand, "")

	// Alice is a team admin: she manages admin's commands too.
	alice := h.session("alice", AlicePassword, "")
	if a := h.call("PUT", "/api/v4/commands/"+c.ID+"/regen_token", alice, nil); a.status != 200 {
		t.Errorf("team admin regen: %d", a.status)
	}

	h.s.Configure(func(s *Settings) { s.EnableCommands = false })
	h.expectErr(h.call("GET", "/api/v4/commands?team_id="+TeamID+"&custom_only=true", admin, nil), 501, "api.command.disabled.app_error",
		"Commands have been disabled by the system admin.")
	h.expectErr(h.call("PUT", "/api/v4/commands/"+c.ID+"/regen_token", admin, nil), 404, idNoCommand, "")
	h.expectErr(create(map[string]any{"team_id": TeamID, "trigger": "x1", "method": "P", "url": "https://a.b/c"}), 501, "api.command.disabled.app_error", "")
}

func TestOutgoingWebhooks(t *testing.T) {
	h := start(t)
	admin := h.admin()
	body := map[string]any{"team_id": TeamID, "channel_id": TownSquareID, "display_name": "out", "trigger_words": []string{"deploy"},
		"trigger_when": 0, "callback_urls": []string{"http://127.0.0.1:9/cb"}, "content_type": "application/json"}
	a := h.call("POST", "/api/v4/hooks/outgoing", admin, body)
	if a.status != 201 {
		t.Fatalf("create: %d %s", a.status, a.err().ID)
	}
	wantKeys := []string{"callback_urls", "channel_id", "content_type", "create_at", "creator_id", "delete_at", "description", "display_name",
		"icon_url", "id", "team_id", "token", "trigger_when", "trigger_words", "update_at", "username"}
	if got := a.keys(t); !reflect.DeepEqual(got, wantKeys) {
		t.Errorf("hook keys %v", got)
	}
	var hk outgoingHook
	a.decode(t, &hk)

	// Regen is POST and answers the whole hook.
	a = h.call("POST", "/api/v4/hooks/outgoing/"+hk.ID+"/regen_token", admin, nil)
	var regen outgoingHook
	a.decode(t, &regen)
	if a.status != 200 || regen.ID != hk.ID || regen.Token == hk.Token || !reflect.DeepEqual(regen.TriggerWords, hk.TriggerWords) {
		t.Fatalf("regen: %d", a.status)
	}
	h.expectErr(h.call("POST", "/api/v4/hooks/outgoing/aaaaaaaaaaaaaaaaaaaaaaaaaa/regen_token", admin, nil), 404,
		"app.webhooks.get_outgoing.app_error", "Unable to get the webhook.")
	var got outgoingHook
	h.call("GET", "/api/v4/hooks/outgoing/"+hk.ID, admin, nil).decode(t, &got)
	if got.Token != regen.Token {
		t.Error("GET shows the old token")
	}

	// Paging.
	var page []outgoingHook
	h.call("GET", "/api/v4/hooks/outgoing?team_id="+TeamID+"&page=2&per_page=1", admin, nil).decode(t, &page)
	if len(page) != 1 || page[0].ID != hk.ID {
		t.Errorf("page 2 of 1: %d hooks", len(page))
	}
	h.call("GET", "/api/v4/hooks/outgoing?team_id="+TeamID+"&page=3&per_page=1", admin, nil).decode(t, &page)
	if len(page) != 0 {
		t.Errorf("page past the end: %d", len(page))
	}
	for _, q := range []string{"channel_id=" + TownSquareID, "", "team_id=" + TeamID + "&page=x&per_page=-1"} {
		var all []outgoingHook
		h.call("GET", "/api/v4/hooks/outgoing?"+q, admin, nil).decode(t, &all)
		if len(all) != 3 {
			t.Errorf("list %q: %d", q, len(all))
		}
	}

	h.expectErr(h.call("POST", "/api/v4/hooks/outgoing", admin, map[string]any{"team_id": TeamID, "callback_urls": []string{"https://a.b/c"}}), 400,
		"api.webhooks.create_outgoing.triggers.app_error", "Either trigger_words or channel_id must be set")
	h.expectErr(h.call("POST", "/api/v4/hooks/outgoing", admin, map[string]any{"team_id": TeamID, "trigger_words": []string{"x"}}), 400,
		"model.outgoing_hook.is_valid.callback.app_error", "")
	h.expectErr(h.call("POST", "/api/v4/hooks/outgoing", admin, map[string]any{"team_id": TeamID, "trigger_words": []string{"x"}, "callback_urls": []string{"ftp://x"}}), 400,
		"model.outgoing_hook.is_valid.callback.app_error", "")
	h.expectErr(h.call("POST", "/api/v4/hooks/outgoing", admin, map[string]any{"team_id": TeamID, "channel_id": "aaaaaaaaaaaaaaaaaaaaaaaaaa",
		"callback_urls": []string{"https://a.b/c"}}), 404, "app.channel.get.existing.app_error", "")
	h.expectErr(h.call("POST", "/api/v4/hooks/outgoing", admin, "["), 400, idBodyParam, "Invalid or missing outgoing_webhook in request body.")

	h.s.Configure(func(s *Settings) { s.EnableOutgoingWebhooks = false })
	h.expectErr(h.call("POST", "/api/v4/hooks/outgoing/"+hk.ID+"/regen_token", admin, nil), 501, "api.outgoing_webhook.disabled.app_error",
		"Outgoing webhooks have been disabled by the system admin.")
	h.expectErr(h.call("GET", "/api/v4/hooks/outgoing?team_id="+TeamID, admin, nil), 501, "api.outgoing_webhook.disabled.app_error", "")
}

func TestUserAccessTokens(t *testing.T) {
	h := start(t)
	alice := h.session("alice", AlicePassword, "")
	tokens := "/api/v4/users/" + AliceID + "/tokens"
	h.expectErr(h.call("POST", tokens, alice, map[string]string{"description": ""}), 400, idBodyParam, "Invalid or missing description in request body.")
	h.expectErr(h.call("POST", tokens, alice, nil), 400, idBodyParam, "Invalid or missing user_access_token in request body.")
	a := h.call("POST", tokens, alice, map[string]string{"description": "rotation-1"})
	if a.status != 200 || !reflect.DeepEqual(a.keys(t), []string{"description", "expires_at", "id", "is_active", "token", "user_id"}) {
		t.Fatalf("create: %d %v", a.status, a.keys(t))
	}
	var pat accessToken
	a.decode(t, &pat)

	a = h.call("GET", tokens+"?page=0&per_page=2", alice, nil)
	var list []map[string]any
	a.decode(t, &list)
	if len(list) != 1 || list[0]["token"] != nil || list[0]["id"] != pat.ID {
		t.Errorf("list: %d tokens, or one shows its secret or the wrong id", len(list))
	}
	a = h.call("GET", "/api/v4/users/tokens/"+pat.ID, alice, nil)
	if !reflect.DeepEqual(a.keys(t), []string{"description", "expires_at", "id", "is_active", "user_id"}) {
		t.Errorf("get shows %v", a.keys(t))
	}
	if a := h.call("GET", "/api/v4/users/me", pat.Token, nil); a.status != 200 {
		t.Fatalf("PAT session: %d", a.status)
	}
	// PAT sessions may make PATs and generate MFA secrets.
	if a := h.call("POST", "/api/v4/users/me/tokens", pat.Token, map[string]string{"description": "made-by-pat"}); a.status != 200 {
		t.Errorf("PAT making a PAT: %d", a.status)
	}
	if a := h.call("POST", "/api/v4/users/me/mfa/generate", pat.Token, nil); a.status != 200 {
		t.Errorf("PAT generating MFA: %d", a.status)
	}
	// Logging out with a PAT leaves it working.
	h.call("POST", "/api/v4/users/logout", pat.Token, nil)
	if a := h.call("GET", "/api/v4/users/me", pat.Token, nil); a.status != 200 {
		t.Errorf("PAT after logout: %d", a.status)
	}
	tid := map[string]string{"token_id": pat.ID}
	if a := h.call("POST", "/api/v4/users/tokens/disable", alice, tid); a.status != 200 {
		t.Fatalf("disable: %d", a.status)
	}
	h.expectErr(h.call("GET", "/api/v4/users/me", pat.Token, nil), 401, idExpired, "")
	var got accessToken
	h.call("GET", "/api/v4/users/tokens/"+pat.ID, alice, nil).decode(t, &got)
	if got.IsActive {
		t.Error("is_active after disable")
	}
	if a := h.call("POST", "/api/v4/users/tokens/enable", alice, tid); a.status != 200 {
		t.Fatalf("enable: %d", a.status)
	}
	if a := h.call("GET", "/api/v4/users/me", pat.Token, nil); a.status != 200 {
		t.Errorf("after enable: %d", a.status)
	}
	// Bob may not touch alice's token.
	bob := h.session("bob", BobPassword, "")
	h.expectErr(h.call("POST", "/api/v4/users/tokens/revoke", bob, tid), 403, idPermission, "")
	h.expectErr(h.call("GET", "/api/v4/users/tokens/"+pat.ID, bob, nil), 403, idPermission, "")
	if a := h.call("POST", "/api/v4/users/tokens/revoke", alice, tid); a.status != 200 {
		t.Fatalf("revoke: %d", a.status)
	}
	h.expectErr(h.call("GET", "/api/v4/users/me", pat.Token, nil), 401, idExpired, "")
	h.expectErr(h.call("POST", "/api/v4/users/tokens/revoke", alice, tid), 404, idNoToken, "Unable to get the personal access tokens by user.")
	h.expectErr(h.call("POST", "/api/v4/users/tokens/revoke", alice, map[string]string{}), 404, idNoToken, "")
	h.expectErr(h.call("GET", "/api/v4/users/tokens/"+pat.ID, alice, nil), 404, idNoToken, "")
	h.call("GET", tokens, alice, nil).decode(t, &list)
	if len(list) != 1 {
		t.Errorf("after revoke the list has %d", len(list))
	}

	// An admin sees everyone's; PATs off answers 501 and stops PATs.
	admin := h.admin()
	h.call("GET", "/api/v4/users/tokens", admin, nil).decode(t, &list)
	if len(list) != 1 {
		t.Errorf("all tokens: %d", len(list))
	}
	if a := h.call("POST", "/api/v4/users/"+BobID+"/tokens", admin, map[string]string{"description": "for bob"}); a.status != 200 {
		t.Errorf("admin making bob a token: %d", a.status)
	}
	h.expectErr(h.call("POST", "/api/v4/users/aaaaaaaaaaaaaaaaaaaaaaaaaa/tokens", admin, map[string]string{"description": "x"}), 404, "app.user.missing_account.const", "")
	live := list[0]["id"].(string)
	var liveTok string
	for _, e := range h.env.Ledger.Entries() {
		if e.ID == live {
			liveTok = e.Token
		}
	}
	h.s.Configure(func(s *Settings) { s.EnableUserAccessTokens = false })
	h.expectErr(h.call("POST", "/api/v4/users/me/tokens", admin, map[string]string{"description": "x"}), 501, "app.user_access_token.disabled", "")
	h.expectErr(h.call("GET", "/api/v4/users/me", liveTok, nil), 401, idExpired, "")
}

func TestRateLimit(t *testing.T) {
	h := start(t)
	if a := h.call("GET", "/api/v4/nope", "", nil); a.header.Get("X-Ratelimit-Limit") != "" {
		t.Error("rate limit headers while off")
	}
	h.s.EnableRateLimit(1, 2)
	var limited answer
	for i := 0; i < 2; i++ {
		a := h.call("POST", "/api/v4/users/logout", "", nil)
		if a.status != 200 || a.header.Get("X-Ratelimit-Limit") != "3" || a.header.Get("X-Ratelimit-Remaining") != fmt.Sprint(1-i) {
			t.Fatalf("request %d: %d limit %q remaining %q", i, a.status, a.header.Get("X-Ratelimit-Limit"), a.header.Get("X-Ratelimit-Remaining"))
		}
	}
	limited = h.call("POST", "/api/v4/users/logout", "", nil)
	if limited.status != 429 || string(limited.body) != "limit exceeded\n" || !strings.HasPrefix(limited.header.Get("Content-Type"), "text/plain") ||
		limited.header.Get("Retry-After") != "1" || limited.header.Get("X-Ratelimit-Reset") != "2" || limited.header.Get("X-Request-Id") != "" {
		t.Fatalf("429: %d %q %v", limited.status, limited.body, limited.header)
	}
	h.env.Clock.Advance(time.Second)
	if a := h.call("POST", "/api/v4/users/logout", "", nil); a.status != 200 {
		t.Fatalf("after a second: %d", a.status)
	}
	h.s.DisableRateLimit()
	for i := 0; i < 20; i++ {
		if a := h.call("POST", "/api/v4/users/logout", "", nil); a.status != 200 {
			t.Fatalf("limit still on: %d", a.status)
		}
	}
}

// Faults spoil the answer after the change: the ledger must still hold
// every token the server issued.
func TestFaultsKeepTheLedger(t *testing.T) {
	h := start(t)
	admin := h.admin()
	h.env.Faults.Add(simnet.Rule{Method: "POST", Path: "/tokens", Fault: simnet.DropAfterApply, Times: 1})
	req, _ := http.NewRequest("POST", h.srv.URL+"/api/v4/users/me/tokens", strings.NewReader(`{"description":"lost"}`))
	req.Header.Set("Authorization", "Bearer "+admin)
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("the connection should have dropped")
	}
	var pats []accessToken
	h.call("GET", "/api/v4/users/me/tokens", admin, nil).decode(t, &pats)
	if len(pats) != 1 {
		t.Fatalf("the dropped create made %d tokens", len(pats))
	}
	var tok string
	for _, e := range h.env.Ledger.Entries() {
		if e.Kind == KindUserToken && e.ID == pats[0].ID {
			tok = e.Token
		}
	}
	if a := h.call("GET", "/api/v4/users/me", tok, nil); tok == "" || a.status != 200 {
		t.Fatal("the ledger does not hold the lost token")
	}

	h.env.Faults.Add(simnet.Rule{Path: "/users/login", Fault: simnet.ErrorAfterApply, Times: 1})
	h.next()
	a := h.login("admin", AdminPassword, simnet.TOTPCode(AdminTOTPSecret, h.env.Clock.Now()))
	if a.status != 500 {
		t.Fatalf("fault not applied: %d", a.status)
	}
	entries := h.env.Ledger.Entries()
	last := entries[len(entries)-1]
	if last.Kind != KindSession || last.Service != Service {
		t.Fatalf("last ledger entry %s/%s", last.Service, last.Kind)
	}
	if a := h.call("GET", "/api/v4/users/me", last.Token, nil); a.status != 200 {
		t.Error("the session behind the 500 does not work")
	}
}

func TestSeedsAndCodes(t *testing.T) {
	h := start(t)
	b, err := json.Marshal(h.s.Seeds())
	if err != nil {
		t.Fatal(err)
	}
	var seed Seed
	if err := json.Unmarshal(b, &seed); err != nil {
		t.Fatal(err)
	}
	if len(seed.Users) != 4 || !seed.Users[3].TeamAdmin || seed.Users[3].Roles != "system_user" || seed.Users[0].Username != "admin" || seed.Users[0].Password != AdminPassword ||
		seed.Users[0].TOTPSecret != AdminTOTPSecret || !seed.Users[0].MFAActive || !seed.Users[1].TeamAdmin || seed.Users[2].TeamAdmin ||
		seed.Users[2].Roles != "system_user" || len(seed.Commands) != 3 || len(seed.OutgoingWebhooks) != 2 || seed.TeamName != "ops" {
		t.Fatalf("seeds differ from the seeding (%d users, %d commands, %d hooks)", len(seed.Users), len(seed.Commands), len(seed.OutgoingWebhooks))
	}
	now := h.env.Clock.Now()
	codes := h.s.Codes(now)
	if len(codes) != 1 || codes[0].Label != "mattermost admin TOTP" || codes[0].Code != simnet.TOTPCode(AdminTOTPSecret, now) {
		t.Fatalf("codes: %d, or the label or code is wrong", len(codes))
	}
	if a := h.login("admin", AdminPassword, codes[0].Code); a.status != 200 {
		t.Fatalf("the shown code does not log in: %d", a.status)
	}
	alice := h.session("alice", AlicePassword, "")
	h.call("POST", "/api/v4/users/me/mfa/generate", alice, nil)
	codes = h.s.Codes(now)
	if len(codes) != 2 || codes[1].Label != "mattermost alice TOTP (to activate MFA)" {
		t.Errorf("codes after alice's generate: %d, or the label is wrong", len(codes))
	}
	// Every seeded token is in the ledger.
	kinds := map[string]int{}
	for _, e := range h.env.Ledger.Entries() {
		kinds[e.Kind]++
	}
	if kinds[KindCommand] != 3 || kinds[KindWebhook] != 2 {
		t.Errorf("ledger kinds %v", kinds)
	}
}

func TestSeedCommandsAndConcurrentRegen(t *testing.T) {
	h := start(t)
	if h.s.SeedCommands("nope", 3) != nil {
		t.Error("unknown team should give nil")
	}
	ids := h.s.SeedCommands(TeamName, 1000)
	if len(ids) != 1000 {
		t.Fatalf("seeded %d", len(ids))
	}
	admin := h.admin()
	var mu sync.Mutex
	seen := map[string]bool{}
	work := make(chan string)
	var wg sync.WaitGroup
	for w := 0; w < 16; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				a := h.call("PUT", "/api/v4/commands/"+id+"/regen_token", admin, nil)
				var out struct{ Token string }
				_ = json.Unmarshal(a.body, &out)
				mu.Lock()
				if a.status != 200 || out.Token == "" || seen[out.Token] {
					t.Errorf("regen %s: %d", id, a.status)
				}
				seen[out.Token] = true
				mu.Unlock()
			}
		}()
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	var list []command
	h.call("GET", "/api/v4/commands?team_id="+TeamID+"&custom_only=true", admin, nil).decode(t, &list)
	if len(list) != 1003 {
		t.Fatalf("listed %d", len(list))
	}
	n := 0
	for _, e := range h.env.Ledger.Entries() {
		if e.Kind == KindCommand {
			n++
		}
	}
	if n != 3+1000+1000 {
		t.Errorf("ledger has %d command tokens", n)
	}
	// More seeding skips taken triggers.
	if more := h.s.SeedCommands(TeamName, 2); len(more) != 2 {
		t.Errorf("second seeding: %d", len(more))
	}
}

func BenchmarkRegenCommandToken(b *testing.B) {
	h := start(b)
	ids := h.s.SeedCommands(TeamName, 1000)
	admin := h.admin()
	var i int64
	var mu sync.Mutex
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			mu.Lock()
			id := ids[i%int64(len(ids))]
			i++
			mu.Unlock()
			if a := h.call("PUT", "/api/v4/commands/"+id+"/regen_token", admin, nil); a.status != 200 {
				b.Errorf("regen: %d", a.status)
			}
		}
	})
}
