package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

func TestTraceTo(t *testing.T) {
	for _, s := range []string{"", "  ", "0", "false", "FALSE", "off"} {
		tr, closeFn, err := TraceTo(s, io.Discard)
		if tr != nil || err != nil || closeFn == nil || closeFn() != nil {
			t.Errorf("TraceTo(%q) = %v, %v; want no tracer", s, tr, err)
		}
	}
	for _, s := range []string{"1", "true", " TRUE ", "on", "stderr"} {
		var buf bytes.Buffer
		tr, closeFn, err := TraceTo(s, &buf)
		if tr == nil || err != nil {
			t.Fatalf("TraceTo(%q) = %v, %v; want a tracer", s, tr, err)
		}
		tr.failure(1, io.EOF, 0)
		if !strings.Contains(buf.String(), "keyturn[1] ✗ EOF") {
			t.Errorf("TraceTo(%q) does not write to the stderr writer: %q", s, buf.String())
		}
		if err := closeFn(); err != nil {
			t.Errorf("close: %v", err)
		}
	}
}

func TestTraceToFile(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"id":"u1"}`)
	})
	path := filepath.Join(t.TempDir(), "debug.log")
	for i := 1; i <= 2; i++ {
		tr, closeFn, err := TraceTo(path, io.Discard)
		if err != nil || tr == nil {
			t.Fatalf("TraceTo(path) = %v, %v", tr, err)
		}
		c := newClient(t, srv.URL, func(o *Options) { o.Trace = tr })
		if _, err := c.Do(context.Background(), &Request{Method: "GET", Path: fmt.Sprintf("/call/%d", i)}); err != nil {
			t.Fatal(err)
		}
		if err := closeFn(); err != nil {
			t.Fatalf("close: %v", err)
		}
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if perm := fi.Mode().Perm(); perm != 0o600 {
		t.Errorf("debug log mode = %o, want 600", perm)
	}
	data, _ := os.ReadFile(path)
	// Appended, not truncated: both runs are there, in order.
	first := strings.Index(string(data), "→ GET /call/1")
	second := strings.Index(string(data), "→ GET /call/2")
	if first < 0 || second < first {
		t.Errorf("debug log does not hold both runs in order:\n%s", data)
	}

	if _, _, err := TraceTo(filepath.Join(t.TempDir(), "no", "such", "dir", "x.log"), io.Discard); err == nil || !strings.Contains(err.Error(), "opening debug log") {
		t.Errorf("TraceTo in a missing directory = %v", err)
	}
}

func TestTraceFromEnv(t *testing.T) {
	t.Setenv("KEYTURN_DEBUG", "")
	if tr, _, err := TraceFromEnv(); tr != nil || err != nil {
		t.Errorf("KEYTURN_DEBUG empty: %v, %v", tr, err)
	}
	path := filepath.Join(t.TempDir(), "trace.log")
	t.Setenv("KEYTURN_DEBUG", path)
	tr, closeFn, err := TraceFromEnv()
	if tr == nil || err != nil {
		t.Fatalf("KEYTURN_DEBUG=path: %v, %v", tr, err)
	}
	tr.failure(7, io.EOF, 0)
	closeFn()
	if data, _ := os.ReadFile(path); !strings.Contains(string(data), "keyturn[7] ✗") {
		t.Errorf("trace file = %q", data)
	}
	t.Setenv("KEYTURN_DEBUG", "1")
	if tr, _, err := TraceFromEnv(); tr == nil || err != nil || tr.w != os.Stderr {
		t.Errorf("KEYTURN_DEBUG=1: %v, %v", tr, err)
	}
}

func TestNilTracer(t *testing.T) {
	var tr *Tracer
	req, _ := http.NewRequest("GET", "https://x/", nil)
	tr.request(1, req, nil, nil)
	tr.response(1, &Response{}, 0, nil)
	tr.failure(1, io.EOF, 0)
}

// TestTraceRedactsALogin runs a login-like exchange with sentinel secrets in
// every place a secret can be and checks the trace shows the exchange and
// none of the secrets.
func TestTraceRedactsALogin(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Token", sentinelToken)
		w.Header().Set("X-Request-Id", "req-77")
		http.SetCookie(w, &http.Cookie{Name: "MMAUTHTOKEN", Value: sentinelCookie})
		w.WriteHeader(http.StatusOK)
		io.WriteString(w, `{"id":"u1","username":"alice","props":{"deep":[{"secret":"`+sentinelSecret+`","qr_code":"SENTINEL-QR-PNG"}]},`+
			`"data":{"authToken":"SENTINEL-AUTHTOKEN","userId":"u1"}}`)
	})
	var buf bytes.Buffer
	c := newClient(t, srv.URL+"/mm", func(o *Options) { o.Trace = NewTracer(&buf) })
	hdr := http.Header{}
	hdr.Set("Authorization", "Bearer "+sentinelBearer)
	hdr.Set("Cookie", "MMAUTHTOKEN="+sentinelCookie)
	hdr.Set("Token", sentinelToken)
	hdr.Set("X-Auth-Token", sentinelToken)
	hdr.Set("X-2fa-Code", sentinelCode)
	hdr.Set("X-User-Id", "u1")
	hdr.Set("Proxy-Authorization", "Basic SENTINEL-PROXY")
	hdr.Set("X-Csrf-Token", "SENTINEL-CSRF")
	hdr.Set("Cap_authorization", "SENTINEL-CAP")
	_, err := c.Do(context.Background(), &Request{
		Method: "POST",
		Path:   "/api/v4/users/login",
		Header: hdr,
		Body:   map[string]any{"login_id": "alice", "password": sentinelPassword, "token": sentinelCode, "device_id": "d1"},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	assertNoSentinel(t, "trace", out)
	for _, want := range []string{
		"keyturn[1] → POST /mm/api/v4/users/login\n",
		"    Authorization: [redacted]\n",
		"    Cookie: [redacted]\n",
		"    Token: [redacted]\n",
		"    X-Auth-Token: [redacted]\n",
		"    X-2fa-Code: [redacted]\n",
		"    Proxy-Authorization: [redacted]\n",
		"    X-Csrf-Token: [redacted]\n",
		"    Cap_authorization: [redacted]\n",
		"    X-User-Id: u1\n",
		"    User-Agent: keyturn/",
		"    Content-Type: application/json\n",
		`"login_id":"alice"`, `"password":"[redacted]"`, `"token":"[redacted]"`, `"device_id":"d1"`,
		"    Set-Cookie: [redacted]\n",
		"    X-Request-Id: req-77\n",
		`"username":"alice"`, `"secret":"[redacted]"`, `"qr_code":"[redacted]"`, `"authToken":"[redacted]"`, `"userId":"u1"`,
	} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q", want)
		}
	}
	if !regexp.MustCompile(`keyturn\[1\] ← 200 OK \([0-9hms.µn]+\)\n`).MatchString(out) {
		t.Errorf("trace lacks the status line with timing")
	}
	// Headers are listed in a stable (sorted) order.
	if strings.Index(out, "Authorization:") > strings.Index(out, "Cookie:") {
		t.Errorf("request headers are not sorted")
	}
}

func TestTraceSequenceAndFailure(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(http.StatusNotFound)
	})
	var buf bytes.Buffer
	c := newClient(t, srv.URL, func(o *Options) { o.Trace = NewTracer(&buf) })
	c.Do(context.Background(), &Request{Method: "GET", Path: "/a"})
	c.Do(context.Background(), &Request{Method: "DELETE", Path: "/b"})
	out := buf.String()
	for _, want := range []string{"keyturn[1] → GET /a\n", "keyturn[1] ← 404 Not Found (", "keyturn[2] → DELETE /b\n", "keyturn[2] ← 404 Not Found ("} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, scrub(out))
		}
	}

	buf.Reset()
	cr := newClient(t, closedPortURL(t), func(o *Options) { o.Trace = NewTracer(&buf) })
	cr.Do(context.Background(), &Request{Method: "POST", Path: "/x", Query: nil, Body: map[string]string{"password": sentinelPassword}})
	out = buf.String()
	if !regexp.MustCompile(`keyturn\[1\] ✗ dial tcp .*connection refused \([0-9hms.µn]+\)\n`).MatchString(out) {
		t.Errorf("trace lacks the failure line:\n%s", scrub(out))
	}
	assertNoSentinel(t, "trace", out)
}

func TestTraceNonJSONBodies(t *testing.T) {
	for _, tt := range []struct{ ct, body, want string }{
		{"text/plain; charset=utf-8", "limit exceeded SENTINEL-PLAIN\n", "(30 bytes of text/plain; charset=utf-8, not shown)"},
		{"text/html", "<html><title>SENTINEL-HTML</title></html>", "(41 bytes of text/html, not shown)"},
		{"", "token=SENTINEL-FORM", "(19 bytes of unknown type, not shown)"},
		{"application/json", `{"token":"SENTINEL-TRUNC`, "(24 bytes of application/json, not shown)"},
	} {
		srv := server(t, func(w http.ResponseWriter, r *http.Request) {
			w.Header()["Content-Type"] = nil // no sniffing
			if tt.ct != "" {
				w.Header().Set("Content-Type", tt.ct)
			}
			io.WriteString(w, tt.body)
		})
		var buf bytes.Buffer
		c := newClient(t, srv.URL, func(o *Options) { o.Trace = NewTracer(&buf) })
		if _, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/"}); err != nil {
			t.Fatal(err)
		}
		out := buf.String()
		assertNoSentinel(t, "trace of a "+tt.ct+" body", out)
		if !strings.Contains(out, "    body: "+tt.want+"\n") {
			t.Errorf("trace lacks %q:\n%s", tt.want, scrub(out))
		}
	}
}

func TestTraceSecretsMasked(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Echo", "pw="+sentinelPassword)
		fmt.Fprintf(w, `{"echo":"you sent %s","n":1}`, sentinelPassword)
	})
	var buf bytes.Buffer
	c := newClient(t, srv.URL, func(o *Options) { o.Trace = NewTracer(&buf) })
	_, err := c.Do(context.Background(), &Request{
		Method: "POST",
		Path:   "/auth/v1/password/validate",
		Header: http.Header{"X-Custom": {"v=" + sentinelPassword}},
		// Fields the tracer does not know as secret.
		Body:    map[string]any{"pwd": sentinelPassword, "nested": []any{map[string]string{"pin": "x" + sentinelPassword + "y"}}, "mobile": "555"},
		Secrets: []string{sentinelPassword, "", "abc"},
	})
	if err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	assertNoSentinel(t, "trace", out)
	for _, want := range []string{`"pwd":"[redacted]"`, `"pin":"x[redacted]y"`, `"mobile":"555"`, `"echo":"you sent [redacted]"`, "X-Custom: v=[redacted]", "X-Echo: pw=[redacted]"} {
		if !strings.Contains(out, want) {
			t.Errorf("trace lacks %q:\n%s", want, scrub(out))
		}
	}
}

func TestTraceSecretsWithSpecialCharacters(t *testing.T) {
	// JSON escapes quotes, backslashes and <>&; a secret holding them must
	// still be masked, also inside JSON inside a string.
	for i, secret := range []string{`SENTINEL"quote`, `SENTINEL\back`, `SENTINEL<&>html`, "SENTINEL\ttab", "SENTINEL-ünï"} {
		inner, _ := json.Marshal(map[string]any{"msg": "method", "params": []any{map[string]any{"pass": secret}}})
		body, _ := json.Marshal(map[string]any{"pwd": secret, "message": string(inner), "list": []string{secret}})
		out := RedactBody(body, "application/json", []string{secret})
		assertNoSentinel(t, fmt.Sprintf("redacted body for secret #%d", i), out)
	}
}

func TestRedactBodyFields(t *testing.T) {
	fields := []string{
		"password", "Password", "PASSWORD", "confirmPassword", "newPassword", "token", "code", "codes", "secret",
		"qr_code", "key", "authToken", "AuthToken", "authorizedToken", "expiredToken", "otp", "hash", "resume",
		"digest", "url", "otpauth_url", "x-auth-token", "access_token", "twoFactorCode",
	}
	for _, f := range fields {
		if !IsSecretField(f) {
			t.Errorf("IsSecretField(%q) = false", f)
		}
		const v = "SENTINEL-FIELD-VALUE"
		shapes := map[string]any{
			"top":            map[string]any{f: v},
			"nested":         map[string]any{"a": map[string]any{"b": map[string]any{f: v}}},
			"in array":       []any{map[string]any{"x": 1}, map[string]any{f: v}},
			"object value":   map[string]any{f: map[string]any{"inner": v}},
			"array value":    map[string]any{f: []any{v, v}},
			"number value":   map[string]any{f: 123456789},
			"JSON in string": map[string]any{"message": mustJSON(t, map[string]any{"msg": "method", "params": []any{map[string]any{f: v}}})},
			"JSON in JSON in string": map[string]any{"message": mustJSON(t, map[string]any{
				"wrapped": mustJSON(t, map[string]any{f: v})})},
		}
		for shape, val := range shapes {
			out := RedactBody([]byte(mustJSON(t, val)), "application/json", nil)
			assertNoSentinel(t, f+" "+shape, scrub(out))
			if strings.Contains(out, "123456789") {
				t.Errorf("%s %s: numeric secret shown", f, shape)
			}
			if !strings.Contains(out, Redacted) {
				t.Errorf("%s %s: nothing marked redacted: %s", f, shape, scrub(out))
			}
		}
	}
	for _, f := range []string{"username", "tokenName", "login_id", "user_id", "id", "name", "email", "sessionId", "message", "lastTokenPart"} {
		if IsSecretField(f) {
			t.Errorf("IsSecretField(%q) = true", f)
		}
	}
}

func TestRedactBodyKeepsTheRest(t *testing.T) {
	body := `{"success":true,"tokens":[{"name":"ci","lastTokenPart":"ab12","bypassTwoFactor":false,"createdAt":"2024"}],` +
		`"password":null,"count":3,"message":"{not json","other":"{\"token\":\"SENTINEL-INNER\",\"ok\":1}"}`
	out := RedactBody([]byte(body), "application/json", nil)
	assertNoSentinel(t, "redacted body", out)
	for _, want := range []string{`"name":"ci"`, `"lastTokenPart":"ab12"`, `"bypassTwoFactor":false`, `"password":null`, `"count":3`, `"message":"{not json"`, `\"ok\":1`, `\"token\":\"[redacted]\"`} {
		if !strings.Contains(out, want) {
			t.Errorf("redacted body lacks %q: %s", want, scrub(out))
		}
	}
}

func TestRocketChatMethodCallRedacted(t *testing.T) {
	// Rocket.Chat's DDP-over-REST: the real payload is JSON inside "message".
	req := `{"message":"{\"msg\":\"method\",\"id\":\"1\",\"method\":\"login\",\"params\":[{\"user\":{\"username\":\"alice\"},` +
		`\"password\":{\"digest\":\"SENTINEL-DIGEST\",\"algorithm\":\"sha-256\"},\"totp\":{\"code\":\"SENTINEL-TOTP\"}}]}"}`
	res := `{"success":true,"message":"{\"msg\":\"result\",\"id\":\"1\",\"result\":{\"id\":\"u1\",\"token\":\"SENTINEL-RESUME\",\"tokenExpires\":{\"$date\":1}}}"}`
	for name, body := range map[string]string{"request": req, "response": res} {
		out := RedactBody([]byte(body), "application/json", nil)
		assertNoSentinel(t, name, scrub(out))
		if !strings.Contains(out, `alice`) && name == "request" || !strings.Contains(out, `u1`) && name == "response" {
			t.Errorf("%s: redaction removed too much: %s", name, scrub(out))
		}
	}
}

func TestTracerConcurrent(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"token":"SENTINEL-CONC"}`)
	})
	var buf bytes.Buffer
	c := newClient(t, srv.URL, func(o *Options) { o.Trace = NewTracer(&buf) })
	var wg sync.WaitGroup
	for i := 0; i < 8; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c.Do(context.Background(), &Request{Method: "GET", Path: "/p"})
		}()
	}
	wg.Wait()
	out := buf.String()
	assertNoSentinel(t, "trace", out)
	// Each entry is written whole: every request and answer block is intact.
	for i := 1; i <= 8; i++ {
		if !strings.Contains(out, fmt.Sprintf("keyturn[%d] → GET /p\n    Accept: application/json\n", i)) {
			t.Errorf("request %d's block is missing or interleaved", i)
		}
	}
}

func mustJSON(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
