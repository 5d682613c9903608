package capillary

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"keyturn/client"
)

// Fixtures from the reference (capillary.md §3) and the regenerate-token
// seed document; <…JWT> placeholders are filled with JWTs of the
// documented layout.
const (
	sampleToken = "eyJpZHYiOlsiTU9CSUxFfDE4NzY3NDMxNzU0Il0sImRldiI6IjEyMzQiLCJvcmciOiJCVUtMIiwiYWxnIjoiSFMyNTYifQ.eyJ1aWQiOiIxNzgwNzc2IiwiaXNzIjoiQ0FQSUxMQVJZIFRFQ0hOT0xPR0lFUyIsImlzYyI6ImZhbHNlIiwib2djIjpbIjEwMDQ1OHxidWtsLmluZC5zb2x1dGlvbiJdLCJleHAiOjE3MTcwNjE0NjUsImlhdCI6MTcxNzA2MDU2NSwicm9sIjoiVVNFUiJ9.rmKqmOQyYYtEPs422G0xZ-EUFpak5i0jdrx9W4YVxJQ"
	sampleKey   = "eyJpZHYiOlsiTU9CSUxFfDE4NzY3NDMxNzU0Il0sImRldiI6IjEyMzQiLCJvcmciOiJCVUtMIiwiYWxnIjoiSFMyNTYifQ.eyJ1aWQiOiIxNzgwNzc2IiwiaXNzIjoiQ0FQSUxMQVJZIFRFQ0hOT0xPR0lFUyIsIm1mYSI6dHJ1ZSwiaWF0IjoxNzE2OTYyNTU3LCJyb2wiOiJBVVRIIn0.89CmFeLl_zfUBuv2Ea4eQIc3Wy8fJzlcRQad8UcqK-4"
	sampleExp   = 1717061465
)

// jwt builds an unsigned-looking JWT of the engine's layout.
func jwt(header, payload string) string {
	e := base64.RawURLEncoding.EncodeToString
	return e([]byte(header)) + "." + e([]byte(payload)) + ".c2lnbmF0dXJl"
}

var (
	viewJWT = jwt(`{"idv":["MOBILE|919999999993"],"dev":"123456785","org":"DOCDEMO","alg":"HS256"}`,
		`{"iss":"CAPILLARY TECHNOLOGIES","isc":"false","ogc":["100458|docdemo"],"exp":1760000900,"iat":1760000000,"rol":"VIEW"}`)
	userJWT = jwt(`{"idv":["MOBILE|919999999993"],"dev":"123456785","org":"DOCDEMO","alg":"HS256"}`,
		`{"uid":"42","iss":"CAPILLARY TECHNOLOGIES","isc":"false","ogc":["100458|docdemo"],"exp":1760003600,"iat":1760000000,"rol":"USER"}`)
	pendingJWT = jwt(`{"idv":["MOBILE|18795774754"],"dev":"1234","org":"BUKL","alg":"HS256"}`,
		`{"uid":"1780776","iss":"CAPILLARY TECHNOLOGIES","isc":"false","ogc":["100458|bukl.ind.solution"],"exp":1717064165,"iat":1717060565,"rol":"MFA_PENDING"}`)
	keyJWT = jwt(`{"idv":["MOBILE|919999999993"],"dev":"123456785","org":"DOCDEMO","alg":"HS256"}`,
		`{"uid":"42","iss":"CAPILLARY TECHNOLOGIES","mfa":false,"iat":1760000000,"rol":"AUTH"}`)
)

var (
	docDemo = Identity{IdentifierType: "MOBILE", IdentifierValue: "919999999993", Brand: "DocDemo", DeviceID: "123456785"}
	bukl    = Identity{IdentifierType: "MOBILE", IdentifierValue: "18767431754", Brand: "Bukl", DeviceID: "1234"}
)

// exchange is one expected request and the answer to it.
type exchange struct {
	method, path string
	body         string // the exact JSON body expected
	status       int
	contentType  string
	reply        string
}

// serve starts a handler that asserts the request and answers.
func serve(t *testing.T, x exchange) (*Client, *atomic.Int32, func(Identity) *Client) {
	t.Helper()
	var hits atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits.Add(1)
		if r.Method != x.method || r.URL.Path != x.path || r.URL.RawQuery != "" {
			t.Errorf("request %s %s?%s, want %s %s", r.Method, r.URL.Path, r.URL.RawQuery, x.method, x.path)
		}
		if ct := r.Header.Get("Content-Type"); ct != "application/json" {
			t.Errorf("Content-Type %q", ct)
		}
		if a := r.Header.Get("Accept"); a != "application/json" {
			t.Errorf("Accept %q", a)
		}
		if r.Header.Get("Authorization") != "" || r.Header.Get("Cookie") != "" {
			t.Error("the auth engine takes no Authorization header or cookie")
		}
		if ua := r.Header.Get("User-Agent"); !strings.HasPrefix(ua, "keyturn/") {
			t.Errorf("User-Agent %q", ua)
		}
		got, _ := io.ReadAll(r.Body)
		assertJSON(t, got, x.body)
		ct := x.contentType
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		st := x.status
		if st == 0 {
			st = 200
		}
		w.WriteHeader(st)
		_, _ = io.WriteString(w, x.reply)
	}))
	t.Cleanup(srv.Close)
	mk := func(id Identity) *Client {
		hc, err := client.New(client.Options{Service: "capillary", BaseURL: srv.URL, GETRetries: -1})
		if err != nil {
			t.Fatal(err)
		}
		return New(hc, id)
	}
	return mk(docDemo), &hits, mk
}

// assertJSON compares a request body with the expected JSON, field by
// field and type by type (a number OTP would differ from a string one).
// Mismatches name the fields, never the secret values.
func assertJSON(t *testing.T, got []byte, want string) {
	t.Helper()
	var g, w map[string]any
	if err := json.Unmarshal(got, &g); err != nil {
		t.Errorf("request body is not a JSON object: %v", err)
		return
	}
	if err := json.Unmarshal([]byte(want), &w); err != nil {
		t.Fatalf("bad fixture: %v", err)
	}
	for k, wv := range w {
		gv, ok := g[k]
		if !ok {
			t.Errorf("request body lacks %q", k)
			continue
		}
		if !reflect.DeepEqual(gv, wv) {
			if client.IsSecretField(k) {
				t.Errorf("request field %q differs (%T)", k, gv)
			} else {
				t.Errorf("request field %q = %v, want %v", k, gv, wv)
			}
		}
	}
	for k := range g {
		if _, ok := w[k]; !ok {
			t.Errorf("request body has unexpected field %q", k)
		}
	}
}

func fixture(t *testing.T, name string) string {
	t.Helper()
	b, err := os.ReadFile("testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var ctx = context.Background()

func TestGenerateToken(t *testing.T) {
	c, _, _ := serve(t, exchange{
		method: "POST", path: "/auth/v1/token/generate",
		body: `{"identifierType":"MOBILE","identifierValue":"919999999993","brand":"DocDemo","deviceId":"123456785"}`,
		reply: `{"status":{"success":true,"code":200,"message":"SUCCESS"},
		 "auth":{"token":"` + viewJWT + `","key":null},
		 "user":{"appRegistered":false,"sessionId":"P-6ec5fcc9-2bca-4778-9672-4ee5097d8313","role":"VIEW","userRegisteredForPassword":true}}`,
	})
	s, err := c.GenerateToken(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	want := Session{SessionID: "P-6ec5fcc9-2bca-4778-9672-4ee5097d8313", Token: viewJWT, Role: "VIEW",
		UserRegisteredForPassword: true, Expires: time.Unix(1760000900, 0).UTC()}
	if *s != want {
		t.Errorf("session %+v", *s)
	}
}

func TestGenerateTokenFirstTimePassword(t *testing.T) {
	_, _, mk := serve(t, exchange{
		method: "POST", path: "/auth/v1/token/generate",
		body: `{"identifierType":"MOBILE","identifierValue":"919999999991","brand":"DocDemo","deviceId":"123456785",
		 "password":"abc123","confirmPassword":"abc123"}`,
		reply: `{"status":{"success":true,"code":200,"message":"SUCCESS"},
		 "auth":{"token":"` + viewJWT + `","key":null},
		 "user":{"appRegistered":false,"sessionId":"D-7df5e433-17bb-4f02-9ce0-7420ba69c7b4","role":"VIEW","userRegisteredForPassword":false}}`,
	})
	id := docDemo
	id.IdentifierValue = "919999999991"
	s, err := mk(id).GenerateToken(ctx, "abc123", "abc123")
	if err != nil {
		t.Fatal(err)
	}
	if s.SessionID != "D-7df5e433-17bb-4f02-9ce0-7420ba69c7b4" || s.UserRegisteredForPassword {
		t.Errorf("session %q registered %v", s.SessionID, s.UserRegisteredForPassword)
	}
}

func TestGenerateOTP(t *testing.T) {
	c, hits, _ := serve(t, exchange{
		method: "POST", path: "/auth/v1/otp/generate",
		body:  `{"identifierType":"MOBILE","identifierValue":"919999999993","brand":"DocDemo","deviceId":"123456785","sessionId":"P-7df5e433-17bb-4f02-9ce0-7420ba69c7b4"}`,
		reply: `{"status":{"success":true,"code":200,"message":"SUCCESS"}}`,
	})
	if err := c.GenerateOTP(ctx, "P-7df5e433-17bb-4f02-9ce0-7420ba69c7b4"); err != nil {
		t.Fatal(err)
	}
	if hits.Load() != 1 {
		t.Errorf("%d requests", hits.Load())
	}
}

func TestValidateOTP(t *testing.T) {
	c, _, _ := serve(t, exchange{
		method: "POST", path: "/auth/v1/otp/validate",
		body: `{"identifierType":"MOBILE","identifierValue":"919999999993","brand":"DocDemo","deviceId":"123456785",
		 "sessionId":"P-6e195d03-a643-4d24-bbda-0d6e3810b06d","otp":"999999"}`,
		reply: `{"status":{"success":true,"code":200,"message":"SUCCESS"},
		 "auth":{"token":"` + userJWT + `","key":"` + keyJWT + `"},
		 "user":{"appRegistered":false,"sessionId":null,"role":"USER","userRegisteredForPassword":true}}`,
	})
	tk, err := c.ValidateOTP(ctx, "P-6e195d03-a643-4d24-bbda-0d6e3810b06d", " 999999 ")
	if err != nil {
		t.Fatal(err)
	}
	if tk.Token != userJWT || tk.Key != keyJWT || tk.Role != "USER" || !tk.Expires.Equal(time.Unix(1760003600, 0)) {
		t.Errorf("tokens: role %q expires %v, token/key as sent: %v/%v", tk.Role, tk.Expires, tk.Token == userJWT, tk.Key == keyJWT)
	}
}

func TestValidatePassword(t *testing.T) {
	_, _, mk := serve(t, exchange{
		method: "POST", path: "/auth/v1/password/validate",
		body: `{"identifierType":"MOBILE","identifierValue":"919999922332","brand":"DocDemo","deviceId":"deviceid1",
		 "password":"abc123","sessionId":"P-268e52ac-0546-4ae1-8826-578a897efeae"}`,
		reply: `{"status":{"success":true,"code":200,"message":"SUCCESS"},
		 "auth":{"token":"` + pendingJWT + `","key":"` + keyJWT + `"},
		 "identifiers":{"identifierList":null},
		 "user":{"appRegistered":false,"sessionId":null,"role":"MFA_PENDING","userRegisteredForPassword":true}}`,
	})
	c := mk(Identity{IdentifierType: "MOBILE", IdentifierValue: "919999922332", Brand: "DocDemo", DeviceID: "deviceid1"})
	tk, err := c.ValidatePassword(ctx, "P-268e52ac-0546-4ae1-8826-578a897efeae", "abc123")
	if err != nil {
		t.Fatal(err)
	}
	if tk.Role != "MFA_PENDING" || tk.Key != keyJWT || !tk.Expires.Equal(time.Unix(1717064165, 0)) {
		t.Errorf("role %q expires %v", tk.Role, tk.Expires)
	}
}

func TestRegenerateToken(t *testing.T) {
	_, _, mk := serve(t, exchange{
		method: "POST", path: "/auth/v1/token/regenerate",
		body: `{"identifierType":"MOBILE","identifierValue":"919999922332","brand":"DocDemo","deviceId":"deviceid1",
		 "key":"` + keyJWT + `"}`,
		reply: `{"status":{"success":true,"code":200,"message":"SUCCESS"},"auth":{"token":"` + userJWT + `","key":null},
		 "user":{"appRegistered":false,"sessionId":null,"role":"USER","userRegisteredForPassword":true}}`,
	})
	c := mk(Identity{IdentifierType: "MOBILE", IdentifierValue: "919999922332", Brand: "DocDemo", DeviceID: "deviceid1"})
	tk, err := c.RegenerateToken(ctx, keyJWT)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Key != "" || tk.Token != userJWT || tk.Role != "USER" {
		t.Errorf("regenerate: key should be empty (null), role %q", tk.Role)
	}
}

func TestGenerateMFAToken(t *testing.T) {
	id := Identity{IdentifierType: "MOBILE", IdentifierValue: "18795774754", Brand: "Bukl", DeviceID: "1234"}
	reply := `{"status":{"success":true,"code":200,"message":"SUCCESS"},
	 "auth":{"token":"` + viewJWT + `","key":null},
	 "user":{"appRegistered":false,"sessionId":"P-a2996f83-a72d-405c-aa23-0eed7a7dba1e","role":"VIEW","userRegisteredForPassword":false}}`
	t.Run("existing", func(t *testing.T) {
		_, _, mk := serve(t, exchange{
			method: "POST", path: "/auth/v1/mfa/token/generate",
			body:  `{"identifierType":"MOBILE","identifierValue":"18795774754","deviceId":"1234","brand":"Bukl","authorizedToken":"` + pendingJWT + `"}`,
			reply: reply,
		})
		s, err := mk(id).GenerateMFAToken(ctx, pendingJWT, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if s.SessionID != "P-a2996f83-a72d-405c-aa23-0eed7a7dba1e" || s.Role != "VIEW" || s.UserRegisteredForPassword {
			t.Errorf("session %q role %q", s.SessionID, s.Role)
		}
	})
	t.Run("first-time password", func(t *testing.T) {
		_, _, mk := serve(t, exchange{
			method: "POST", path: "/auth/v1/mfa/token/generate",
			body: `{"identifierType":"MOBILE","identifierValue":"18795774754","deviceId":"1234","brand":"Bukl","authorizedToken":"` + pendingJWT + `",
			 "password":"12345","confirmPassword":"12345"}`,
			reply: reply,
		})
		if _, err := mk(id).GenerateMFAToken(ctx, pendingJWT, "12345", "12345"); err != nil {
			t.Fatal(err)
		}
	})
}

func TestGenerateMFAOTP(t *testing.T) {
	_, _, mk := serve(t, exchange{
		method: "POST", path: "/auth/v1/mfa/otp/generate",
		body:  `{"identifierType":"MOBILE","identifierValue":"18767431754","deviceId":"1234","brand":"Bukl","sessionId":"P-b04c1001-ef08-4125-9886-f9d8b4c5d9b8"}`,
		reply: `{"status":{"success":true,"code":200,"message":"SUCCESS"}}`,
	})
	if err := mk(bukl).GenerateMFAOTP(ctx, "P-b04c1001-ef08-4125-9886-f9d8b4c5d9b8"); err != nil {
		t.Fatal(err)
	}
}

func TestValidateMFAOTP(t *testing.T) {
	_, _, mk := serve(t, exchange{
		method: "POST", path: "/auth/v1/mfa/otp/validate",
		// The sample sends a bare number; keyturn sends the string the
		// schema names, which keeps leading zeros.
		body: `{"identifierType":"MOBILE","identifierValue":"18767431754","deviceId":"1234","brand":"Bukl",
		 "sessionId":"P-b04c1001-ef08-4125-9886-f9d8b4c5d9b8","otp":"099999"}`,
		reply: `{"status":{"success":true,"code":200,"message":"SUCCESS"},
		 "auth":{"token":"` + sampleToken + `","key":"` + sampleKey + `"},
		 "user":{"appRegistered":false,"sessionId":null,"role":"USER","userRegisteredForPassword":false}}`,
	})
	tk, err := mk(bukl).ValidateMFAOTP(ctx, "P-b04c1001-ef08-4125-9886-f9d8b4c5d9b8", "099999")
	if err != nil {
		t.Fatal(err)
	}
	if tk.Token != sampleToken || tk.Key != sampleKey || !tk.Expires.Equal(time.Unix(sampleExp, 0)) || tk.Role != "USER" {
		t.Errorf("role %q expires %v", tk.Role, tk.Expires)
	}
}

func TestValidateMFAPassword(t *testing.T) {
	_, _, mk := serve(t, exchange{
		method: "POST", path: "/auth/v1/mfa/password/validate",
		body: `{"deviceId":"1234","brand":"Bukl","sessionId":"P-f1f3ccd7-0fe9-4159-ab23-2eb33e42f512","password":"12345",
		 "identifierType":"MOBILE","identifierValue":"18767431754"}`,
		reply: `{"status":{"success":true,"code":200,"message":"SUCCESS"},
		 "auth":{"token":"` + sampleToken + `","key":"` + sampleKey + `"},
		 "identifiers":{"identifierList":null},
		 "user":{"appRegistered":false,"sessionId":null,"role":"USER","userRegisteredForPassword":true}}`,
	})
	tk, err := mk(bukl).ValidateMFAPassword(ctx, "P-f1f3ccd7-0fe9-4159-ab23-2eb33e42f512", "12345")
	if err != nil {
		t.Fatal(err)
	}
	if tk.Key != sampleKey || !tk.Expires.Equal(time.Unix(sampleExp, 0)) {
		t.Errorf("expires %v", tk.Expires)
	}
}

func TestRegenerateMFAToken(t *testing.T) {
	_, _, mk := serve(t, exchange{
		method: "POST", path: "/auth/v1/mfa/token/regenerate",
		body:  fixture(t, "mfa-token-regenerate.request.json"),
		reply: fixture(t, "mfa-token-regenerate.response.json"),
	})
	tk, err := mk(bukl).RegenerateMFAToken(ctx, sampleKey)
	if err != nil {
		t.Fatal(err)
	}
	if tk.Key != "" {
		t.Error("key:null must come back as an empty Key (keep the old key)")
	}
	if tk.Token != sampleToken || tk.Role != "USER" || !tk.Expires.Equal(time.Unix(sampleExp, 0)) {
		t.Errorf("role %q expires %v", tk.Role, tk.Expires)
	}
	if d := tk.Expires.Sub(time.Unix(1717060565, 0)); d != 900*time.Second {
		t.Errorf("MFA token lifetime %v", d)
	}
}

func TestExpireMFAToken(t *testing.T) {
	_, _, mk := serve(t, exchange{
		method: "DELETE", path: "/auth/v1/mfa/token/expire",
		body:  `{"brand":"Bukl","deviceId":"1234","token":"` + sampleToken + `","identifierType":"MOBILE","identifierValue":"18767431754"}`,
		reply: `{"status":{"success":true,"code":200,"message":"Token expired successfully"}}`,
	})
	if err := mk(bukl).ExpireMFAToken(ctx, sampleToken); err != nil {
		t.Fatal(err)
	}
}

func TestBaseURLPathPrefix(t *testing.T) {
	var path string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		path = r.URL.Path
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"status":{"success":true,"code":200,"message":"SUCCESS"}}`)
	}))
	defer srv.Close()
	hc, err := client.New(client.Options{Service: "capillary", BaseURL: srv.URL + "/brand-gw/"})
	if err != nil {
		t.Fatal(err)
	}
	if err := New(hc, docDemo).GenerateOTP(ctx, "P-1"); err != nil {
		t.Fatal(err)
	}
	if path != "/brand-gw/auth/v1/otp/generate" {
		t.Errorf("path %q", path)
	}
}

// Bad input is refused before anything is sent.
func TestLocalChecks(t *testing.T) {
	_, hits, mk := serve(t, exchange{method: "POST", path: "/never"})
	good := mk(docDemo)
	for name, tc := range map[string]struct {
		c    *Client
		call func(*Client) error
		want string
	}{
		"bad type": {mk(Identity{IdentifierType: "MOBIL", IdentifierValue: "1", Brand: "b", DeviceID: "d"}),
			func(c *Client) error { _, err := c.GenerateToken(ctx, "", ""); return err }, `"MOBIL" is not one of`},
		"lower-case type": {mk(Identity{IdentifierType: "mobile", IdentifierValue: "1", Brand: "b", DeviceID: "d"}),
			func(c *Client) error { _, err := c.GenerateToken(ctx, "", ""); return err }, "capitals: MOBILE"},
		"missing fields": {mk(Identity{IdentifierType: "EMAIL"}),
			func(c *Client) error { return c.GenerateOTP(ctx, "P-1") }, "identifier value and brand and device id"},
		"no session otp":      {good, func(c *Client) error { return c.GenerateOTP(ctx, " ") }, "no session id"},
		"no session mfa otp":  {good, func(c *Client) error { return c.GenerateMFAOTP(ctx, "") }, "no session id"},
		"no session validate": {good, func(c *Client) error { _, err := c.ValidateOTP(ctx, "", "1"); return err }, "no session id"},
		"empty otp":           {good, func(c *Client) error { _, err := c.ValidateMFAOTP(ctx, "P-1", " "); return err }, "one-time code is empty"},
		"empty password":      {good, func(c *Client) error { _, err := c.ValidateMFAPassword(ctx, "P-1", ""); return err }, "password is empty"},
		"no key":              {good, func(c *Client) error { _, err := c.RegenerateToken(ctx, ""); return err }, "no key"},
		"no mfa key":          {good, func(c *Client) error { _, err := c.RegenerateMFAToken(ctx, " "); return err }, "no key"},
		"no token":            {good, func(c *Client) error { return c.ExpireMFAToken(ctx, "") }, "no token"},
		"no authorized token": {good, func(c *Client) error { _, err := c.GenerateMFAToken(ctx, "", "", ""); return err }, "first-factor token"},
	} {
		err := tc.call(tc.c)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want it to mention %q", name, err, tc.want)
		}
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests went out", hits.Load())
	}
	if good.Identity() != docDemo {
		t.Error("Identity() differs from the one given")
	}
}

func TestRegions(t *testing.T) {
	for name, want := range map[string]string{"eu": "https://eu.api.capillarytech.com", " APAC2 ": "https://apac2.api.capillarytech.com",
		"us": "https://us.api.capillarytech.com", "in": "https://in.api.capillarytech.com", "apac": "https://apac.api.capillarytech.com"} {
		got, err := RegionURL(name)
		if err != nil || got != want {
			t.Errorf("RegionURL(%q) = %q, %v", name, got, err)
		}
		if _, err := client.ParseBaseURL(got, false); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	if _, err := RegionURL("mars"); err == nil || !strings.Contains(err.Error(), "apac, apac2, eu, in, us") {
		t.Errorf("unknown region: %v", err)
	}
	if got := RegionNames(); !reflect.DeepEqual(got, []string{"apac", "apac2", "eu", "in", "us"}) {
		t.Errorf("RegionNames %v", got)
	}
}

func TestValidIdentifierType(t *testing.T) {
	for _, ok := range []string{"MOBILE", "EMAIL", "USERNAME"} {
		if err := ValidIdentifierType(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "MOBIL", "Email", "PHONE", "EXTERNALID", "externalid"} {
		if ValidIdentifierType(bad) == nil {
			t.Errorf("%q accepted", bad)
		}
	}
}
