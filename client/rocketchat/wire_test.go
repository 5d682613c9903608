package rocketchat_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"keyturn/client"
	"keyturn/client/rocketchat"
)

// Fixtures from the seed documents and the API reference.
const (
	fixtureUserID    = "rbAXPnMktTFbNpwtJ"
	fixtureAuthToken = "RScctEHSmLGZGywfIhWyRpyofhKOiMoUIpimhvheU3f"
	fixture2FACode   = "148750"
	fixturePAT       = "2jdk99wuSjXPO201XlAks9sjDjAhSJmskAKW301mSuj9Sk"
	fixtureGenBody   = `{"tokenName":"mypersonaltoken","bypassTwoFactor":false}`
	fixtureRegenBody = `{"tokenName":"mypersonaltoken"}`
	fixtureTokenResp = `{"token":"2jdk99wuSjXPO201XlAks9sjDjAhSJmskAKW301mSuj9Sk","success":true}`
	fixtureLoginResp = `{"status":"success","success":true,
 "data":{"userId":"aobEdbYhXfu5hkeqG","authToken":"9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq",
  "me":{"_id":"aobEdbYhXfu5hkeqG","username":"alice","name":"Alice","emails":[{"address":"a@x","verified":true}],"status":"online",
        "active":true,"roles":["user"],"email":"a@x","avatarUrl":"https://host/avatar/alice","isOAuthUser":false,
        "settings":{"profile":{},"preferences":{}},
        "services":{"password":{"exists":true},"totp":{"enabled":true},"email2fa":{"enabled":true}}}}}`
	fixtureListResp = `{"tokens":[{"name":"cli","createdAt":"2018-08-01T17:17:48.068Z","lastTokenPart":"R8Agh3","bypassTwoFactor":false}],"success":true}`
)

// exchange is one expected request and the canned answer.
type exchange struct {
	method string
	path   string
	// headers that must have exactly these values; "" means must be absent.
	headers map[string]string
	body    string // expected JSON body; "" means no body
	status  int
	respHdr map[string]string
	resp    string
}

// stub serves the exchanges in order and fails the test on any difference.
func stub(t *testing.T, exchanges ...exchange) (*httptest.Server, *int) {
	t.Helper()
	n := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if n >= len(exchanges) {
			t.Errorf("unexpected request %s %s", r.Method, r.URL.Path)
			w.WriteHeader(500)
			return
		}
		ex := exchanges[n]
		n++
		if r.Method != ex.method || r.URL.Path != ex.path || r.URL.RawQuery != "" {
			t.Errorf("request %d: %s %s?%s, want %s %s", n, r.Method, r.URL.Path, r.URL.RawQuery, ex.method, ex.path)
		}
		if ua := r.Header.Get("User-Agent"); ua != client.UserAgent() {
			t.Errorf("User-Agent = %q", ua)
		}
		for k, want := range ex.headers {
			got, present := r.Header[http.CanonicalHeaderKey(k)]
			switch {
			case want == "" && present:
				t.Errorf("request %d: header %s is present", n, k)
			case want != "" && (len(got) != 1 || got[0] != want):
				t.Errorf("request %d: header %s differs from the fixture", n, k)
			}
		}
		data, _ := io.ReadAll(r.Body)
		if ex.body == "" {
			if len(data) != 0 {
				t.Errorf("request %d: unexpected body of %d bytes", n, len(data))
			}
		} else {
			if ct := r.Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("request %d: Content-Type = %q", n, ct)
			}
			var got, want any
			if err := json.Unmarshal(data, &got); err != nil {
				t.Errorf("request %d: body is not JSON", n)
			}
			if err := json.Unmarshal([]byte(ex.body), &want); err != nil {
				t.Fatalf("bad fixture: %v", err)
			}
			if !reflect.DeepEqual(got, want) {
				t.Errorf("request %d: body differs from the fixture", n)
			}
			// Strings stay strings (Rocket.Chat wants the code as a string).
			if bytes.Contains(data, []byte(`"code":1`)) {
				t.Errorf("request %d: code sent as a number", n)
			}
		}
		for k, v := range ex.respHdr {
			w.Header().Set(k, v)
		}
		if w.Header().Get("Content-Type") == "" {
			w.Header().Set("Content-Type", "application/json")
		}
		status := ex.status
		if status == 0 {
			status = 200
		}
		w.WriteHeader(status)
		_, _ = io.WriteString(w, ex.resp)
	}))
	t.Cleanup(func() {
		srv.Close()
		if n != len(exchanges) {
			t.Errorf("%d requests, want %d", n, len(exchanges))
		}
	})
	return srv, &n
}

func newClient(t *testing.T, url string, cred rocketchat.Credentials) *rocketchat.Client {
	t.Helper()
	rc, err := rocketchat.Open(client.Options{BaseURL: url, GETRetries: -1}, cred)
	if err != nil {
		t.Fatal(err)
	}
	return rc
}

var fixtureCred = rocketchat.Credentials{UserID: fixtureUserID, AuthToken: fixtureAuthToken}

func authHeaders(extra map[string]string) map[string]string {
	h := map[string]string{"X-User-Id": fixtureUserID, "X-Auth-Token": fixtureAuthToken}
	for k, v := range extra {
		h[k] = v
	}
	return h
}

var no2FA = map[string]string{"x-2fa-code": "", "x-2fa-method": ""}

func TestLoginRequest(t *testing.T) {
	srv, _ := stub(t,
		exchange{method: "POST", path: "/api/v1/login", body: `{"user":"alice","password":"plain"}`,
			headers: map[string]string{"X-User-Id": "", "X-Auth-Token": "", "x-2fa-code": ""}, resp: fixtureLoginResp},
		exchange{method: "POST", path: "/api/v1/login", body: `{"user":"alice@example.com","password":"plain","code":"123456"}`, resp: fixtureLoginResp},
	)
	rc := newClient(t, srv.URL, rocketchat.Credentials{})
	res, err := rc.Login(context.Background(), "alice", "plain", "")
	if err != nil {
		t.Fatal(err)
	}
	if res.Credentials.UserID != "aobEdbYhXfu5hkeqG" || res.Credentials.AuthToken != "9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq" || res.Credentials.IsPAT {
		t.Error("credentials differ from the fixture")
	}
	me := res.Me
	if me.Username != "alice" || me.Email != "a@x" || !me.Emails[0].Verified || me.AvatarURL != "https://host/avatar/alice" {
		t.Errorf("me = %+v", me)
	}
	if !me.TOTPEnabled() || !me.EmailTwoFactorEnabled() || !me.HasPassword() ||
		!reflect.DeepEqual(me.SecondFactorMethods(), []string{"totp", "email"}) {
		t.Errorf("services = %+v", me.Services)
	}
	if _, err := rc.Login(context.Background(), "alice@example.com", "plain", " 123456 "); err != nil {
		t.Fatal(err)
	}
}

func TestLoginRefusesEmptyInput(t *testing.T) {
	rc := newClient(t, "http://127.0.0.1:1", rocketchat.Credentials{})
	if _, err := rc.Login(context.Background(), " ", "pw", ""); err == nil {
		t.Error("empty user accepted")
	}
	if _, err := rc.Login(context.Background(), "alice", "", ""); err == nil {
		t.Error("empty password accepted")
	}
}

func TestLoginAnswerWithoutToken(t *testing.T) {
	srv, _ := stub(t, exchange{method: "POST", path: "/api/v1/login", body: `{"user":"a","password":"b"}`,
		resp: `{"status":"success","data":{"userId":"x"}}`})
	_, err := newClient(t, srv.URL, rocketchat.Credentials{}).Login(context.Background(), "a", "b", "")
	var be *client.BadResponseError
	if !errors.As(err, &be) {
		t.Fatalf("err = %v", err)
	}
}

func TestMeRequest(t *testing.T) {
	srv, _ := stub(t,
		exchange{method: "GET", path: "/api/v1/me", headers: authHeaders(no2FA),
			resp: `{"_id":"rbAXPnMktTFbNpwtJ","username":"bob","emails":[{"address":"bob@example.com","verified":true}],"roles":["user"],"active":true,"services":{"password":{"exists":true},"email2fa":{"enabled":true}},"success":true}`},
		exchange{method: "GET", path: "/api/v1/me", headers: authHeaders(nil), resp: `{"success":true}`},
	)
	rc := newClient(t, srv.URL, fixtureCred)
	me, err := rc.Me(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if me.ID != fixtureUserID || me.TOTPEnabled() || !me.EmailTwoFactorEnabled() || !reflect.DeepEqual(me.SecondFactorMethods(), []string{"email"}) {
		t.Errorf("me = %+v", me)
	}
	var be *client.BadResponseError
	if _, err := rc.Me(context.Background()); !errors.As(err, &be) {
		t.Errorf("answer without _id: %v", err)
	}
}

func TestLogoutRequest(t *testing.T) {
	srv, _ := stub(t, exchange{method: "POST", path: "/api/v1/logout", headers: authHeaders(nil),
		resp: `{"status":"success","data":{"message":"You've been logged out!"}}`})
	if err := newClient(t, srv.URL, fixtureCred).Logout(context.Background()); err != nil {
		t.Fatal(err)
	}
}

func TestNothingSentWithoutWhatACallNeeds(t *testing.T) {
	srv, n := stub(t)
	ctx := context.Background()
	none := newClient(t, srv.URL, rocketchat.Credentials{})
	pat := none.WithCredentials(rocketchat.Credentials{UserID: "u", AuthToken: "t", IsPAT: true})
	if err := pat.Logout(ctx); !errors.Is(err, rocketchat.ErrLogoutWithPAT) {
		t.Errorf("logout with PAT: %v", err)
	}
	if _, err := none.Me(ctx); !errors.Is(err, rocketchat.ErrNoCredentials) {
		t.Errorf("me without credentials: %v", err)
	}
	if err := none.Logout(ctx); !errors.Is(err, rocketchat.ErrNoCredentials) {
		t.Errorf("logout without credentials: %v", err)
	}
	if _, err := none.ListPATs(ctx); !errors.Is(err, rocketchat.ErrNoCredentials) {
		t.Errorf("list without credentials: %v", err)
	}
	rc := none.WithCredentials(fixtureCred)
	if _, err := rc.GeneratePAT(ctx, "  ", false, nil); err == nil {
		t.Error("empty token name accepted")
	}
	if _, err := rc.RegeneratePAT(ctx, strings.Repeat("x", 1001), nil); err == nil {
		t.Error("over-long token name accepted")
	}
	if err := rc.RemovePAT(ctx, "", nil); err == nil {
		t.Error("empty token name accepted")
	}
	if _, err := rc.GeneratePAT(ctx, "cli", false, &rocketchat.SecondFactor{Code: "123456"}); err == nil {
		t.Error("second factor without a method accepted")
	}
	if _, err := rc.GeneratePAT(ctx, "cli", false, &rocketchat.SecondFactor{Method: "totp"}); err == nil {
		t.Error("second factor without a code accepted")
	}
	if err := rc.SendEmailCode(ctx, " "); err == nil {
		t.Error("empty emailOrUsername accepted")
	}
	if _, err := rc.ValidateTOTP(ctx, "", nil); err == nil {
		t.Error("empty TOTP code accepted")
	}
	if err := rc.DisableTOTP(ctx, ""); err == nil {
		t.Error("empty TOTP code accepted")
	}
	if *n != 0 {
		t.Errorf("%d requests were sent", *n)
	}
	if rc.Credentials() != fixtureCred || none.Credentials() != (rocketchat.Credentials{}) {
		t.Error("WithCredentials changed the original")
	}
	if rc.Core() == nil {
		t.Error("no core client")
	}
}

func TestGeneratePATRequest(t *testing.T) {
	srv, _ := stub(t,
		exchange{method: "POST", path: "/api/v1/users.generatePersonalAccessToken", body: fixtureGenBody,
			headers: authHeaders(map[string]string{"x-2fa-code": fixture2FACode, "x-2fa-method": "totp"}), resp: fixtureTokenResp},
		exchange{method: "POST", path: "/api/v1/users.generatePersonalAccessToken", body: `{"tokenName":"ci","bypassTwoFactor":true}`,
			headers: authHeaders(no2FA), resp: fixtureTokenResp},
		exchange{method: "POST", path: "/api/v1/users.generatePersonalAccessToken", body: `{"tokenName":"ci","bypassTwoFactor":true}`,
			headers: authHeaders(nil), resp: `{"success":true}`},
	)
	rc := newClient(t, srv.URL, fixtureCred)
	tok, err := rc.GeneratePAT(context.Background(), "mypersonaltoken", false, &rocketchat.SecondFactor{Method: "totp", Code: fixture2FACode})
	if err != nil || tok != fixturePAT {
		t.Fatalf("generate: err %v, token matches %v", err, tok == fixturePAT)
	}
	if tok, err = rc.GeneratePAT(context.Background(), "ci", true, nil); err != nil || tok != fixturePAT {
		t.Fatalf("generate with bypass: %v", err)
	}
	var be *client.BadResponseError
	if _, err := rc.GeneratePAT(context.Background(), "ci", true, nil); !errors.As(err, &be) {
		t.Errorf("answer without token: %v", err)
	}
}

func TestPasswordMethodSendsTheDigest(t *testing.T) {
	const plain = "correct horse"
	digest := rocketchat.HashPassword(plain)
	if digest != "4104d36f8da2c254349f85836793ebe029e0c957063a34c91c2e9203187b5631" {
		t.Fatalf("HashPassword is not lowercase hex SHA-256")
	}
	srv, _ := stub(t, exchange{method: "POST", path: "/api/v1/users.regeneratePersonalAccessToken", body: fixtureRegenBody,
		headers: authHeaders(map[string]string{"x-2fa-code": digest, "x-2fa-method": "password"}), resp: fixtureTokenResp})
	rc := newClient(t, srv.URL, fixtureCred)
	tok, err := rc.RegeneratePAT(context.Background(), "mypersonaltoken", &rocketchat.SecondFactor{Method: "Password", Code: plain})
	if err != nil || tok != fixturePAT {
		t.Fatalf("regenerate: %v", err)
	}
}

func TestListPATsRequest(t *testing.T) {
	srv, _ := stub(t,
		exchange{method: "GET", path: "/api/v1/users.getPersonalAccessTokens", headers: authHeaders(no2FA), resp: fixtureListResp},
		// old servers: no bypassTwoFactor; EJSON and epoch dates
		exchange{method: "GET", path: "/api/v1/users.getPersonalAccessTokens", headers: authHeaders(nil),
			resp: `{"tokens":[{"name":"a","createdAt":{"$date":1533143868068},"lastTokenPart":"abcdef"},{"name":"b","createdAt":1533143868068,"lastTokenPart":"ghijkl"}],"success":true}`},
		exchange{method: "GET", path: "/api/v1/users.getPersonalAccessTokens", headers: authHeaders(nil),
			resp: `{"tokens":[{"name":"a","createdAt":"yesterday"}],"success":true}`},
	)
	rc := newClient(t, srv.URL, fixtureCred)
	pats, err := rc.ListPATs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	want := time.Date(2018, 8, 1, 17, 17, 48, 68e6, time.UTC)
	if len(pats) != 1 || pats[0].Name != "cli" || !pats[0].CreatedAt.Equal(want) || pats[0].LastTokenPart != "R8Agh3" ||
		pats[0].BypassTwoFactor == nil || *pats[0].BypassTwoFactor {
		t.Errorf("pats = %+v", pats)
	}
	pats, err = rc.ListPATs(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if len(pats) != 2 || pats[0].BypassTwoFactor != nil || !pats[0].CreatedAt.Equal(want) || !pats[1].CreatedAt.Equal(want) {
		t.Errorf("old-server pats = %+v", pats)
	}
	var be *client.BadResponseError
	if _, err := rc.ListPATs(context.Background()); !errors.As(err, &be) {
		t.Errorf("bad date: %v", err)
	}
}

func TestRemovePATRequest(t *testing.T) {
	srv, _ := stub(t, exchange{method: "POST", path: "/api/v1/users.removePersonalAccessToken", body: fixtureRegenBody,
		headers: authHeaders(map[string]string{"x-2fa-code": "654321", "x-2fa-method": "email"}), resp: `{"success":true}`})
	rc := newClient(t, srv.URL, fixtureCred)
	if err := rc.RemovePAT(context.Background(), "mypersonaltoken", &rocketchat.SecondFactor{Method: "email", Code: " 654321 "}); err != nil {
		t.Fatal(err)
	}
}

func TestSendEmailCodeRequest(t *testing.T) {
	srv, _ := stub(t,
		exchange{method: "POST", path: "/api/v1/users.2fa.sendEmailCode", body: `{"emailOrUsername":"alice"}`,
			headers: map[string]string{"X-User-Id": "", "X-Auth-Token": ""}, resp: `{"success":true}`},
		exchange{method: "POST", path: "/api/v1/users.2fa.sendEmailCode", body: `{"emailOrUsername":"alice"}`,
			headers: authHeaders(nil), resp: `{"success":true}`},
	)
	rc := newClient(t, srv.URL, rocketchat.Credentials{})
	if err := rc.SendEmailCode(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
	if err := rc.WithCredentials(fixtureCred).SendEmailCode(context.Background(), "alice"); err != nil {
		t.Fatal(err)
	}
}

func TestTOTPRequests(t *testing.T) {
	const secret = "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP"
	url := "otpauth://totp/Rocket.Chat%3Aalice?secret=" + secret
	srv, _ := stub(t,
		exchange{method: "POST", path: "/api/v1/users.enableTotp", body: `{}`,
			headers: authHeaders(map[string]string{"x-2fa-code": "111111", "x-2fa-method": "email"}),
			resp:    `{"secret":"` + secret + `","url":"` + url + `","success":true}`},
		exchange{method: "POST", path: "/api/v1/users.validateTotp", body: `{"code":"222222"}`, headers: authHeaders(no2FA),
			resp: `{"codes":["Ab3dEf7h","Jk4mNp8q"],"success":true}`},
		exchange{method: "POST", path: "/api/v1/users.disableTotp", body: `{"code":"Ab3dEf7h"}`, headers: authHeaders(no2FA),
			resp: `{"disabled":true,"success":true}`},
		exchange{method: "POST", path: "/api/v1/users.disableTotp", body: `{"code":"333333"}`, headers: authHeaders(nil),
			resp: `{"disabled":false,"success":true}`},
		exchange{method: "POST", path: "/api/v1/users.enableTotp", body: `{}`, headers: authHeaders(nil), resp: `{"success":true}`},
	)
	rc := newClient(t, srv.URL, fixtureCred)
	ctx := context.Background()
	setup, err := rc.EnableTOTP(ctx, &rocketchat.SecondFactor{Method: "email", Code: "111111"})
	if err != nil {
		t.Fatal(err)
	}
	if setup.Secret != secret || setup.URL != url {
		t.Error("setup differs from the answer")
	}
	if strings.Contains(setup.String(), secret) || strings.Contains(setup.GoString(), secret) {
		t.Error("TOTPSetup prints its secret")
	}
	codes, err := rc.ValidateTOTP(ctx, "222222", nil)
	if err != nil || len(codes) != 2 {
		t.Fatalf("validate: %v, %d codes", err, len(codes))
	}
	if err := rc.DisableTOTP(ctx, "Ab3dEf7h"); err != nil {
		t.Fatal(err)
	}
	err = rc.DisableTOTP(ctx, "333333")
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Code != rocketchat.CodeInvalidTOTP {
		t.Errorf("disabled:false: %v", err)
	}
	var be *client.BadResponseError
	if _, err := rc.EnableTOTP(ctx, nil); !errors.As(err, &be) {
		t.Errorf("answer without secret: %v", err)
	}
}

func TestTOTPUnsupportedServer(t *testing.T) {
	notFound := `{"status":"error","message":"API endpoint does not exist"}`
	srv, _ := stub(t,
		exchange{method: "POST", path: "/api/v1/users.enableTotp", body: `{}`, status: 404, resp: notFound},
		exchange{method: "POST", path: "/api/v1/users.validateTotp", body: `{"code":"1"}`, status: 404,
			respHdr: map[string]string{"Content-Type": "text/html"}, resp: "<html><title>Not Found</title></html>"},
		exchange{method: "POST", path: "/api/v1/users.disableTotp", body: `{"code":"1"}`, status: 404, resp: notFound},
		exchange{method: "GET", path: "/api/v1/users.getPersonalAccessTokens", status: 404, resp: notFound},
	)
	rc := newClient(t, srv.URL, fixtureCred)
	ctx := context.Background()
	if _, err := rc.EnableTOTP(ctx, nil); !errors.Is(err, rocketchat.ErrTOTPUnsupported) {
		t.Errorf("enable: %v", err)
	}
	if _, err := rc.ValidateTOTP(ctx, "1", nil); !errors.Is(err, rocketchat.ErrTOTPUnsupported) {
		t.Errorf("validate: %v", err)
	}
	if err := rc.DisableTOTP(ctx, "1"); !errors.Is(err, rocketchat.ErrTOTPUnsupported) {
		t.Errorf("disable: %v", err)
	}
	_, err := rc.ListPATs(ctx)
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != 404 || ae.Message != "API endpoint does not exist" || ae.Detail == "" {
		t.Errorf("404 elsewhere: %v", err)
	}
}

func TestSecretsStayOutOfTraceAndStrings(t *testing.T) {
	const password = "pl41n-p4ssw0rd"
	var trace bytes.Buffer
	srv, _ := stub(t,
		exchange{method: "POST", path: "/api/v1/login", body: `{"user":"alice","password":"` + password + `","code":"987654"}`, resp: fixtureLoginResp},
		exchange{method: "POST", path: "/api/v1/users.generatePersonalAccessToken", body: `{"tokenName":"cli","bypassTwoFactor":false}`,
			headers: authHeaders(map[string]string{"x-2fa-method": "password"}), resp: fixtureTokenResp},
	)
	rc, err := rocketchat.Open(client.Options{BaseURL: srv.URL, Trace: client.NewTracer(&trace)}, rocketchat.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	res, err := rc.Login(context.Background(), "alice", password, "987654")
	if err != nil {
		t.Fatal(err)
	}
	sf := rocketchat.SecondFactor{Method: "password", Code: password}
	if _, err := rc.WithCredentials(fixtureCred).GeneratePAT(context.Background(), "cli", false, &sf); err != nil {
		t.Fatal(err)
	}
	out := trace.String() + res.Credentials.String() + fixtureCred.GoString() + sf.String() + sf.GoString()
	for _, secret := range []string{password, rocketchat.HashPassword(password), "987654", fixtureAuthToken, fixturePAT, res.Credentials.AuthToken} {
		if strings.Contains(out, secret) {
			t.Errorf("a secret of %d characters shows in the trace or a String", len(secret))
		}
	}
	if !strings.Contains(trace.String(), "/api/v1/users.generatePersonalAccessToken") {
		t.Error("the trace is empty")
	}
	if !strings.Contains(rocketchat.Credentials{UserID: "u"}.String(), "no token") ||
		!strings.Contains(rocketchat.Credentials{UserID: "u", AuthToken: "t", IsPAT: true}.String(), "personal access token") {
		t.Error("Credentials.String does not say what it holds")
	}
}

func TestNewNamesTheService(t *testing.T) {
	srv, _ := stub(t, exchange{method: "GET", path: "/api/v1/me", status: 401,
		resp: `{"status":"error","message":"You must be logged in to do this."}`})
	hc, err := client.New(client.Options{BaseURL: srv.URL}) // no Service given
	if err != nil {
		t.Fatal(err)
	}
	_, err = rocketchat.New(hc, fixtureCred).Me(context.Background())
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Service != "rocketchat" || !strings.HasPrefix(err.Error(), "rocketchat: HTTP 401") {
		t.Errorf("err = %v", err)
	}
	if _, err := rocketchat.Open(client.Options{BaseURL: "ftp://x"}, rocketchat.Credentials{}); err == nil {
		t.Error("bad URL accepted")
	}
}
