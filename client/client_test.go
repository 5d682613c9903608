package client

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"keyturn/version"
)

func TestNewDefaults(t *testing.T) {
	c, err := New(Options{BaseURL: "https://chat.example.com/mm/"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if c.Service() != "server" {
		t.Errorf("Service() = %q, want the default %q", c.Service(), "server")
	}
	if got := c.BaseURL().String(); got != "https://chat.example.com/mm" {
		t.Errorf("BaseURL() = %q", got)
	}
	// BaseURL returns a copy: changing it does not change the client.
	c.BaseURL().Path = "/elsewhere"
	if got := c.BaseURL().Path; got != "/mm" {
		t.Errorf("BaseURL() is not a copy: path now %q", got)
	}
	if c.http.Timeout != DefaultTimeout {
		t.Errorf("timeout = %v, want %v", c.http.Timeout, DefaultTimeout)
	}
	if c.retries != DefaultGETRetries {
		t.Errorf("retries = %d, want %d", c.retries, DefaultGETRetries)
	}
	if c.http.Jar != nil {
		t.Error("the http.Client has a cookie jar")
	}
	if c.http.CheckRedirect == nil {
		t.Error("redirects are followed")
	}
	if _, ok := c.http.Transport.(*http.Transport); !ok {
		t.Errorf("default transport is %T", c.http.Transport)
	}

	c2, err := New(Options{Service: "mattermost", BaseURL: "https://chat.example.com", Timeout: 5 * time.Second, GETRetries: -1})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if c2.Service() != "mattermost" || c2.http.Timeout != 5*time.Second || c2.retries != 0 {
		t.Errorf("options not applied: service %q timeout %v retries %d", c2.Service(), c2.http.Timeout, c2.retries)
	}
}

func TestNewRefusesBadBaseURL(t *testing.T) {
	for _, raw := range []string{"", "chat.example.com", "http://chat.example.com", "ftp://x"} {
		if c, err := New(Options{BaseURL: raw}); err == nil || c != nil {
			t.Errorf("New(%q) = %v, %v; want an error", raw, c, err)
		}
	}
	if _, err := New(Options{BaseURL: "http://chat.example.com", AllowInsecureHTTP: true}); err != nil {
		t.Errorf("New with AllowInsecureHTTP: %v", err)
	}
}

func TestUserAgent(t *testing.T) {
	if got, want := UserAgent(), "keyturn/"+version.Version; got != want {
		t.Errorf("UserAgent() = %q, want %q", got, want)
	}
}

func TestDoSendsTheRequest(t *testing.T) {
	type seen struct {
		method, path, rawQuery, ua, accept, ct string
		header                                 http.Header
		body                                   []byte
	}
	var mu sync.Mutex
	var got seen
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		mu.Lock()
		got = seen{r.Method, r.URL.Path, r.URL.RawQuery, r.UserAgent(), r.Header.Get("Accept"), r.Header.Get("Content-Type"), r.Header.Clone(), b}
		mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Request-Id", "req-1")
		w.WriteHeader(http.StatusCreated)
		io.WriteString(w, `{"id":"u1"}`)
	})
	c := newClient(t, srv.URL+"/mm/", nil)

	hdr := http.Header{}
	hdr.Set("X-Requested-With", "XMLHttpRequest")
	hdr.Add("X-Multi", "one")
	hdr.Add("X-Multi", "two")
	hdr.Set("User-Agent", "something-else") // the fixed User-Agent wins
	body := map[string]any{"login_id": "alice", "n": 3, "list": []string{"a", "b"}, "html": "<&>"}
	resp, err := c.Do(context.Background(), &Request{
		Method: http.MethodPost,
		Path:   "/api/v4/users/login",
		Query:  url.Values{"page": {"2"}, "q": {"a b&c"}},
		Header: hdr,
		Body:   body,
	})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	if resp.Status != http.StatusCreated || resp.StatusText != "Created" {
		t.Errorf("status = %d %q", resp.Status, resp.StatusText)
	}
	if string(resp.Body) != `{"id":"u1"}` || resp.Header.Get("X-Request-Id") != "req-1" {
		t.Errorf("response = %q, headers %v", resp.Body, resp.Header)
	}

	mu.Lock()
	defer mu.Unlock()
	if got.method != "POST" || got.path != "/mm/api/v4/users/login" {
		t.Errorf("request line = %s %s", got.method, got.path)
	}
	q, _ := url.ParseQuery(got.rawQuery)
	if q.Get("page") != "2" || q.Get("q") != "a b&c" || len(q) != 2 {
		t.Errorf("query = %q", got.rawQuery)
	}
	if got.ua != "keyturn/"+version.Version {
		t.Errorf("User-Agent = %q", got.ua)
	}
	if got.accept != "application/json" {
		t.Errorf("Accept = %q", got.accept)
	}
	if got.ct != "application/json" {
		t.Errorf("Content-Type = %q", got.ct)
	}
	if got.header.Get("X-Requested-With") != "XMLHttpRequest" {
		t.Errorf("custom header lost: %v", got.header)
	}
	if v := got.header.Values("X-Multi"); !slices.Equal(v, []string{"one", "two"}) {
		t.Errorf("X-Multi = %q", v)
	}
	if v := got.header.Values("User-Agent"); len(v) != 1 {
		t.Errorf("User-Agent sent %d times", len(v))
	}
	if got.header.Get("Cookie") != "" {
		t.Errorf("a cookie was sent")
	}
	var sent map[string]any
	if err := json.Unmarshal(got.body, &sent); err != nil {
		t.Fatalf("body is not JSON: %v", err)
	}
	want := map[string]any{"login_id": "alice", "n": 3.0, "list": []any{"a", "b"}, "html": "<&>"}
	if !reflect.DeepEqual(sent, want) {
		t.Errorf("body = %v, want %v", sent, want)
	}
}

func TestDoWithoutBody(t *testing.T) {
	var ct, cl string
	var n int
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		ct, cl, n = r.Header.Get("Content-Type"), r.Header.Get("Content-Length"), len(b)
		if r.URL.RawQuery != "" {
			t.Errorf("unexpected query %q", r.URL.RawQuery)
		}
		w.WriteHeader(http.StatusNoContent)
	})
	c := newClient(t, srv.URL, nil)
	for _, m := range []string{http.MethodGet, http.MethodDelete} {
		resp, err := c.Do(context.Background(), &Request{Method: m, Path: "/x", Query: url.Values{}})
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if resp.Status != http.StatusNoContent || len(resp.Body) != 0 {
			t.Errorf("%s: status %d body %q", m, resp.Status, resp.Body)
		}
		if ct != "" || n != 0 || (cl != "" && cl != "0") {
			t.Errorf("%s without a body sent Content-Type %q, Content-Length %q, %d bytes", m, ct, cl, n)
		}
	}
}

func TestDoReturnsEveryStatus(t *testing.T) {
	for _, status := range []int{200, 201, 204, 302, 400, 401, 403, 404, 409, 500, 502, 503} {
		srv := server(t, func(w http.ResponseWriter, r *http.Request) {
			w.WriteHeader(status)
		})
		c := newClient(t, srv.URL, func(o *Options) { o.GETRetries = -1 })
		for _, m := range []string{"GET", "POST"} {
			resp, err := c.Do(context.Background(), &Request{Method: m, Path: "/"})
			if err != nil {
				t.Errorf("%s %d: %v", m, status, err)
				continue
			}
			if resp.Status != status || resp.StatusText != http.StatusText(status) {
				t.Errorf("%s: got %d %q, want %d", m, resp.Status, resp.StatusText, status)
			}
		}
	}
}

func TestDoHasNoCookieJar(t *testing.T) {
	var hits counter
	var cookies [][]*http.Cookie
	var mu sync.Mutex
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		hits.inc()
		mu.Lock()
		cookies = append(cookies, r.Cookies())
		mu.Unlock()
		http.SetCookie(w, &http.Cookie{Name: "MMAUTHTOKEN", Value: sentinelCookie, Path: "/"})
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{}`)
	})
	c := newClient(t, srv.URL, nil)
	for i := 0; i < 3; i++ {
		resp, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/api/v4/users/me"})
		if err != nil {
			t.Fatalf("Do: %v", err)
		}
		if len(resp.Header.Values("Set-Cookie")) != 1 {
			t.Fatalf("the server's Set-Cookie did not arrive")
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if hits.get() != 3 {
		t.Fatalf("server saw %d requests", hits.get())
	}
	for i, cs := range cookies {
		if len(cs) != 0 {
			t.Errorf("request %d sent %d cookies back", i+1, len(cs))
		}
	}
}

func TestDoDoesNotFollowRedirects(t *testing.T) {
	var target counter
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/login" {
			target.inc()
			io.WriteString(w, "<html><title>Sign in</title></html>")
			return
		}
		http.Redirect(w, r, "/login", http.StatusFound)
	})
	c := newClient(t, srv.URL, nil)
	for _, m := range []string{"GET", "POST"} {
		resp, err := c.Do(context.Background(), &Request{Method: m, Path: "/api/v4/users/me", Body: map[string]string{"a": "b"}})
		if err != nil {
			t.Fatalf("%s: %v", m, err)
		}
		if resp.Status != http.StatusFound || resp.Header.Get("Location") != "/login" {
			t.Errorf("%s: status %d, Location %q; want the 302 itself", m, resp.Status, resp.Header.Get("Location"))
		}
	}
	if target.get() != 0 {
		t.Errorf("the redirect was followed %d times", target.get())
	}
}

func TestDoEncodingError(t *testing.T) {
	var hits counter
	srv := server(t, func(w http.ResponseWriter, r *http.Request) { hits.inc() })
	c := newClient(t, srv.URL, nil)
	_, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/x", Body: map[string]any{"f": func() {}}})
	if err == nil || !strings.Contains(err.Error(), "testsvc: encoding request") {
		t.Errorf("err = %v, want an encoding error", err)
	}
	if MayHaveApplied(err) {
		t.Error("an encoding error may not have applied")
	}
	if hits.get() != 0 {
		t.Errorf("server saw %d requests", hits.get())
	}
}

func TestDoBadMethod(t *testing.T) {
	c := newClient(t, "https://chat.example.com", nil)
	_, err := c.Do(context.Background(), &Request{Method: "BAD METHOD", Path: "/x"})
	if err == nil || !strings.Contains(err.Error(), "testsvc: building request") {
		t.Errorf("err = %v, want a building error", err)
	}
}

func TestDoUsesOptionsTransport(t *testing.T) {
	var seen []string
	rt := roundTripFunc(func(r *http.Request) (*http.Response, error) {
		seen = append(seen, r.Method+" "+r.URL.String())
		return &http.Response{StatusCode: 200, Header: http.Header{"Content-Type": {"application/json"}}, Body: io.NopCloser(strings.NewReader(`{"ok":true}`)), Request: r}, nil
	})
	// A Transport makes the CA file the caller's business: it is not read.
	c := newClient(t, "https://chat.example.com/base", func(o *Options) {
		o.Transport = rt
		o.CAFile = filepath.Join(t.TempDir(), "missing.pem")
	})
	resp, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/api/v1/me", Query: url.Values{"x": {"1"}}})
	if err != nil {
		t.Fatalf("Do: %v", err)
	}
	var v struct{ OK bool }
	if err := Decode(c.Service(), resp, &v); err != nil || !v.OK {
		t.Errorf("Decode: %v, %v", v, err)
	}
	if !slices.Equal(seen, []string{"GET https://chat.example.com/base/api/v1/me?x=1"}) {
		t.Errorf("transport saw %q", seen)
	}
}

type roundTripFunc func(*http.Request) (*http.Response, error)

func (f roundTripFunc) RoundTrip(r *http.Request) (*http.Response, error) { return f(r) }

// --- retries -----------------------------------------------------------------

func TestDoRetries(t *testing.T) {
	type answer struct {
		status int
		header map[string]string
		body   string
	}
	limit := answer{429, map[string]string{"Retry-After": "2", "Content-Type": "text/plain; charset=utf-8"}, "limit exceeded\n"}
	ok := answer{200, map[string]string{"Content-Type": "application/json"}, `{"ok":true}`}
	type retryCase struct {
		name       string
		method     string
		retries    int
		answers    []answer // the last one repeats
		wantHits   int
		wantSleeps []time.Duration
		wantStatus int               // the Response's status when there is no error
		wantRL     *RateLimitedError // the error wanted instead
	}
	tests := []retryCase{
		{
			name: "GET 429 with Retry-After until the retries run out", method: "GET",
			answers: []answer{limit}, wantHits: 3, wantSleeps: []time.Duration{2 * time.Second, 2 * time.Second},
			wantRL: &RateLimitedError{Service: "testsvc", Status: 429, RetryAfter: 2 * time.Second, Message: "limit exceeded"},
		},
		{
			name: "GET 429 then success", method: "GET",
			answers: []answer{limit, ok}, wantHits: 2, wantSleeps: []time.Duration{2 * time.Second}, wantStatus: 200,
		},
		{
			name: "GET 503 with Retry-After then success", method: "GET",
			answers:  []answer{{503, map[string]string{"Retry-After": "3"}, "down"}, ok},
			wantHits: 2, wantSleeps: []time.Duration{3 * time.Second}, wantStatus: 200,
		},
		{
			name: "GET 503 with Retry-After until the retries run out is returned as is", method: "GET",
			answers:  []answer{{503, map[string]string{"Retry-After": "1"}, "down"}},
			wantHits: 3, wantSleeps: []time.Duration{time.Second, time.Second}, wantStatus: 503,
		},
		{
			name: "GET 503 without Retry-After is not retried", method: "GET",
			answers: []answer{{503, nil, "down"}}, wantHits: 1, wantStatus: 503,
		},
		{
			name: "GET 429 without Retry-After backs off", method: "GET",
			answers: []answer{{429, nil, "limit exceeded"}}, wantHits: 3,
			wantSleeps: []time.Duration{500 * time.Millisecond, time.Second},
			wantRL:     &RateLimitedError{Service: "testsvc", Status: 429, Message: "limit exceeded"},
		},
		{
			name: "GET 429 with Mattermost's X-Ratelimit-Reset seconds", method: "GET",
			answers:  []answer{{429, map[string]string{"X-Ratelimit-Reset": "4"}, "limit exceeded\n"}, ok},
			wantHits: 2, wantSleeps: []time.Duration{4 * time.Second}, wantStatus: 200,
		},
		{
			name: "GET 429 with Rocket.Chat's JSON body", method: "GET",
			answers: []answer{{429, map[string]string{"Retry-After": "1", "Content-Type": "application/json"},
				`{"success":false,"error":"Error, too many requests. Please slow down. You must wait 37 seconds before trying this endpoint again. [error-too-many-requests]"}`}},
			wantHits: 3, wantSleeps: []time.Duration{time.Second, time.Second},
			wantRL: &RateLimitedError{Service: "testsvc", Status: 429, RetryAfter: time.Second,
				Message: "Error, too many requests. Please slow down. You must wait 37 seconds before trying this endpoint again. [error-too-many-requests]"},
		},
		{
			name: "Retry-After of exactly 10s is waited for", method: "GET",
			answers: []answer{{429, map[string]string{"Retry-After": "10"}, ""}, ok}, wantHits: 2,
			wantSleeps: []time.Duration{10 * time.Second}, wantStatus: 200,
		},
		{
			name: "Retry-After over 10s is not waited for", method: "GET",
			answers: []answer{{429, map[string]string{"Retry-After": "11"}, "limit exceeded"}}, wantHits: 1,
			wantRL: &RateLimitedError{Service: "testsvc", Status: 429, RetryAfter: 11 * time.Second, Message: "limit exceeded"},
		},
		{
			name: "an absurd Retry-After is not waited for either", method: "GET",
			answers: []answer{{429, map[string]string{"Retry-After": "99999999999"}, "limit exceeded"}}, wantHits: 1,
			wantRL: &RateLimitedError{Service: "testsvc", Status: 429, RetryAfter: maxDuration, Message: "limit exceeded"},
		},
		{
			name: "a 503 with a long Retry-After is returned at once", method: "GET",
			answers: []answer{{503, map[string]string{"Retry-After": "120"}, "down"}}, wantHits: 1, wantStatus: 503,
		},
		{
			name: "GETRetries 1", method: "GET", retries: 1,
			answers: []answer{limit}, wantHits: 2, wantSleeps: []time.Duration{2 * time.Second},
			wantRL: &RateLimitedError{Service: "testsvc", Status: 429, RetryAfter: 2 * time.Second, Message: "limit exceeded"},
		},
		{
			name: "GETRetries 4", method: "GET", retries: 4,
			answers: []answer{limit}, wantHits: 5, wantSleeps: []time.Duration{2 * time.Second, 2 * time.Second, 2 * time.Second, 2 * time.Second},
			wantRL: &RateLimitedError{Service: "testsvc", Status: 429, RetryAfter: 2 * time.Second, Message: "limit exceeded"},
		},
		{
			name: "GETRetries -1 means none", method: "GET", retries: -1,
			answers: []answer{limit}, wantHits: 1,
			wantRL: &RateLimitedError{Service: "testsvc", Status: 429, RetryAfter: 2 * time.Second, Message: "limit exceeded"},
		},
		{
			name: "GETRetries -1 returns a 503 at once", method: "GET", retries: -1,
			answers: []answer{{503, map[string]string{"Retry-After": "1"}, "down"}}, wantHits: 1, wantStatus: 503,
		},
		{
			name: "a 200 is not retried", method: "GET", answers: []answer{ok}, wantHits: 1, wantStatus: 200,
		},
	}
	for _, m := range []string{"POST", "PUT", "DELETE", "PATCH"} {
		tests = append(tests,
			retryCase{
				name: m + " 429 is never retried", method: m, retries: 5,
				answers: []answer{limit, ok}, wantHits: 1,
				wantRL: &RateLimitedError{Service: "testsvc", Status: 429, RetryAfter: 2 * time.Second, Message: "limit exceeded"},
			},
			retryCase{
				name: m + " 503 is never retried", method: m,
				answers: []answer{{503, map[string]string{"Retry-After": "1"}, "down"}, ok}, wantHits: 1, wantStatus: 503,
			})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var hits counter
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				n := hits.inc()
				if r.Method != tt.method {
					t.Errorf("method %s, want %s", r.Method, tt.method)
				}
				a := tt.answers[min(n, len(tt.answers))-1]
				for k, v := range a.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(a.status)
				io.WriteString(w, a.body)
			})
			var sl sleepRecorder
			c := newClient(t, srv.URL, func(o *Options) { o.GETRetries = tt.retries; o.Sleep = sl.sleep })
			var body any
			if tt.method != "GET" {
				body = map[string]string{"name": "x"}
			}
			resp, err := c.Do(context.Background(), &Request{Method: tt.method, Path: "/api/x", Body: body})
			if hits.get() != tt.wantHits {
				t.Errorf("server saw %d requests, want %d", hits.get(), tt.wantHits)
			}
			if got := sl.got(); !slices.Equal(got, tt.wantSleeps) {
				t.Errorf("waits = %v, want %v", got, tt.wantSleeps)
			}
			if tt.wantRL != nil {
				var rl *RateLimitedError
				if !errors.As(err, &rl) {
					t.Fatalf("err = %v (%T), want *RateLimitedError", scrub(err), err)
				}
				if *rl != *tt.wantRL {
					t.Errorf("err = %+v, want %+v", *rl, *tt.wantRL)
				}
				if resp != nil {
					t.Errorf("a response came with the error")
				}
				if MayHaveApplied(err) {
					t.Errorf("a 429 may not have applied")
				}
				return
			}
			if err != nil {
				t.Fatalf("Do: %v", err)
			}
			if resp.Status != tt.wantStatus {
				t.Errorf("status = %d, want %d", resp.Status, tt.wantStatus)
			}
		})
	}
}

// maxDuration is the longest time.Duration.
const maxDuration = time.Duration(1<<63 - 1)

func TestDoRetryHTTPDate(t *testing.T) {
	// An HTTP date far enough ahead is longer than keyturn waits.
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Retry-After", time.Now().Add(time.Hour).UTC().Format(http.TimeFormat))
		w.WriteHeader(http.StatusTooManyRequests)
	})
	var sl sleepRecorder
	c := newClient(t, srv.URL, func(o *Options) { o.Sleep = sl.sleep })
	_, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/"})
	var rl *RateLimitedError
	if !errors.As(err, &rl) {
		t.Fatalf("err = %v, want *RateLimitedError", err)
	}
	if rl.RetryAfter < 50*time.Minute || rl.RetryAfter > time.Hour {
		t.Errorf("RetryAfter = %v, want about an hour", rl.RetryAfter)
	}
	if len(sl.got()) != 0 {
		t.Errorf("waited %v", sl.got())
	}
	if !strings.Contains(rl.Error(), "retry in ") {
		t.Errorf("message %q does not say when to retry", rl.Error())
	}
}

func TestDoRetryWaitCancelled(t *testing.T) {
	var hits counter
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		hits.inc()
		w.Header().Set("Retry-After", "1")
		w.WriteHeader(http.StatusTooManyRequests)
	})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c := newClient(t, srv.URL, func(o *Options) {
		o.Sleep = func(ctx context.Context, d time.Duration) error {
			cancel() // the person gives up while keyturn waits
			<-ctx.Done()
			return ctx.Err()
		}
	})
	_, err := c.Do(ctx, &Request{Method: "GET", Path: "/api/v4/users/me"})
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v, want *TransportError", scrub(err))
	}
	if !te.Canceled || te.MayHaveReached || te.Method != "GET" || te.Path != "/api/v4/users/me" {
		t.Errorf("err = %+v", te)
	}
	if !errors.Is(err, context.Canceled) {
		t.Errorf("err does not wrap context.Canceled")
	}
	if hits.get() != 1 {
		t.Errorf("server saw %d requests", hits.get())
	}
}

func TestDoDefaultSleep(t *testing.T) {
	// Retry-After: 0 goes through the real timer without a real wait.
	var hits counter
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if hits.inc() == 1 {
			w.Header().Set("Retry-After", "0")
			w.WriteHeader(http.StatusTooManyRequests)
			return
		}
		io.WriteString(w, `{}`)
	})
	c := newClient(t, srv.URL, nil)
	resp, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/"})
	if err != nil || resp.Status != 200 || hits.get() != 2 {
		t.Errorf("Do = %v, %v after %d requests", resp, err, hits.get())
	}
}

func TestSleepCtx(t *testing.T) {
	if err := sleepCtx(context.Background(), time.Nanosecond); err != nil {
		t.Errorf("sleepCtx: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// An hour's wait ends as soon as the context is done.
	if err := sleepCtx(ctx, time.Hour); !errors.Is(err, context.Canceled) {
		t.Errorf("sleepCtx on a cancelled context = %v", err)
	}
}

// --- transport errors ----------------------------------------------------------

func closedPortURL(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	return "http://" + addr
}

func TestTransportConnectionRefused(t *testing.T) {
	c := newClient(t, closedPortURL(t), nil)
	for _, m := range []string{"GET", "POST"} {
		_, err := c.Do(context.Background(), &Request{Method: m, Path: "/api/v4/users/login",
			Body: map[string]string{"password": sentinelPassword}})
		var te *TransportError
		if !errors.As(err, &te) {
			t.Fatalf("%s: err = %v (%T), want *TransportError", m, scrub(err), err)
		}
		if te.MayHaveReached || te.Timeout || te.Canceled {
			t.Errorf("%s: %+v", m, te)
		}
		if te.Service != "testsvc" || te.Method != m || te.Path != "/api/v4/users/login" {
			t.Errorf("%s: %+v", m, te)
		}
		if MayHaveApplied(err) {
			t.Errorf("%s: a refused connection may have applied", m)
		}
		msg := err.Error()
		if !strings.Contains(msg, "testsvc: "+m+" /api/v4/users/login: request failed") || !strings.Contains(msg, "refused") {
			t.Errorf("message %q", scrub(msg))
		}
		if strings.Contains(msg, "may have carried it out") || strings.Contains(msg, "http://") {
			t.Errorf("message %q", scrub(msg))
		}
		assertNoSentinel(t, "error", msg)
		var oe *net.OpError
		if !errors.As(err, &oe) {
			t.Errorf("err does not unwrap to the *net.OpError")
		}
		var ue *url.Error
		if errors.As(err, &ue) {
			t.Errorf("the *url.Error wrapper was kept")
		}
	}
}

func TestTransportDroppedAfterRequest(t *testing.T) {
	var hits counter
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		io.ReadAll(r.Body)
		hits.inc()
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			t.Errorf("hijack: %v", err)
			return
		}
		conn.Close()
	})
	c := newClient(t, srv.URL, nil)
	for i, m := range []string{"POST", "PUT", "DELETE", "GET"} {
		_, err := c.Do(context.Background(), &Request{Method: m, Path: "/api/v4/commands/c1/regen_token",
			Body: map[string]string{"token": sentinelToken}})
		var te *TransportError
		if !errors.As(err, &te) {
			t.Fatalf("%s: err = %v (%T), want *TransportError", m, scrub(err), err)
		}
		if !te.MayHaveReached || te.Timeout || te.Canceled {
			t.Errorf("%s: %+v", m, te)
		}
		if !MayHaveApplied(err) {
			t.Errorf("%s: MayHaveApplied = false after the server read the request", m)
		}
		if !strings.Contains(err.Error(), "(the request was sent; the server may have carried it out)") {
			t.Errorf("%s: message %q", m, err.Error())
		}
		assertNoSentinel(t, "error", err.Error())
		// Not retried, whatever the method.
		if hits.get() != i+1 {
			t.Errorf("%s: server saw %d requests in all, want %d", m, hits.get(), i+1)
		}
	}
}

func TestTransportBodyCutShort(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Length", "100")
		w.WriteHeader(200)
		io.WriteString(w, `{"token":"`)
	})
	var trace strings.Builder
	c := newClient(t, srv.URL, func(o *Options) { o.Trace = NewTracer(&syncWriter{w: &trace}) })
	_, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/x"})
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want *TransportError", scrub(err), err)
	}
	if !te.MayHaveReached || !MayHaveApplied(err) {
		t.Errorf("a status line came back, yet %+v", te)
	}
	if !strings.Contains(trace.String(), "keyturn[1] ✗ ") {
		t.Errorf("the trace does not show the failure:\n%s", trace.String())
	}
}

func TestTransportClientTimeout(t *testing.T) {
	release := make(chan struct{})
	var hits counter
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/fast" {
			return
		}
		hits.inc()
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release) // runs before srv.Close, so a stuck handler cannot hang the test
	c := newClient(t, srv.URL, func(o *Options) { o.Timeout = 250 * time.Millisecond })
	// A first call opens the connection, so that the timeout below cannot
	// strike while dialling (on a loaded machine) before the request is sent.
	if _, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/fast"}); err != nil {
		t.Fatalf("warm-up: %v", err)
	}
	_, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/slow", Header: http.Header{"Authorization": {"Bearer " + sentinelBearer}}})
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want *TransportError", scrub(err), err)
	}
	if !te.Timeout || te.Canceled || !te.MayHaveReached {
		t.Errorf("err = %+v", te)
	}
	if !strings.Contains(err.Error(), "request timed out") {
		t.Errorf("message %q", err.Error())
	}
	assertNoSentinel(t, "error", err.Error())
	if hits.get() != 1 {
		t.Errorf("a timed-out GET was retried: %d requests", hits.get())
	}
}

func TestTransportContextDeadline(t *testing.T) {
	c := newClient(t, "http://127.0.0.1:1", nil)
	ctx, cancel := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel()
	_, err := c.Do(ctx, &Request{Method: "GET", Path: "/"})
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want *TransportError", scrub(err), err)
	}
	if !te.Timeout || te.Canceled || te.MayHaveReached {
		t.Errorf("err = %+v", te)
	}
}

func TestTransportCancelled(t *testing.T) {
	started := make(chan struct{})
	release := make(chan struct{})
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		close(started)
		select {
		case <-r.Context().Done():
		case <-release:
		}
	})
	defer close(release)
	c := newClient(t, srv.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	go func() {
		<-started
		cancel()
	}()
	_, err := c.Do(ctx, &Request{Method: "POST", Path: "/api/v1/users.regeneratePersonalAccessToken", Body: map[string]string{"tokenName": "ci"}})
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want *TransportError", scrub(err), err)
	}
	if !te.Canceled || te.Timeout || !te.MayHaveReached {
		t.Errorf("err = %+v", te)
	}
	if !MayHaveApplied(err) {
		t.Error("a request cancelled after it was sent may have applied")
	}
	if !strings.Contains(err.Error(), "request cancelled") || !errors.Is(err, context.Canceled) {
		t.Errorf("err = %v", err)
	}
}

func TestTransportCancelledBeforeSending(t *testing.T) {
	var hits counter
	srv := server(t, func(w http.ResponseWriter, r *http.Request) { hits.inc() })
	c := newClient(t, srv.URL, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Do(ctx, &Request{Method: "POST", Path: "/x", Body: map[string]int{"a": 1}})
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want *TransportError", scrub(err), err)
	}
	if !te.Canceled || te.MayHaveReached || MayHaveApplied(err) {
		t.Errorf("err = %+v", te)
	}
	if hits.get() != 0 {
		t.Errorf("server saw %d requests", hits.get())
	}
}

// --- body cap ------------------------------------------------------------------

func TestBodyCap(t *testing.T) {
	for _, size := range []int{0, 1, MaxBodyBytes - 1, MaxBodyBytes, MaxBodyBytes + 1, 3 * MaxBodyBytes} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "application/json")
				w.WriteHeader(200)
				w.Write([]byte(strings.Repeat("x", size)))
			})
			c := newClient(t, srv.URL, nil)
			resp, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/big"})
			if size <= MaxBodyBytes {
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				if len(resp.Body) != size {
					t.Errorf("read %d bytes, want %d", len(resp.Body), size)
				}
				return
			}
			var be *BadResponseError
			if !errors.As(err, &be) {
				t.Fatalf("err = %v (%T), want *BadResponseError", scrub(err), err)
			}
			if resp != nil {
				t.Error("a response came with the error")
			}
			if be.Service != "testsvc" || be.Status != 200 || be.StatusText != "OK" || be.ContentType != "application/json" {
				t.Errorf("err = %+v", be)
			}
			if !strings.Contains(err.Error(), "larger than 1 MiB") {
				t.Errorf("message %q", err.Error())
			}
			if !MayHaveApplied(err) {
				t.Error("an oversized answer may have applied")
			}
		})
	}
}

// --- TLS -----------------------------------------------------------------------

func tlsServer(t *testing.T) *httptest.Server {
	t.Helper()
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, `{"tls":true}`)
	}))
	srv.Config.ErrorLog = log.New(io.Discard, "", 0) // the refused handshakes
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv
}

func writeCertPEM(t *testing.T, srv *httptest.Server) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "ca.pem")
	data := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestTLSUnknownAuthority(t *testing.T) {
	srv := tlsServer(t)
	c := newClient(t, srv.URL, nil)
	_, err := c.Do(context.Background(), &Request{Method: "POST", Path: "/api/v4/users/login", Body: map[string]string{"password": sentinelPassword}})
	var te *TransportError
	if !errors.As(err, &te) {
		t.Fatalf("err = %v (%T), want *TransportError", scrub(err), err)
	}
	if te.MayHaveReached || te.Timeout || te.Canceled || MayHaveApplied(err) {
		t.Errorf("err = %+v", te)
	}
	var ve *tls.CertificateVerificationError
	if !errors.As(err, &ve) {
		t.Errorf("err %v does not unwrap to a certificate verification error", scrub(err))
	}
	if !strings.Contains(err.Error(), "certificate") {
		t.Errorf("message %q does not mention the certificate", err.Error())
	}
	assertNoSentinel(t, "error", err.Error())
}

func TestTLSWithCAFile(t *testing.T) {
	srv := tlsServer(t)
	c := newClient(t, srv.URL, func(o *Options) { o.CAFile = writeCertPEM(t, srv) })
	resp, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/api/v4/system/ping"})
	if err != nil {
		t.Fatalf("Do with CAFile: %v", err)
	}
	var v struct{ TLS bool }
	if err := Decode("testsvc", resp, &v); err != nil || !v.TLS {
		t.Errorf("Decode = %v, %v", v, err)
	}
}

func TestCAFileErrors(t *testing.T) {
	dir := t.TempDir()
	noPEM := filepath.Join(dir, "nopem.pem")
	if err := os.WriteFile(noPEM, []byte("this is not a certificate\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	missing := filepath.Join(dir, "missing.pem")
	for _, tt := range []struct{ file, want string }{
		{noPEM, "holds no PEM certificate"},
		{missing, "reading CA file"},
		{dir, "reading CA file"},
	} {
		if _, err := NewTransport(tt.file); err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("NewTransport(%q) = %v, want %q", tt.file, err, tt.want)
		}
		c, err := New(Options{BaseURL: "https://chat.example.com", CAFile: tt.file})
		if err == nil || c != nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("New with CAFile %q = %v, want %q", tt.file, err, tt.want)
		}
	}
	if _, err := NewTransport(missing); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a missing CA file's error does not wrap os.ErrNotExist: %v", err)
	}
}

func TestNewTransportSettings(t *testing.T) {
	tr, err := NewTransport("")
	if err != nil {
		t.Fatalf("NewTransport: %v", err)
	}
	if tr.TLSClientConfig == nil || tr.TLSClientConfig.MinVersion != tls.VersionTLS12 || tr.TLSClientConfig.InsecureSkipVerify {
		t.Errorf("TLS config = %+v", tr.TLSClientConfig)
	}
	if tr.TLSClientConfig.RootCAs != nil {
		t.Error("without a CA file the system roots must be used")
	}
	if tr.TLSHandshakeTimeout != DefaultTLSTimeout || tr.DialContext == nil {
		t.Errorf("handshake timeout %v, dialer set %v", tr.TLSHandshakeTimeout, tr.DialContext != nil)
	}
	if tr.Proxy == nil || reflect.ValueOf(tr.Proxy).Pointer() != reflect.ValueOf(http.ProxyFromEnvironment).Pointer() {
		t.Error("the transport does not take its proxy from the environment")
	}
}

// --- proxy ---------------------------------------------------------------------

// Go's http.ProxyFromEnvironment reads the environment once per process and
// never proxies loopback targets, so the proxy test runs in a child process
// (this test binary again) with the proxy variables set from the start, and
// uses a non-loopback target host that only the proxy "resolves".
const proxyChildEnv = "KEYTURN_TEST_PROXY_CHILD"

func TestProxyFromEnvironment(t *testing.T) {
	if os.Getenv(proxyChildEnv) == "1" {
		proxyChild(t)
		return
	}
	var mu sync.Mutex
	var seen []string
	record := func(which string) http.HandlerFunc {
		return func(w http.ResponseWriter, r *http.Request) {
			mu.Lock()
			seen = append(seen, which+" "+r.Method+" "+r.RequestURI)
			mu.Unlock()
			if r.Method == http.MethodConnect {
				http.Error(w, "no tunnels here", http.StatusForbidden)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"via":%q,"host":%q}`, which, r.Host)
		}
	}
	httpProxy := server(t, record("http-proxy"))
	httpsProxy := server(t, record("https-proxy"))

	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(exe, "-test.run=^TestProxyFromEnvironment$", "-test.count=1")
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		switch strings.ToUpper(k) {
		case "HTTP_PROXY", "HTTPS_PROXY", "NO_PROXY", "REQUEST_METHOD", proxyChildEnv:
			continue
		}
		cmd.Env = append(cmd.Env, kv)
	}
	cmd.Env = append(cmd.Env, proxyChildEnv+"=1",
		"HTTP_PROXY="+httpProxy.URL, "HTTPS_PROXY="+httpsProxy.URL, "NO_PROXY=direct.example.com")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child test failed: %v\n%s", err, out)
	}
	if !strings.Contains(string(out), "PASS") {
		t.Fatalf("child test did not run:\n%s", out)
	}
	mu.Lock()
	defer mu.Unlock()
	want := []string{
		"http-proxy GET http://chat.example.com/mm/api/v4/system/ping",
		"https-proxy CONNECT chat.example.com:443",
	}
	if !slices.Equal(seen, want) {
		t.Errorf("proxies saw %q, want %q", seen, want)
	}
}

func proxyChild(t *testing.T) {
	httpProxy, _ := url.Parse(os.Getenv("HTTP_PROXY"))
	httpsProxy, _ := url.Parse(os.Getenv("HTTPS_PROXY"))
	tr, err := NewTransport("")
	if err != nil {
		t.Fatal(err)
	}
	for _, tt := range []struct {
		target string
		want   *url.URL
	}{
		{"https://chat.example.com/api/v4/users/me", httpsProxy},
		{"http://chat.example.com/api/v4/users/me", httpProxy},
		{"https://direct.example.com/api/v1/me", nil},
		// Loopback goes direct whatever the variables say (Go's rule);
		// a *.localhost name is proxied like any other name.
		{"http://localhost:8065/api/v4/users/me", nil},
		{"http://127.0.0.1:8065/api/v4/users/me", nil},
		{"http://127.9.9.9/api/v4/users/me", nil},
		{"http://[::1]:3000/api/v1/me", nil},
		{"http://chat.localhost/api/v1/me", httpProxy},
	} {
		req, _ := http.NewRequest("GET", tt.target, nil)
		got, err := tr.Proxy(req)
		if err != nil {
			t.Errorf("Proxy(%s): %v", tt.target, err)
			continue
		}
		if (got == nil) != (tt.want == nil) || (got != nil && got.String() != tt.want.String()) {
			t.Errorf("Proxy(%s) = %v, want %v", tt.target, got, tt.want)
		}
	}

	// End to end: plain http through HTTP_PROXY.
	c := newClient(t, "http://chat.example.com/mm", func(o *Options) { o.AllowInsecureHTTP = true })
	resp, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/api/v4/system/ping"})
	if err != nil {
		t.Fatalf("Do through HTTP_PROXY: %v", err)
	}
	var v struct{ Via, Host string }
	if err := Decode("testsvc", resp, &v); err != nil || v.Via != "http-proxy" || v.Host != "chat.example.com" {
		t.Errorf("answer = %+v, %v", v, err)
	}

	// Plain http to a loopback server reaches it, not the proxy.
	direct := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"via":"direct"}`)
	})
	cl := newClient(t, direct.URL, nil)
	resp, err = cl.Do(context.Background(), &Request{Method: "GET", Path: "/api/v4/system/ping"})
	if err != nil {
		t.Fatalf("Do to loopback with HTTP_PROXY set: %v", err)
	}
	if err := Decode("testsvc", resp, &v); err != nil || v.Via != "direct" {
		t.Errorf("loopback answer = %+v, %v; want it direct", v, err)
	}

	// https goes through HTTPS_PROXY with CONNECT; this proxy refuses.
	cs := newClient(t, "https://chat.example.com", nil)
	_, err = cs.Do(context.Background(), &Request{Method: "GET", Path: "/api/v4/system/ping"})
	var te *TransportError
	if !errors.As(err, &te) || te.MayHaveReached {
		t.Errorf("Do through a refusing HTTPS_PROXY = %v, want a *TransportError that did not reach", err)
	}
}
