package client

import (
	"strings"
	"testing"
)

func TestParseBaseURLAccepts(t *testing.T) {
	tests := []struct {
		raw      string
		insecure bool
		want     string // the URL's String()
		path     string
	}{
		{raw: "https://chat.example.com", want: "https://chat.example.com", path: ""},
		{raw: "  https://chat.example.com  ", want: "https://chat.example.com", path: ""},
		{raw: "https://chat.example.com/", want: "https://chat.example.com", path: ""},
		{raw: "https://chat.example.com///", want: "https://chat.example.com", path: ""},
		{raw: "https://chat.example.com/mm", want: "https://chat.example.com/mm", path: "/mm"},
		{raw: "https://chat.example.com/team/mm/", want: "https://chat.example.com/team/mm", path: "/team/mm"},
		{raw: "HTTPS://Chat.Example.com:8443/x", want: "https://Chat.Example.com:8443/x", path: "/x"},
		{raw: "https://chat.example.com:443", want: "https://chat.example.com:443", path: ""},
		{raw: "https://10.1.2.3:65535", want: "https://10.1.2.3:65535", path: ""},
		{raw: "https://[2001:db8::1]:8065", want: "https://[2001:db8::1]:8065", path: ""},
		// Plain http to this machine is fine without opting in.
		{raw: "http://127.0.0.1:8065", want: "http://127.0.0.1:8065", path: ""},
		{raw: "http://127.0.0.2", want: "http://127.0.0.2", path: ""},
		{raw: "http://[::1]:3000/", want: "http://[::1]:3000", path: ""},
		{raw: "http://localhost:3000", want: "http://localhost:3000", path: ""},
		{raw: "http://LOCALHOST.", want: "http://LOCALHOST.", path: ""},
		// Plain http elsewhere only when the account opts in.
		{raw: "http://chat.example.com/", insecure: true, want: "http://chat.example.com", path: ""},
		{raw: "http://192.168.1.10:8065", insecure: true, want: "http://192.168.1.10:8065", path: ""},
	}
	for _, tt := range tests {
		u, err := ParseBaseURL(tt.raw, tt.insecure)
		if err != nil {
			t.Errorf("ParseBaseURL(%q, %v): %v", tt.raw, tt.insecure, err)
			continue
		}
		if u.String() != tt.want {
			t.Errorf("ParseBaseURL(%q) = %q, want %q", tt.raw, u.String(), tt.want)
		}
		if u.Path != tt.path {
			t.Errorf("ParseBaseURL(%q).Path = %q, want %q", tt.raw, u.Path, tt.path)
		}
		if u.RawQuery != "" || u.Fragment != "" || u.User != nil {
			t.Errorf("ParseBaseURL(%q) kept query, fragment or user: %#v", tt.raw, u)
		}
	}
}

func TestParseBaseURLRefuses(t *testing.T) {
	tests := []struct {
		name     string
		raw      string
		insecure bool
		want     []string // substrings of the error
		notWant  []string
	}{
		{name: "empty", raw: "", want: []string{"empty", "https://"}},
		{name: "blank", raw: "   ", want: []string{"empty"}},
		{name: "no scheme", raw: "chat.example.com", want: []string{"no scheme", "https://chat.example.com"}},
		{name: "no scheme with port", raw: "chat.example.com:8065/mm", want: []string{"no scheme", "https://chat.example.com:8065/mm"}},
		{name: "http to remote", raw: "http://chat.example.com", want: []string{"plain http", "https", "--insecure-http"}},
		{name: "http to LAN", raw: "http://192.168.1.10:8065", want: []string{"plain http"}},
		{name: "http to a name that only starts like localhost", raw: "http://localhost.example.com", want: []string{"plain http"}},
		// A *.localhost name goes through DNS and proxies like any other.
		{name: "http to a name under localhost", raw: "http://chat.localhost/rc", want: []string{"plain http", "--insecure-http"}},
		{name: "http to a deeper name under localhost", raw: "http://a.b.localhost.", want: []string{"plain http"}},
		{name: "user and password", raw: "https://alice:SENTINEL-PASSWORD-1234@chat.example.com", want: []string{"user name or password"}, notWant: []string{"SENTINEL", "alice"}},
		{name: "user only", raw: "https://alice@chat.example.com", want: []string{"user name or password"}},
		{name: "password and no host", raw: "https://alice:SENTINEL-PASSWORD-1234@", want: []string{"no host"}, notWant: []string{"SENTINEL", "alice"}},
		{name: "password and no scheme", raw: "alice:SENTINEL-PASSWORD-1234@chat.example.com", want: []string{"no scheme", "https://…@chat.example.com"}, notWant: []string{"SENTINEL", "alice"}},
		{name: "password that does not parse", raw: "https://alice:SENTINEL PASSWORD/?#@chat.example.com", want: []string{"not a valid URL"}, notWant: []string{"SENTINEL", "alice"}},
		{name: "token in the query", raw: "https://chat.example.com/?token=SENTINEL-TOKEN-1234", want: []string{"query or fragment", "https://chat.example.com/?…"}, notWant: []string{"SENTINEL"}},
		{name: "query", raw: "https://chat.example.com/?a=b", want: []string{"query or fragment"}},
		{name: "empty query", raw: "https://chat.example.com/?", want: []string{"query or fragment"}},
		{name: "fragment", raw: "https://chat.example.com/#top", want: []string{"query or fragment"}},
		{name: "empty fragment", raw: "https://chat.example.com#", want: []string{"query or fragment"}},
		{name: "port too large", raw: "https://chat.example.com:99999", want: []string{"bad port", "99999"}},
		{name: "port zero", raw: "https://chat.example.com:0", want: []string{"bad port"}},
		{name: "port not a number", raw: "https://chat.example.com:abc", want: []string{"not a valid URL"}},
		{name: "ftp", raw: "ftp://files.example.com", want: []string{`scheme "ftp"`, "use https"}},
		{name: "ws", raw: "ws://localhost:3000", want: []string{`scheme "ws"`}},
		{name: "no host", raw: "https://", want: []string{"no host"}},
		{name: "no host with path", raw: "https:///api", want: []string{"no host"}},
		{name: "port only", raw: "https://:8065", want: []string{"no host"}},
		{name: "garbage", raw: "://", want: []string{"not a valid URL"}},
		{name: "bad escape", raw: "https://chat.example.com/%zz", want: []string{"not a valid URL"}},
		{name: "control char", raw: "https://chat.example.com/a\x7fb", want: []string{"not a valid URL"}},
		{name: "double slash in path", raw: "https://chat.example.com//mm", want: []string{"malformed path"}},
		{name: "dot dot", raw: "https://chat.example.com/a/../b", want: []string{"malformed path"}},
		{name: "trailing dot dot", raw: "https://chat.example.com/a/..", want: []string{"malformed path"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			u, err := ParseBaseURL(tt.raw, tt.insecure)
			if err == nil {
				t.Fatalf("ParseBaseURL(%q) = %v, want an error", tt.raw, u)
			}
			msg := err.Error()
			for _, w := range tt.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not mention %q", msg, w)
				}
			}
			for _, nw := range tt.notWant {
				if strings.Contains(msg, nw) {
					t.Errorf("error for %s repeats %q", tt.name, nw)
				}
			}
		})
	}
}

func TestParseBaseURLInsecureStillChecksTheRest(t *testing.T) {
	// Opting in to plain http does not relax any other check.
	for _, raw := range []string{"ftp://chat.example.com", "http://u:p@chat.example.com", "http://chat.example.com/?x", "http://chat.example.com:70000"} {
		if _, err := ParseBaseURL(raw, true); err == nil {
			t.Errorf("ParseBaseURL(%q, true) accepted it", raw)
		}
	}
}

func TestIsLoopback(t *testing.T) {
	yes := []string{"localhost", "LocalHost", "localhost.", "127.0.0.1", "127.1.2.3", "::1", "0:0:0:0:0:0:0:1"}
	no := []string{"", "example.com", "app.localhost", "x.localhost.", "localhost.example.com", "mylocalhost", "10.0.0.1", "192.168.0.1", "::", "0.0.0.0", "::ffff:10.0.0.1"}
	for _, h := range yes {
		if !IsLoopback(h) {
			t.Errorf("IsLoopback(%q) = false, want true", h)
		}
	}
	for _, h := range no {
		if IsLoopback(h) {
			t.Errorf("IsLoopback(%q) = true, want false", h)
		}
	}
}

func TestParsePort(t *testing.T) {
	for p, want := range map[string]int{"1": 1, "80": 80, "65535": 65535, "08065": 8065} {
		n, err := parsePort(p)
		if err != nil || n != want {
			t.Errorf("parsePort(%q) = %d, %v; want %d", p, n, err, want)
		}
	}
	for _, p := range []string{"65536", "1000000", "-1", "8o", "+80"} {
		if _, err := parsePort(p); err == nil {
			t.Errorf("parsePort(%q) accepted it", p)
		}
	}
}
