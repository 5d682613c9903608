package client

import (
	"errors"
	"net/http"
	"reflect"
	"strconv"
	"strings"
	"testing"
	"time"
)

func resp(status int, ct, body string) *Response {
	h := http.Header{}
	if ct != "" {
		h.Set("Content-Type", ct)
	}
	return &Response{Status: status, StatusText: http.StatusText(status), Header: h, Body: []byte(body)}
}

func TestDecodeValid(t *testing.T) {
	var v struct {
		ID    string   `json:"id"`
		Count int      `json:"count"`
		Tags  []string `json:"tags"`
	}
	r := resp(200, "application/json; charset=utf-8", " \n{\"id\":\"u1\",\"count\":3,\"tags\":[\"a\"],\"extra\":true}\n")
	if err := Decode("mattermost", r, &v); err != nil {
		t.Fatalf("Decode: %v", err)
	}
	if v.ID != "u1" || v.Count != 3 || !reflect.DeepEqual(v.Tags, []string{"a"}) {
		t.Errorf("decoded %+v", v)
	}
	var list []map[string]any
	if err := Decode("rocketchat", resp(200, "", `[{"a":1},{"b":2}]`), &list); err != nil || len(list) != 2 {
		t.Errorf("Decode array = %v, %v", list, err)
	}
	if got := NotJSON(r); got != "" {
		t.Errorf("NotJSON(valid) = %q", got)
	}
}

func TestDecodeBadAnswers(t *testing.T) {
	type target struct {
		ID   string `json:"id"`
		User struct {
			Count int `json:"count"`
		} `json:"user"`
	}
	longTitle := strings.Repeat("T", 200)
	tests := []struct {
		name    string
		r       *Response
		want    []string
		notWant []string
	}{
		{
			name: "HTML error page from a proxy",
			r: resp(502, "text/html", "<!DOCTYPE html>\n<html><head><TITLE>\n  502   Bad\n Gateway </TITLE></head>"+
				"<body>nginx</body></html>"),
			want: []string{"mattermost: unexpected answer (HTTP 502 Bad Gateway, text/html)", `an HTML page ("502 Bad Gateway")`, "proxy", "check the URL"},
		},
		{
			name: "HTML sniffed though labelled JSON",
			r:    resp(200, "application/json", "  <html><title>Sign in</title></html>"),
			want: []string{`"Sign in"`, "proxy"},
		},
		{
			name: "HTML without a title",
			r:    resp(403, "text/html; charset=utf-8", "<html><body>Forbidden</body></html>"),
			want: []string{"HTTP 403 Forbidden, text/html", "an HTML page, not the API's JSON", "proxy"},
		},
		{
			name:    "HTML with an over-long title",
			r:       resp(200, "text/html", "<title>"+longTitle+"</title>"),
			want:    []string{strings.Repeat("T", 120) + "…"},
			notWant: []string{strings.Repeat("T", 121)},
		},
		{
			name:    "plain text (Capillary's 400)",
			r:       resp(400, "text/plain", "Invalid request\nsecond line"),
			want:    []string{"HTTP 400 Bad Request, text/plain", `plain text, not JSON: "Invalid request"`},
			notWant: []string{"second line"},
		},
		{
			name: "plain text without a type",
			r:    resp(429, "", "limit exceeded\n"),
			want: []string{"(HTTP 429 Too Many Requests)", "plain text", "limit exceeded"},
		},
		{
			name: "empty body",
			r:    resp(200, "application/json", ""),
			want: []string{"the body is empty"},
		},
		{
			name: "blank body",
			r:    resp(200, "application/json", " \r\n\t"),
			want: []string{"the body is empty"},
		},
		{
			name: "truncated object",
			r:    resp(200, "application/json", `{"id":"u1","user":{"count":`),
			want: []string{"the JSON body is truncated"},
		},
		{
			name: "truncated string",
			r:    resp(200, "application/json", `{"id":"u`),
			want: []string{"truncated"},
		},
		{
			name: "wrong type",
			r:    resp(200, "application/json", `{"id":5}`),
			want: []string{`field "id" holds a number where keyturn expects string`},
		},
		{
			name: "wrong type nested",
			r:    resp(200, "application/json", `{"id":"x","user":{"count":"five"}}`),
			want: []string{`field "user.count" holds a string`, "int"},
		},
		{
			name: "wrong type at the top",
			r:    resp(200, "application/json", `[1,2]`),
			want: []string{"holds a array"},
		},
		{
			name: "malformed",
			r:    resp(200, "application/json", `{"id" "x"}`),
			want: []string{"the JSON body is malformed at byte"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var v target
			err := Decode("mattermost", tt.r, &v)
			var be *BadResponseError
			if !errors.As(err, &be) {
				t.Fatalf("err = %v (%T), want *BadResponseError", scrub(err), err)
			}
			if be.Service != "mattermost" || be.Status != tt.r.Status || be.StatusText != tt.r.StatusText {
				t.Errorf("err = %+v", be)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not say %q", msg, w)
				}
			}
			for _, nw := range tt.notWant {
				if strings.Contains(msg, nw) {
					t.Errorf("error %q says %q", msg, nw)
				}
			}
			if !MayHaveApplied(err) {
				t.Error("a garbled answer may have applied")
			}
		})
	}
}

func TestDecodeOtherErrors(t *testing.T) {
	var v struct{}
	err := Decode("capillary", resp(200, "application/json", `{}`), v) // not a pointer
	var be *BadResponseError
	if !errors.As(err, &be) || !strings.Contains(be.Reason, "the JSON body could not be read") {
		t.Errorf("err = %v", err)
	}
}

func TestNotJSON(t *testing.T) {
	for _, tt := range []struct{ ct, body, want string }{
		{"application/json", `{"a":1}`, ""},
		{"", `[]`, ""},
		{"application/json", "", "the body is empty"},
		{"text/html", `{"a":1}`, "an HTML page"}, // the type says HTML: believe it
		{"text/plain", "ok", `plain text, not JSON: "ok"`},
		{"text/plain", strings.Repeat("x", 130), `plain text, not JSON: "` + strings.Repeat("x", 120) + `…"`},
	} {
		got := NotJSON(resp(200, tt.ct, tt.body))
		if tt.want == "" && got != "" || tt.want != "" && !strings.HasPrefix(got, tt.want) {
			t.Errorf("NotJSON(%q, %q) = %q, want %q", tt.ct, tt.body, got, tt.want)
		}
	}
}

func TestRetryAfter(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	epoch := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).Unix(), 10) }
	epochMS := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).UnixMilli(), 10) }
	tests := []struct {
		name     string
		headers  map[string]string
		want     time.Duration
		wantTold bool
	}{
		{"nothing", nil, 0, false},
		{"Retry-After seconds", map[string]string{"Retry-After": "5"}, 5 * time.Second, true},
		{"Retry-After zero", map[string]string{"Retry-After": "0"}, 0, true},
		{"Retry-After padded", map[string]string{"Retry-After": " 7 "}, 7 * time.Second, true},
		{"Retry-After fraction", map[string]string{"Retry-After": "1.5"}, 1500 * time.Millisecond, true},
		{"Retry-After HTTP date", map[string]string{"Retry-After": now.Add(30 * time.Second).Format(http.TimeFormat)}, 30 * time.Second, true},
		{"Retry-After HTTP date passed", map[string]string{"Retry-After": now.Add(-time.Hour).Format(http.TimeFormat)}, 0, true},
		{"Retry-After garbage", map[string]string{"Retry-After": "soon"}, 0, false},
		{"Retry-After negative", map[string]string{"Retry-After": "-3"}, 0, false},
		{"Retry-After NaN", map[string]string{"Retry-After": "NaN"}, 0, false},
		{"Retry-After huge", map[string]string{"Retry-After": "99999999999"}, maxDuration, true},
		{"Retry-After infinite", map[string]string{"Retry-After": "+Inf"}, maxDuration, true},
		{"Retry-After wins over the reset", map[string]string{"Retry-After": "2", "X-Ratelimit-Reset": "50"}, 2 * time.Second, true},
		{"garbage Retry-After falls back to the reset", map[string]string{"Retry-After": "soon", "X-Ratelimit-Reset": "50"}, 50 * time.Second, true},
		{"Mattermost reset seconds", map[string]string{"X-Ratelimit-Reset": "37"}, 37 * time.Second, true},
		{"reset zero", map[string]string{"X-RateLimit-Reset": "0"}, 0, true},
		{"reset epoch seconds", map[string]string{"X-RateLimit-Reset": epoch(20 * time.Second)}, 20 * time.Second, true},
		{"reset epoch seconds passed", map[string]string{"X-RateLimit-Reset": epoch(-20 * time.Second)}, 0, true},
		{"Rocket.Chat reset epoch ms", map[string]string{"X-RateLimit-Reset": epochMS(15500 * time.Millisecond)}, 15500 * time.Millisecond, true},
		{"Rocket.Chat reset epoch ms passed", map[string]string{"X-RateLimit-Reset": epochMS(-time.Second)}, 0, true},
		{"reset garbage", map[string]string{"X-RateLimit-Reset": "later"}, 0, false},
		{"reset negative", map[string]string{"X-RateLimit-Reset": "-1"}, 0, false},
		{"reset fraction", map[string]string{"X-RateLimit-Reset": "1.5"}, 0, false},
	}
	for _, tt := range tests {
		h := http.Header{}
		for k, v := range tt.headers {
			h.Set(k, v)
		}
		got, told := RetryAfter(h, now)
		if got != tt.want || told != tt.wantTold {
			t.Errorf("%s: RetryAfter = %v, %v; want %v, %v", tt.name, got, told, tt.want, tt.wantTold)
		}
	}
}

func TestPlainMessage(t *testing.T) {
	for _, tt := range []struct{ ct, body, want string }{
		{"text/plain", "limit exceeded\n", "limit exceeded"},
		{"text/plain", "first\r\nsecond", "first"},
		{"text/plain", strings.Repeat("y", 200), strings.Repeat("y", 160) + "…"},
		{"application/json", `{"success":false,"error":"too many requests"}`, "too many requests"},
		{"application/json", `{"error":{"code":1},"message":"slow down"}`, "slow down"},
		{"application/json", `{"error":"","message":"slow down"}`, "slow down"},
		{"application/json", `{}`, ""},
		{"text/html", "<html><title>429</title></html>", ""},
		{"", "", ""},
	} {
		if got := plainMessage(resp(429, tt.ct, tt.body)); got != tt.want {
			t.Errorf("plainMessage(%q, %q) = %q, want %q", tt.ct, tt.body, got, tt.want)
		}
	}
}

func TestContentType(t *testing.T) {
	for in, want := range map[string]string{
		"":                                "",
		"application/json":                "application/json",
		"application/json; charset=utf-8": "application/json",
		" text/html ;charset=utf-8":       "text/html",
	} {
		h := http.Header{}
		if in != "" {
			h.Set("Content-Type", in)
		}
		if got := contentType(h); got != want {
			t.Errorf("contentType(%q) = %q, want %q", in, got, want)
		}
	}
}
