package mattermost

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"

	"rsc.io/qr"

	"keyturn/client"
)

const (
	adminID = "9rrsftoh7b89jmo3pzjy3jftky"
	teamID  = "57catpyyyjnapdfnfe414y934o"
	cmdID   = "w483xexf3j88bc7pupqfqhd7sr"
	hookID  = "7qxtco1cxtgtbb564ommhfd1co"
	patID   = "a9k5ewds4f84jfoj7tdewecc3w"
	sessTok = "bgfhpkprg3njbdebj43rhbqybw"
)

// step is one request the fake server expects and its answer.
type step struct {
	method string
	path   string
	query  string // url-encoded; compared as a set of values
	auth   string // expected Authorization ("" none)
	body   string // expected JSON body ("" none), compared as JSON values

	status int
	header map[string]string
	ctype  string // default application/json
	answer string
}

// fake serves the steps in order and fails the test on any request that
// differs from what the step expects.
func fake(t *testing.T, token string, steps ...step) *Client {
	t.Helper()
	var mu sync.Mutex
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		defer mu.Unlock()
		if n >= len(steps) {
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			w.WriteHeader(http.StatusTeapot)
			return
		}
		st := steps[n]
		n++
		checkRequest(t, st, r)
		ct := st.ctype
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		for k, v := range st.header {
			w.Header().Set(k, v)
		}
		status := st.status
		if status == 0 {
			status = http.StatusOK
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, st.answer)
	}))
	t.Cleanup(func() {
		srv.Close()
		if n != len(steps) {
			t.Errorf("served %d of %d expected requests", n, len(steps))
		}
	})
	core, err := client.New(client.Options{Service: "mattermost", BaseURL: srv.URL, GETRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return New(core, token)
}

func checkRequest(t *testing.T, st step, r *http.Request) {
	t.Helper()
	if r.Method != st.method || r.URL.EscapedPath() != st.path {
		t.Errorf("request %s %s, want %s %s", r.Method, r.URL.EscapedPath(), st.method, st.path)
	}
	gotQ, _ := url.ParseQuery(r.URL.RawQuery)
	wantQ, _ := url.ParseQuery(st.query)
	if len(gotQ) != 0 || len(wantQ) != 0 {
		if !reflect.DeepEqual(gotQ, wantQ) {
			t.Errorf("%s %s: query %v, want %v", st.method, st.path, gotQ, wantQ)
		}
	}
	if got := r.Header.Get("Authorization"); got != st.auth {
		t.Errorf("%s %s: Authorization header is wrong (set: %v, want set: %v)", st.method, st.path, got != "", st.auth != "")
	}
	if r.Header.Get("Cookie") != "" || r.Header.Get("X-Requested-With") != "" {
		t.Errorf("%s %s: sent a cookie or X-Requested-With; the server would switch to cookie auth", st.method, st.path)
	}
	body, _ := io.ReadAll(r.Body)
	if st.body == "" {
		if len(body) != 0 {
			t.Errorf("%s %s: sent a body of %d bytes, want none", st.method, st.path, len(body))
		}
		return
	}
	if ct := r.Header.Get("Content-Type"); ct != "application/json" {
		t.Errorf("%s %s: Content-Type %q", st.method, st.path, ct)
	}
	var got, want any
	if err := json.Unmarshal(body, &got); err != nil {
		t.Errorf("%s %s: body is not JSON: %v", st.method, st.path, err)
		return
	}
	if err := json.Unmarshal([]byte(st.body), &want); err != nil {
		t.Fatalf("bad test body: %v", err)
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("%s %s: body differs from the expected JSON (field names or types)", st.method, st.path)
	}
}

func bearer(tok string) string { return "Bearer " + tok }

func recordedPNG(t *testing.T) []byte {
	t.Helper()
	b, err := os.ReadFile("testdata/mfa-generate-qr.png")
	if err != nil {
		t.Fatal(err)
	}
	return b
}

var bg = context.Background()

func TestLoginRequestAndAnswer(t *testing.T) {
	m := fake(t, "old-session-token",
		step{method: "POST", path: "/api/v4/users/login",
			body:   `{"login_id":"admin","password":"Admin-Passw0rd!","token":"658673"}`,
			header: map[string]string{"Token": "obmw4spqk7y5fnrpxq1ifae3wr", "X-Request-Id": "s5nzimnbn7natdjd7gq9gr9kba"},
			answer: fxUserAdmin})
	tok, u, err := m.Login(bg, "admin", "Admin-Passw0rd!", "658673")
	if err != nil {
		t.Fatal(err)
	}
	if tok != "obmw4spqk7y5fnrpxq1ifae3wr" {
		t.Errorf("session token not taken from the Token header")
	}
	if u.ID != adminID || u.Username != "admin" || u.Email != "admin@example.com" || !u.MFAActive ||
		!u.IsSystemAdmin() || !u.HasRole("system_user") || u.HasRole("team_admin") || u.FailedAttempts != 4 || u.Locale != "en" {
		t.Errorf("user decoded wrong: %+v", u)
	}
}

func TestLoginWithoutCodeSendsNoTokenField(t *testing.T) {
	m := fake(t, "",
		step{method: "POST", path: "/api/v4/users/login", body: `{"login_id":"admin","password":"pw"}`,
			header: map[string]string{"Token": "t0k"}, answer: fxUserNoMFA})
	_, u, err := m.Login(bg, "admin", "pw", "")
	if err != nil {
		t.Fatal(err)
	}
	if u.MFAActive {
		t.Errorf("mfa_active absent must read as false")
	}
}

func TestLoginErrors(t *testing.T) {
	const pw, code = "Sup3r-Secret-pw", "914362"
	cases := []struct {
		name     string
		code     string
		status   int
		answer   string
		ctype    string
		header   map[string]string
		check    func(t *testing.T, err error)
		mayApply bool
	}{
		{name: "mfa needed", status: 401, answer: fxErrMFARequired, check: wantSecondFactor(false)},
		{name: "malformed code", code: "abc1", status: 401, answer: fxErrMFARequired, check: wantSecondFactor(true)},
		{name: "wrong code", code: code, status: 401, answer: fxErrMFABadCode, check: wantSecondFactor(true)},
		{name: "bad password", status: 401, answer: fxErrBadPassword, check: wantAPI(401, ErrInvalidLogin, "xqmywzzayjrq5cdxdqekrjmuuy")},
		{name: "blank password", status: 400, answer: fxErrBlankPassword, check: wantAPI(400, ErrBlankPassword, "ht6wnntsqjnjxgwtgsa3ippegh")},
		{name: "locked", code: code, status: 401, answer: fxErrLocked, check: wantAPI(401, ErrLocked, "b4ncdxeyjjbxfxq3c6qzrnmfry")},
		{name: "rate limited", status: 429, ctype: "text/plain; charset=utf-8", answer: "limit exceeded\n",
			header: map[string]string{"Retry-After": "1", "X-Ratelimit-Reset": "1"}, check: wantRateLimited(time.Second)},
		{name: "proxy page", status: 502, ctype: "text/html", answer: "<html><head><title>502 Bad Gateway</title></head></html>",
			check: wantBadResponse("HTML"), mayApply: true},
		{name: "no token header", status: 200, answer: fxUserAdmin, check: wantBadResponse("Token header"), mayApply: true},
		{name: "truncated user", status: 200, header: map[string]string{"Token": "abcd"}, answer: fxUserAdmin[:40],
			check: wantBadResponse("truncated"), mayApply: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			body := fmt.Sprintf(`{"login_id":"admin","password":%q}`, pw)
			if tc.code != "" {
				body = fmt.Sprintf(`{"login_id":"admin","password":%q,"token":%q}`, pw, tc.code)
			}
			m := fake(t, "", step{method: "POST", path: "/api/v4/users/login", body: body,
				status: tc.status, ctype: tc.ctype, header: tc.header, answer: tc.answer})
			tok, u, err := m.Login(bg, "admin", pw, tc.code)
			if err == nil || tok != "" || u != nil {
				t.Fatalf("want an error and nothing else")
			}
			tc.check(t, err)
			if client.MayHaveApplied(err) != tc.mayApply {
				t.Errorf("MayHaveApplied = %v", !tc.mayApply)
			}
			if strings.Contains(err.Error(), pw) || (tc.code != "" && strings.Contains(err.Error(), tc.code)) {
				t.Errorf("error text carries the password or code")
			}
		})
	}
}

func wantSecondFactor(invalid bool) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var sf *client.SecondFactorRequired
		if !errors.As(err, &sf) {
			t.Fatalf("got %T (%v), want *client.SecondFactorRequired", err, err)
		}
		if sf.Method != client.MethodTOTP || sf.Invalid != invalid || sf.Service != "mattermost" ||
			!reflect.DeepEqual(sf.Methods, []string{client.MethodTOTP}) || sf.Message != "Invalid MFA token." {
			t.Errorf("second factor %+v, want totp with Invalid=%v", sf, invalid)
		}
	}
}

func wantAPI(status int, code, reqID string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var ae *client.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("got %T (%v), want *client.APIError", err, err)
		}
		if ae.Status != status || ae.Code != code || ae.RequestID != reqID || ae.Service != "mattermost" || ae.Message == "" {
			t.Errorf("API error %+v, want status %d code %s request %q", ae, status, code, reqID)
		}
	}
}

func wantRateLimited(after time.Duration) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var rl *client.RateLimitedError
		if !errors.As(err, &rl) {
			t.Fatalf("got %T (%v), want *client.RateLimitedError", err, err)
		}
		if rl.RetryAfter != after || rl.Message != "limit exceeded" {
			t.Errorf("rate limit %+v", rl)
		}
	}
}

func wantBadResponse(reason string) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var br *client.BadResponseError
		if !errors.As(err, &br) {
			t.Fatalf("got %T (%v), want *client.BadResponseError", err, err)
		}
		if !strings.Contains(br.Reason, reason) {
			t.Errorf("reason %q does not mention %q", br.Reason, reason)
		}
	}
}

func TestSessionCalls(t *testing.T) {
	m := fake(t, sessTok,
		step{method: "GET", path: "/api/v4/users/me", auth: bearer(sessTok), answer: fxUserNoMFA},
		step{method: "GET", path: "/api/v4/users/me/teams", auth: bearer(sessTok), answer: fxTeams},
		step{method: "POST", path: "/api/v4/users/logout", auth: bearer(sessTok), answer: fxStatusOK},
	)
	u, err := m.Me(bg)
	if err != nil || u.ID != adminID || u.MFAActive || u.Roles != "system_user system_admin" {
		t.Fatalf("Me = %+v, %v", u, err)
	}
	teams, err := m.MyTeams(bg)
	if err != nil || len(teams) != 1 || teams[0].ID != teamID || teams[0].Name != "qa" || teams[0].Type != "O" ||
		teams[0].SchemeID != nil || teams[0].InviteID != "8ihe6zog6tfxdmkybuwubw1mco" {
		t.Fatalf("MyTeams = %+v, %v", teams, err)
	}
	if err := m.Logout(bg); err != nil {
		t.Fatal(err)
	}
}

func TestTokenAccessors(t *testing.T) {
	core, err := client.New(client.Options{Service: "mattermost", BaseURL: "https://chat.example.com"})
	if err != nil {
		t.Fatal(err)
	}
	m := New(core, "a")
	n := m.WithToken("b")
	if m.Token() != "a" || n.Token() != "b" || n.Core() != core {
		t.Errorf("WithToken must copy the core and change only the token")
	}
}

func TestGenerateMFA(t *testing.T) {
	png := recordedPNG(t)
	answer := fmt.Sprintf(`{"secret":%q,"qr_code":%q}`, fxMFASecret, base64.StdEncoding.EncodeToString(png))
	m := fake(t, sessTok, step{method: "POST", path: "/api/v4/users/" + adminID + "/mfa/generate", auth: bearer(sessTok),
		header: map[string]string{"Cache-Control": "no-cache"}, answer: answer})
	sec, err := m.GenerateMFA(bg, adminID)
	if err != nil {
		t.Fatal(err)
	}
	if sec.Secret != fxMFASecret || !bytes.Equal(sec.QRCode, png) {
		t.Errorf("secret or QR code decoded wrong")
	}
}

// The recorded QR code is exactly rsc.io/qr's encoding (the server's
// library) of the URL OTPAuthURL builds, so keyturn's terminal QR code
// holds what the server's would.
func TestOTPAuthURLMatchesServerQRCode(t *testing.T) {
	got := OTPAuthURL("http://127.0.0.1:8065", "admin@example.com", fxMFASecret)
	want := "otpauth://totp/127.0.0.1%3A8065:admin@example.com?secret=" + fxMFASecret + "&issuer=127.0.0.1%3A8065"
	if got != want {
		t.Fatalf("OTPAuthURL = %q, want %q", got, want)
	}
	code, err := qr.Encode(got, qr.H)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(code.PNG(), recordedPNG(t)) {
		t.Errorf("the server's QR code does not encode OTPAuthURL's answer")
	}
	for site, issuer := range map[string]string{
		"":                               "Mattermost",
		"https://www.chat.example.com":   "chat.example.com",
		"https://chat.example.com/team":  "chat.example.com%2Fteam",
		"  http://localhost:8065  ":      "localhost%3A8065",
		"https://mm.example.org:8443/mm": "mm.example.org%3A8443%2Fmm",
	} {
		want := "otpauth://totp/" + issuer + ":a@b.c?secret=S&issuer=" + issuer
		if got := OTPAuthURL(site, "a@b.c", "S"); got != want {
			t.Errorf("OTPAuthURL(%q) = %q, want %q", site, got, want)
		}
	}
}

func TestMFAActivation(t *testing.T) {
	m := fake(t, sessTok,
		step{method: "PUT", path: "/api/v4/users/" + adminID + "/mfa", auth: bearer(sessTok),
			body: `{"activate":true,"code":"887067"}`, answer: fxStatusOK},
		step{method: "PUT", path: "/api/v4/users/" + adminID + "/mfa", auth: bearer(sessTok),
			body: `{"activate":true,"code":"000000"}`, status: 401, answer: fxErrActivateBad},
		step{method: "PUT", path: "/api/v4/users/me/mfa", auth: bearer(sessTok),
			body: `{"activate":false}`, answer: fxStatusOK},
		step{method: "PUT", path: "/api/v4/users/me/mfa", auth: bearer(sessTok),
			body: `{"activate":true,"code":"123456"}`, status: 501, answer: fxErrMFADisabled},
	)
	if err := m.ActivateMFA(bg, adminID, "887067"); err != nil {
		t.Fatal(err)
	}
	err := m.ActivateMFA(bg, adminID, "000000")
	wantSecondFactor(true)(t, err)
	if err := m.DeactivateMFA(bg, "me"); err != nil {
		t.Fatal(err)
	}
	wantAPI(501, ErrMFADisabled, "p5yqk4mzcbbqmrhwwg9bzn4o6e")(t, m.ActivateMFA(bg, "me", "123456"))
}

func TestCommands(t *testing.T) {
	m := fake(t, sessTok,
		step{method: "GET", path: "/api/v4/commands", query: "team_id=" + teamID + "&custom_only=true", auth: bearer(sessTok), answer: fxCommands},
		step{method: "GET", path: "/api/v4/commands/" + cmdID, auth: bearer(sessTok), answer: fxCommand},
		step{method: "PUT", path: "/api/v4/commands/" + cmdID + "/regen_token", auth: bearer(sessTok), answer: fxRegenCommand},
	)
	cs, err := m.ListCommands(bg, teamID)
	if err != nil || len(cs) != 2 || cs[0].Token != "ytfyczp553yjtqu3po8d4q3h5r" || cs[1].Trigger != "rotate" || cs[1].Method != "P" ||
		cs[1].CreatorID != adminID || cs[1].URL != "http://127.0.0.1:9/hook" {
		t.Fatalf("ListCommands: %d commands or fields wrong, %v", len(cs), err)
	}
	c, err := m.GetCommand(bg, cmdID)
	if err != nil || c.ID != cmdID || c.TeamID != teamID || c.DisplayName != "Rotate" || c.UpdateAt != 1795435737663 {
		t.Fatalf("GetCommand: fields wrong, %v", err)
	}
	tok, err := m.RegenCommandToken(bg, cmdID)
	if err != nil || tok != "7np66pejm7d13cofkoras91q5h" {
		t.Fatalf("RegenCommandToken: token wrong or %v", err)
	}
}

func TestOutgoingWebhooks(t *testing.T) {
	m := fake(t, sessTok,
		step{method: "GET", path: "/api/v4/hooks/outgoing", query: "team_id=" + teamID + "&page=0&per_page=200", auth: bearer(sessTok), answer: fxHooks},
		step{method: "GET", path: "/api/v4/hooks/outgoing/" + hookID, auth: bearer(sessTok), answer: fxHook},
		step{method: "POST", path: "/api/v4/hooks/outgoing/" + hookID + "/regen_token", auth: bearer(sessTok), answer: fxHook},
	)
	hs, err := m.ListOutgoingWebhooks(bg, teamID)
	if err != nil || len(hs) != 1 || hs[0].ID != hookID || hs[0].Token != "7bfnxnafridg9f7nbscka1a1ro" ||
		!reflect.DeepEqual(hs[0].TriggerWords, []string{"deploy"}) || !reflect.DeepEqual(hs[0].CallbackURLs, []string{"http://127.0.0.1:9/cb"}) ||
		hs[0].ChannelID != "fg9amsre3jd4ur46dbsnhcnryr" || hs[0].ContentType != "application/json" {
		t.Fatalf("ListOutgoingWebhooks: %d hooks or fields wrong, %v", len(hs), err)
	}
	g, err := m.GetOutgoingWebhook(bg, hookID)
	if err != nil || g.ID != hookID || g.Token != "7bfnxnafridg9f7nbscka1a1ro" || g.DisplayName != "out" {
		t.Fatalf("GetOutgoingWebhook: fields wrong, %v", err)
	}
	h, err := m.RegenOutgoingWebhookToken(bg, hookID)
	if err != nil || h.ID != hookID || h.Token != "7bfnxnafridg9f7nbscka1a1ro" || h.DisplayName != "out" || h.UpdateAt != 1795435737731 {
		t.Fatalf("RegenOutgoingWebhookToken: fields wrong, %v", err)
	}
}

func hookPage(from, n int) string {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":"hook%022d","token":"t%025d","team_id":%q,"trigger_words":["w"],"callback_urls":["https://x.example/cb"]}`, from+i, from+i, teamID)
	}
	b.WriteString("]")
	return b.String()
}

func TestListOutgoingWebhooksPages(t *testing.T) {
	q := func(p int) string { return fmt.Sprintf("team_id=%s&page=%d&per_page=200", teamID, p) }
	m := fake(t, sessTok,
		step{method: "GET", path: "/api/v4/hooks/outgoing", query: q(0), auth: bearer(sessTok), answer: hookPage(0, 200)},
		step{method: "GET", path: "/api/v4/hooks/outgoing", query: q(1), auth: bearer(sessTok), answer: hookPage(200, 200)},
		step{method: "GET", path: "/api/v4/hooks/outgoing", query: q(2), auth: bearer(sessTok), answer: hookPage(400, 3)},
	)
	hs, err := m.ListOutgoingWebhooks(bg, teamID)
	if err != nil || len(hs) != 403 || hs[402].ID != fmt.Sprintf("hook%022d", 402) {
		t.Fatalf("got %d hooks, %v", len(hs), err)
	}
}

// A server that ignores page= must not make the client loop for ever.
func TestListIgnoringPagingStops(t *testing.T) {
	q := func(p int) string { return fmt.Sprintf("team_id=%s&page=%d&per_page=200", teamID, p) }
	m := fake(t, sessTok,
		step{method: "GET", path: "/api/v4/hooks/outgoing", query: q(0), auth: bearer(sessTok), answer: hookPage(0, 200)},
		step{method: "GET", path: "/api/v4/hooks/outgoing", query: q(1), auth: bearer(sessTok), answer: hookPage(0, 200)},
	)
	hs, err := m.ListOutgoingWebhooks(bg, teamID)
	if err != nil || len(hs) != 200 {
		t.Fatalf("got %d hooks, %v", len(hs), err)
	}
}

func TestUserAccessTokens(t *testing.T) {
	m := fake(t, sessTok,
		step{method: "POST", path: "/api/v4/users/" + adminID + "/tokens", auth: bearer(sessTok), body: `{"description":"rotation-1"}`, answer: fxPATCreated},
		step{method: "GET", path: "/api/v4/users/" + adminID + "/tokens", query: "page=0&per_page=200", auth: bearer(sessTok), answer: fxPATs},
		step{method: "GET", path: "/api/v4/users/tokens/" + patID, auth: bearer(sessTok), answer: fxPAT},
		step{method: "POST", path: "/api/v4/users/tokens/disable", auth: bearer(sessTok), body: `{"token_id":"` + patID + `"}`, answer: fxStatusOK},
		step{method: "GET", path: "/api/v4/users/tokens/" + patID, auth: bearer(sessTok), answer: fxPATDisabled},
		step{method: "POST", path: "/api/v4/users/tokens/enable", auth: bearer(sessTok), body: `{"token_id":"` + patID + `"}`, answer: fxStatusOK},
		step{method: "POST", path: "/api/v4/users/tokens/revoke", auth: bearer(sessTok), body: `{"token_id":"` + patID + `"}`, answer: fxStatusOK},
		step{method: "POST", path: "/api/v4/users/tokens/revoke", auth: bearer(sessTok), body: `{"token_id":"` + patID + `"}`, status: 404, answer: fxErrNoToken},
	)
	pat, err := m.CreateUserAccessToken(bg, adminID, "rotation-1")
	if err != nil || pat.ID != patID || pat.Token != "71szbxp1c7nnpkdw6zrfiy8eoe" || pat.UserID != adminID || !pat.IsActive || pat.Description != "rotation-1" {
		t.Fatalf("CreateUserAccessToken = %v, %v", pat != nil, err)
	}
	list, err := m.ListUserAccessTokens(bg, adminID)
	if err != nil || len(list) != 2 || list[1].ID != "jmtsmebikfbgmxndit7r19sqkr" || list[0].Token != "" {
		t.Fatalf("ListUserAccessTokens: %d tokens or fields wrong, %v", len(list), err)
	}
	got, err := m.GetUserAccessToken(bg, patID)
	if err != nil || got.ID != patID || !got.IsActive || got.Token != "" {
		t.Fatalf("GetUserAccessToken = %+v, %v", got, err)
	}
	if err := m.DisableUserAccessToken(bg, patID); err != nil {
		t.Fatal(err)
	}
	if got, err := m.GetUserAccessToken(bg, patID); err != nil || got.IsActive {
		t.Fatalf("after disable: %+v, %v", got, err)
	}
	if err := m.EnableUserAccessToken(bg, patID); err != nil {
		t.Fatal(err)
	}
	if err := m.RevokeUserAccessToken(bg, patID); err != nil {
		t.Fatal(err)
	}
	wantAPI(404, ErrTokenNotFound, "mfryyyidqpyp3yfpgo7ndk7epa")(t, m.RevokeUserAccessToken(bg, patID))
}

// Every documented error answer of the non-login calls maps to the right
// typed error.
func TestErrorShapes(t *testing.T) {
	type call func(*Client) error
	me := func(m *Client) error { _, err := m.Me(bg); return err }
	list := func(m *Client) error { _, err := m.ListCommands(bg, teamID); return err }
	regen := func(m *Client) error { _, err := m.RegenCommandToken(bg, cmdID); return err }
	hook := func(m *Client) error { _, err := m.RegenOutgoingWebhookToken(bg, hookID); return err }
	gen := func(m *Client) error { _, err := m.GenerateMFA(bg, "xyz"); return err }
	create := func(m *Client) error { _, err := m.CreateUserAccessToken(bg, "me", "d"); return err }
	get := func(m *Client) error { _, err := m.GetUserAccessToken(bg, patID); return err }
	revoke := func(m *Client) error { return m.RevokeUserAccessToken(bg, patID) }
	hooks := func(m *Client) error { _, err := m.ListOutgoingWebhooks(bg, teamID); return err }
	teams := func(m *Client) error { _, err := m.MyTeams(bg); return err }
	logout := func(m *Client) error { return m.Logout(bg) }
	getCmd := func(m *Client) error { _, err := m.GetCommand(bg, cmdID); return err }
	listTokens := func(m *Client) error { _, err := m.ListUserAccessTokens(bg, "me"); return err }
	activate := func(m *Client) error { return m.ActivateMFA(bg, "me", "12") }

	cases := []struct {
		name   string
		call   call
		st     step
		check  func(*testing.T, error)
		unauth bool
	}{
		{"session expired", me, step{method: "GET", path: "/api/v4/users/me", status: 401, answer: fxErrSession},
			wantAPI(401, ErrSessionExpired, "towmt6rgofde9jxmopuq6zqzxh"), true},
		{"token in query", teams, step{method: "GET", path: "/api/v4/users/me/teams", status: 401, answer: fxErrTokenInQuery},
			wantAPI(401, ErrTokenInQueryParam, "af4k7ixwjbbpfqfan9zous3eue"), true},
		{"no permission to list", list, step{method: "GET", path: "/api/v4/commands", query: "team_id=" + teamID + "&custom_only=true", status: 403, answer: fxErrPermission},
			wantAPI(403, ErrPermission, "o31c8x571fgyjc11jsig3mf4ba"), false},
		{"commands disabled", list, step{method: "GET", path: "/api/v4/commands", query: "team_id=" + teamID + "&custom_only=true", status: 501, answer: fxErrCmdsDisabled},
			wantAPI(501, ErrCommandsDisabled, "8ys1zp6tcpgy8xq6dcbe9gb4ma"), false},
		{"no team id", list, step{method: "GET", path: "/api/v4/commands", query: "team_id=" + teamID + "&custom_only=true", status: 400, answer: fxErrNoTeamID},
			wantAPI(400, ErrInvalidBodyParam, "8pfh76b387rw5cixt4q1dmzrbc"), false},
		{"command hidden", regen, step{method: "PUT", path: "/api/v4/commands/" + cmdID + "/regen_token", status: 404, answer: fxErrNoCommand},
			wantAPI(404, ErrCommandNotFound, "mnx43rcpntyfxmxn6iw1unbbsy"), false},
		{"get command hidden", getCmd, step{method: "GET", path: "/api/v4/commands/" + cmdID, status: 404, answer: fxErrNoCommand},
			wantAPI(404, ErrCommandNotFound, "mnx43rcpntyfxmxn6iw1unbbsy"), false},
		{"route 404 has no request id", regen, step{method: "PUT", path: "/api/v4/commands/" + cmdID + "/regen_token", status: 404, answer: fxErrRoute404},
			wantAPI(404, ErrRouteNotFound, ""), false},
		{"request id from header", regen, step{method: "PUT", path: "/api/v4/commands/" + cmdID + "/regen_token", status: 404,
			header: map[string]string{"X-Request-Id": "hdr7id"}, answer: `{"id":"store.sql_command.save.get.app_error","message":"Unable to get the command.","status_code":404}`},
			wantAPI(404, ErrCommandNotFound, "hdr7id"), false},
		{"hook forbidden", hook, step{method: "POST", path: "/api/v4/hooks/outgoing/" + hookID + "/regen_token", status: 403, answer: fxErrPermission},
			wantAPI(403, ErrPermission, "o31c8x571fgyjc11jsig3mf4ba"), false},
		{"hook unknown", hook, step{method: "POST", path: "/api/v4/hooks/outgoing/" + hookID + "/regen_token", status: 404, answer: fxErrNoHook},
			wantAPI(404, ErrWebhookNotFound, "b8c9dw83yjgodffc1dh5pkp9ny"), false},
		{"hooks disabled", hooks, step{method: "GET", path: "/api/v4/hooks/outgoing", query: "team_id=" + teamID + "&page=0&per_page=200", status: 501, answer: fxErrHooksDisabled},
			wantAPI(501, ErrWebhooksDisabled, "4m1x9dk3cjfr8ggxdd6ssuyt5w"), false},
		{"bad user id", gen, step{method: "POST", path: "/api/v4/users/xyz/mfa/generate", status: 400, answer: fxErrBadUserID},
			wantAPI(400, ErrInvalidURLParam, "gdb7jyz9ejreicm3n6dc1e6czr"), false},
		{"no such user", gen, step{method: "POST", path: "/api/v4/users/xyz/mfa/generate", status: 404, answer: fxErrNoUser},
			wantAPI(404, ErrUserNotFound, "gpqzp6xwnfyzffa3g8a5otb8mc"), false},
		{"mfa disabled", gen, step{method: "POST", path: "/api/v4/users/xyz/mfa/generate", status: 501, answer: fxErrMFADisabled},
			wantAPI(501, ErrMFADisabled, "p5yqk4mzcbbqmrhwwg9bzn4o6e"), false},
		{"missing code", activate, step{method: "PUT", path: "/api/v4/users/me/mfa", body: `{"activate":true,"code":"12"}`, status: 400, answer: fxErrMissingCode},
			wantAPI(400, ErrInvalidBodyParam, "j6jn76zipbgh3kktyrmxiz1uie"), false},
		{"pat forbidden", create, step{method: "POST", path: "/api/v4/users/me/tokens", body: `{"description":"d"}`, status: 403, answer: fxErrPermission},
			wantAPI(403, ErrPermission, "o31c8x571fgyjc11jsig3mf4ba"), false},
		{"pats disabled", create, step{method: "POST", path: "/api/v4/users/me/tokens", body: `{"description":"d"}`, status: 501, answer: fxErrTokensOff},
			wantAPI(501, ErrTokensDisabled, "9gq7kjq1nbbw9pmsfjuhqckr3r"), false},
		{"pat description", create, step{method: "POST", path: "/api/v4/users/me/tokens", body: `{"description":"d"}`, status: 400, answer: fxErrNoDescription},
			wantAPI(400, ErrInvalidBodyParam, "uj66j6sf67fddgbrfnoroidoky"), false},
		{"pat unknown", get, step{method: "GET", path: "/api/v4/users/tokens/" + patID, status: 404, answer: fxErrNoToken},
			wantAPI(404, ErrTokenNotFound, "mfryyyidqpyp3yfpgo7ndk7epa"), false},
		{"pat list forbidden", listTokens, step{method: "GET", path: "/api/v4/users/me/tokens", query: "page=0&per_page=200", status: 403, answer: fxErrPermission},
			wantAPI(403, ErrPermission, "o31c8x571fgyjc11jsig3mf4ba"), false},
		{"rate limited POST", revoke, step{method: "POST", path: "/api/v4/users/tokens/revoke", body: `{"token_id":"` + patID + `"}`, status: 429,
			ctype: "text/plain; charset=utf-8", header: map[string]string{"Retry-After": "3", "X-Ratelimit-Reset": "3"}, answer: "limit exceeded\n"},
			wantRateLimited(3 * time.Second), false},
		{"html 200", me, step{method: "GET", path: "/api/v4/users/me", ctype: "text/html", answer: "<!doctype html><html><head><title>Mattermost</title></head></html>"},
			wantBadResponse("HTML"), false},
		{"html error", logout, step{method: "POST", path: "/api/v4/users/logout", status: 502, ctype: "text/html", answer: "<html><title>502 Bad Gateway</title></html>"},
			wantBadResponse("HTML"), false},
		{"truncated list", hooks, step{method: "GET", path: "/api/v4/hooks/outgoing", query: "team_id=" + teamID + "&page=0&per_page=200", answer: fxHooks[:70]},
			wantBadResponse("truncated"), false},
		{"error without id", me, step{method: "GET", path: "/api/v4/users/me", status: 500, answer: `{"foo":1}`},
			wantBadResponse("error id"), false},
		{"not OK", revoke, step{method: "POST", path: "/api/v4/users/tokens/revoke", body: `{"token_id":"` + patID + `"}`, answer: `{"status":"FAIL"}`},
			wantBadResponse("OK"), false},
		{"regen without token", regen, step{method: "PUT", path: "/api/v4/commands/" + cmdID + "/regen_token", answer: `{}`},
			wantBadResponse("no token"), false},
		{"hook regen without token", hook, step{method: "POST", path: "/api/v4/hooks/outgoing/" + hookID + "/regen_token", answer: `{"id":"` + hookID + `"}`},
			wantBadResponse("no token"), false},
		{"created without token", create, step{method: "POST", path: "/api/v4/users/me/tokens", body: `{"description":"d"}`, answer: fxPAT},
			wantBadResponse("no token"), false},
		{"qr not base64", gen, step{method: "POST", path: "/api/v4/users/xyz/mfa/generate", answer: `{"secret":"ABC","qr_code":"%%%"}`},
			wantBadResponse("base64"), false},
		{"no secret", gen, step{method: "POST", path: "/api/v4/users/xyz/mfa/generate", answer: `{"qr_code":""}`},
			wantBadResponse("secret"), false},
		{"activate not OK", activate, step{method: "PUT", path: "/api/v4/users/me/mfa", body: `{"activate":true,"code":"12"}`, answer: `{"status":""}`},
			wantBadResponse("OK"), false},
		{"activate garbled", activate, step{method: "PUT", path: "/api/v4/users/me/mfa", body: `{"activate":true,"code":"12"}`, answer: `{"status":`},
			wantBadResponse("truncated"), false},
		{"generate garbled", gen, step{method: "POST", path: "/api/v4/users/xyz/mfa/generate", answer: `[1]`},
			wantBadResponse("field"), false},
		{"regen garbled", regen, step{method: "PUT", path: "/api/v4/commands/" + cmdID + "/regen_token", answer: `[`},
			wantBadResponse("truncated"), false},
		{"hook garbled", hook, step{method: "POST", path: "/api/v4/hooks/outgoing/" + hookID + "/regen_token", answer: `[]`},
			wantBadResponse("field"), false},
		{"create garbled", create, step{method: "POST", path: "/api/v4/users/me/tokens", body: `{"description":"d"}`, answer: `[]`},
			wantBadResponse("field"), false},
		{"get command garbled", getCmd, step{method: "GET", path: "/api/v4/commands/" + cmdID, answer: `[]`},
			wantBadResponse("field"), false},
		{"get token garbled", get, step{method: "GET", path: "/api/v4/users/tokens/" + patID, answer: `[]`},
			wantBadResponse("field"), false},
		{"teams garbled", teams, step{method: "GET", path: "/api/v4/users/me/teams", answer: `{}`},
			wantBadResponse("field"), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			tc.st.auth = bearer(sessTok)
			err := tc.call(fake(t, sessTok, tc.st))
			if err == nil {
				t.Fatal("want an error")
			}
			tc.check(t, err)
			var ae *client.APIError
			if errors.As(err, &ae) && ae.Unauthorized() != tc.unauth {
				t.Errorf("Unauthorized() = %v", ae.Unauthorized())
			}
			if strings.Contains(err.Error(), sessTok) {
				t.Errorf("error text carries the session token")
			}
		})
	}
}

// A developer-mode server writes the token into detailed_error; the client
// must not pass it on.
func TestErrorDetailScrubsSecrets(t *testing.T) {
	answer := `{"id":"api.context.session_expired.app_error","message":"Invalid or expired session, please login again.","detailed_error":"token=` +
		sessTok + ` Error: x; other=token=zzzzzzzzzzzzzzzzzzzzzzzzzz","request_id":"r","status_code":401}`
	m := fake(t, sessTok, step{method: "GET", path: "/api/v4/users/me", auth: bearer(sessTok), status: 401, answer: answer})
	_, err := m.Me(bg)
	var ae *client.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("got %T", err)
	}
	if strings.Contains(ae.Detail, sessTok) || strings.Contains(ae.Detail, "zzzz") || !strings.Contains(ae.Detail, client.Redacted) {
		t.Errorf("detail not scrubbed")
	}
}

func TestEmptyIDsAreRefusedLocally(t *testing.T) {
	m := fake(t, sessTok) // no request may arrive
	checks := []error{
		func() error { _, err := m.GenerateMFA(bg, ""); return err }(),
		m.ActivateMFA(bg, "", "123456"),
		m.ActivateMFA(bg, "me", " "),
		m.DeactivateMFA(bg, ""),
		func() error { _, err := m.ListCommands(bg, ""); return err }(),
		func() error { _, err := m.GetCommand(bg, ""); return err }(),
		func() error { _, err := m.RegenCommandToken(bg, ""); return err }(),
		func() error { _, err := m.ListOutgoingWebhooks(bg, ""); return err }(),
		func() error { _, err := m.RegenOutgoingWebhookToken(bg, ""); return err }(),
		func() error { _, err := m.CreateUserAccessToken(bg, "", "d"); return err }(),
		func() error { _, err := m.CreateUserAccessToken(bg, "me", ""); return err }(),
		func() error { _, err := m.ListUserAccessTokens(bg, ""); return err }(),
		func() error { _, err := m.GetUserAccessToken(bg, ""); return err }(),
		m.RevokeUserAccessToken(bg, ""),
		m.DisableUserAccessToken(bg, ""),
		m.EnableUserAccessToken(bg, ""),
	}
	for i, err := range checks {
		if err == nil || !strings.Contains(err.Error(), "is empty") {
			t.Errorf("check %d: %v", i, err)
		}
	}
}

func TestTransportErrorOnEveryCall(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	base := srv.URL
	srv.Close()
	core, err := client.New(client.Options{Service: "mattermost", BaseURL: base, GETRetries: -1, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	m := New(core, sessTok)
	calls := map[string]func() error{
		"login":     func() error { _, _, err := m.Login(bg, "a", "b", ""); return err },
		"logout":    func() error { return m.Logout(bg) },
		"me":        func() error { _, err := m.Me(bg); return err },
		"generate":  func() error { _, err := m.GenerateMFA(bg, "me"); return err },
		"activate":  func() error { return m.ActivateMFA(bg, "me", "123456") },
		"regen":     func() error { _, err := m.RegenCommandToken(bg, cmdID); return err },
		"hook":      func() error { _, err := m.RegenOutgoingWebhookToken(bg, hookID); return err },
		"create":    func() error { _, err := m.CreateUserAccessToken(bg, "me", "d"); return err },
		"list pats": func() error { _, err := m.ListUserAccessTokens(bg, "me"); return err },
	}
	for name, call := range calls {
		var te *client.TransportError
		if err := call(); !errors.As(err, &te) {
			t.Errorf("%s: got %T, want *client.TransportError", name, err)
		}
	}
}
