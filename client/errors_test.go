package client

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"
)

func TestAPIErrorMessage(t *testing.T) {
	tests := []struct {
		err  *APIError
		want string
	}{
		{&APIError{Service: "mattermost", Status: 401, Code: "api.user.login.invalid_credentials_email_username",
			Message: "Enter a valid email or username and/or password.", Detail: "", RequestID: "abc123"},
			"mattermost: HTTP 401 api.user.login.invalid_credentials_email_username: Enter a valid email or username and/or password. [request abc123]"},
		{&APIError{Service: "capillary", Status: 400, Code: "1506", Message: "Invalid OTP", Detail: "attempt 2 of 5"},
			"capillary: HTTP 400 1506: Invalid OTP (attempt 2 of 5)"},
		{&APIError{Service: "rocketchat", Status: 403}, "rocketchat: HTTP 403"},
		{&APIError{Service: "rocketchat", Status: 400, Message: "error-not-allowed"}, "rocketchat: HTTP 400: error-not-allowed"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q\nwant      %q", got, tt.want)
		}
	}
	if !(&APIError{Status: 401}).Unauthorized() || (&APIError{Status: 403}).Unauthorized() {
		t.Error("Unauthorized is wrong")
	}
}

func TestSecondFactorRequiredMessage(t *testing.T) {
	tests := []struct {
		err  *SecondFactorRequired
		want string
	}{
		{&SecondFactorRequired{Service: "mattermost", Method: MethodTOTP}, "mattermost: an authenticator (TOTP) code is required"},
		{&SecondFactorRequired{Service: "rocketchat", Method: MethodEmail, Methods: []string{MethodEmail, MethodTOTP}, CodeSent: true, SentTo: "a***@example.com"},
			"rocketchat: an email code is required (a code was sent to a***@example.com)"},
		{&SecondFactorRequired{Service: "rocketchat", Method: MethodPassword, Message: "TOTP Required"},
			"rocketchat: a password code is required: TOTP Required"},
		{&SecondFactorRequired{Service: "capillary", Method: MethodOTP, CodeSent: true, Expires: time.Unix(1e9, 0)},
			"capillary: a one-time code is required (a code was sent)"},
		{&SecondFactorRequired{Service: "x"}, "x: a second-factor code is required"},
		{&SecondFactorRequired{Service: "x", Method: "sms"}, "x: a sms code is required"},
		{&SecondFactorRequired{Service: "mattermost", Method: MethodTOTP, Invalid: true, Message: "Invalid MFA token."},
			"mattermost: the authenticator (TOTP) code was not accepted: Invalid MFA token."},
		{&SecondFactorRequired{Service: "rocketchat", Method: MethodEmail, Invalid: true, CodeSent: true},
			"rocketchat: the email code was not accepted (a code was sent)"},
		{&SecondFactorRequired{Service: "capillary", Method: MethodOTP, Invalid: true, Locked: true, Message: "Maximum attempts reached"},
			"capillary: too many wrong codes: Maximum attempts reached"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q\nwant      %q", got, tt.want)
		}
	}
}

func TestRateLimitedErrorMessage(t *testing.T) {
	tests := []struct {
		err  *RateLimitedError
		want string
	}{
		{&RateLimitedError{Service: "mattermost", Status: 429, RetryAfter: 2 * time.Second, Message: "limit exceeded"},
			"mattermost: rate limited (HTTP 429); retry in 2s: limit exceeded"},
		{&RateLimitedError{Service: "rocketchat", Status: 429, RetryAfter: 36700 * time.Millisecond},
			"rocketchat: rate limited (HTTP 429); retry in 37s"},
		{&RateLimitedError{Service: "capillary", Status: 503}, "capillary: rate limited (HTTP 503)"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q\nwant      %q", got, tt.want)
		}
	}
}

func TestTransportErrorMessage(t *testing.T) {
	base := errors.New("dial tcp 10.0.0.1:443: connect: connection refused")
	tests := []struct {
		err  *TransportError
		want string
	}{
		{&TransportError{Service: "mattermost", Method: "POST", Path: "/api/v4/users/login", Err: base},
			"mattermost: POST /api/v4/users/login: request failed: dial tcp 10.0.0.1:443: connect: connection refused"},
		{&TransportError{Service: "mattermost", Method: "PUT", Path: "/api/v4/commands/c1/regen_token", MayHaveReached: true, Err: io.ErrUnexpectedEOF},
			"mattermost: PUT /api/v4/commands/c1/regen_token: request failed: unexpected EOF (the request was sent; the server may have carried it out)"},
		{&TransportError{Service: "rocketchat", Method: "GET", Path: "/api/v1/me", Timeout: true, MayHaveReached: true, Err: context.DeadlineExceeded},
			"rocketchat: GET /api/v1/me: request timed out: context deadline exceeded (the request was sent; the server may have carried it out)"},
		{&TransportError{Service: "capillary", Method: "POST", Path: "/auth/v1/token/generate", Canceled: true, Timeout: true, Err: context.Canceled},
			"capillary: POST /auth/v1/token/generate: request cancelled: context canceled"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q\nwant      %q", got, tt.want)
		}
	}
	te := &TransportError{Err: base}
	if !errors.Is(te, base) || errors.Unwrap(te) != base {
		t.Error("TransportError does not unwrap")
	}
}

func TestBadResponseErrorMessage(t *testing.T) {
	tests := []struct {
		err  *BadResponseError
		want string
	}{
		{&BadResponseError{Service: "capillary", Status: 400, StatusText: "Bad Request", ContentType: "text/plain", Reason: `plain text, not JSON: "Bad"`},
			`capillary: unexpected answer (HTTP 400 Bad Request, text/plain): plain text, not JSON: "Bad"`},
		{&BadResponseError{Service: "mattermost", Status: 200, Reason: "the body is empty"},
			"mattermost: unexpected answer (HTTP 200): the body is empty"},
		{&BadResponseError{Service: "mattermost", Status: 599, ContentType: "application/json", Reason: "the JSON body is truncated"},
			"mattermost: unexpected answer (HTTP 599, application/json): the JSON body is truncated"},
	}
	for _, tt := range tests {
		if got := tt.err.Error(); got != tt.want {
			t.Errorf("Error() = %q\nwant      %q", got, tt.want)
		}
	}
}

func TestMayHaveApplied(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{"nil", nil, false},
		{"plain error", errors.New("boom"), false},
		{"context canceled", context.Canceled, false},
		{"transport, not sent", &TransportError{MayHaveReached: false}, false},
		{"transport, sent", &TransportError{MayHaveReached: true}, true},
		{"transport timeout, sent", &TransportError{MayHaveReached: true, Timeout: true}, true},
		{"transport cancelled, not sent", &TransportError{Canceled: true}, false},
		{"wrapped transport, sent", fmt.Errorf("rotating: %w", &TransportError{MayHaveReached: true}), true},
		{"wrapped transport, not sent", fmt.Errorf("rotating: %w", &TransportError{}), false},
		{"bad response", &BadResponseError{Status: 200}, true},
		{"wrapped bad response", fmt.Errorf("x: %w", &BadResponseError{Status: 502}), true},
		{"API 400", &APIError{Status: 400}, false},
		{"API 401", &APIError{Status: 401}, false},
		{"API 404", &APIError{Status: 404}, false},
		{"API 499", &APIError{Status: 499}, false},
		{"API 500", &APIError{Status: 500}, true},
		{"API 502", &APIError{Status: 502}, true},
		{"API 503", &APIError{Status: 503}, true},
		{"wrapped API 500", fmt.Errorf("x: %w", &APIError{Status: 500}), true},
		{"rate limited", &RateLimitedError{Status: 429}, false},
		{"second factor", &SecondFactorRequired{Method: MethodTOTP}, false},
		{"second factor invalid", &SecondFactorRequired{Invalid: true}, false},
	}
	for _, tt := range tests {
		if got := MayHaveApplied(tt.err); got != tt.want {
			t.Errorf("%s: MayHaveApplied = %v, want %v", tt.name, got, tt.want)
		}
	}
}

// TestErrorsCarryNoSecrets sends sentinel secrets in the body, headers and
// query of requests that fail every way Do can fail, and checks that no
// error string repeats them.
func TestErrorsCarryNoSecrets(t *testing.T) {
	handlers := map[string]http.HandlerFunc{
		"429 text": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "1")
			http.Error(w, "limit exceeded", http.StatusTooManyRequests)
		},
		"429 json": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusTooManyRequests)
			io.WriteString(w, `{"success":false,"error":"too many requests"}`)
		},
		"oversized": func(w http.ResponseWriter, r *http.Request) {
			w.Write([]byte(strings.Repeat("a", MaxBodyBytes+10)))
		},
		"dropped": func(w http.ResponseWriter, r *http.Request) {
			io.ReadAll(r.Body)
			conn, _, _ := w.(http.Hijacker).Hijack()
			conn.Close()
		},
		"cut short": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Length", "50")
			io.WriteString(w, "{")
		},
		"html": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/html")
			io.WriteString(w, "<html><title>Login</title></html>")
		},
		"truncated": func(w http.ResponseWriter, r *http.Request) {
			io.WriteString(w, `{"id":"u1","x":`)
		},
	}
	send := func(c *Client, method string) error {
		hdr := http.Header{}
		hdr.Set("Authorization", "Bearer "+sentinelBearer)
		hdr.Set("X-Auth-Token", sentinelToken)
		hdr.Set("X-2fa-Code", sentinelCode)
		hdr.Set("Cookie", "MMAUTHTOKEN="+sentinelCookie)
		resp, err := c.Do(context.Background(), &Request{
			Method:  method,
			Path:    "/api/v4/users/login",
			Query:   url.Values{"token": {sentinelToken}},
			Header:  hdr,
			Body:    map[string]string{"login_id": "alice", "password": sentinelPassword, "token": sentinelCode, "secret": sentinelSecret},
			Secrets: []string{sentinelPassword},
		})
		if err != nil {
			return err
		}
		var v struct{ ID string }
		return Decode(c.Service(), resp, &v)
	}
	for name, h := range handlers {
		srv := server(t, h)
		c := newClient(t, srv.URL, func(o *Options) { o.Sleep = (&sleepRecorder{}).sleep })
		for _, m := range []string{"GET", "POST"} {
			err := send(c, m)
			if err == nil {
				t.Errorf("%s %s: no error", name, m)
				continue
			}
			assertNoSentinel(t, name+" "+m+" error", err.Error())
			assertNoSentinel(t, name+" "+m+" error (%+v)", fmt.Sprintf("%+v", err))
		}
	}
	// Failures without an answer: refused, timeout, cancelled.
	c := newClient(t, closedPortURL(t), nil)
	if err := send(c, "POST"); err == nil {
		t.Error("refused: no error")
	} else {
		assertNoSentinel(t, "refused error", err.Error())
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err := c.Do(ctx, &Request{Method: "POST", Path: "/x", Body: map[string]string{"password": sentinelPassword}})
	if err == nil {
		t.Error("cancelled: no error")
	} else {
		assertNoSentinel(t, "cancelled error", err.Error())
	}
}
