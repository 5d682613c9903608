package client

import (
	"fmt"
	"net"
	"net/url"
	"strings"
)

// ParseBaseURL checks a server's base URL: https by default; plain http
// only to a loopback host unless allowInsecureHTTP is set for the account.
// It returns the URL without a trailing slash, query or fragment.
func ParseBaseURL(raw string, allowInsecureHTTP bool) (*url.URL, error) {
	raw = strings.TrimSpace(raw)
	if raw == "" {
		return nil, fmt.Errorf("server URL is empty: give one like https://chat.example.com")
	}
	// Errors show the URL without what may be a secret: a password before
	// the host, a token in the query.
	shown := redactURL(raw)
	if !strings.Contains(raw, "://") {
		return nil, fmt.Errorf("server URL %q has no scheme: write https://%s", shown, shown)
	}
	u, err := url.Parse(raw)
	if err != nil {
		if strings.Contains(raw, "@") {
			// The parser's words may quote the password ("invalid port").
			return nil, fmt.Errorf("server URL %q is not a valid URL: give only the scheme, host and path prefix (keyturn asks for the user name and password itself)", shown)
		}
		return nil, fmt.Errorf("server URL %q is not a valid URL: %v", shown, unwrapURLError(err))
	}
	if u.Host == "" || u.Hostname() == "" {
		return nil, fmt.Errorf("server URL %q has no host", shown)
	}
	if u.User != nil {
		return nil, fmt.Errorf("server URL must not carry a user name or password; keyturn asks for them")
	}
	if u.RawQuery != "" || u.Fragment != "" || strings.HasSuffix(raw, "?") || strings.HasSuffix(raw, "#") {
		return nil, fmt.Errorf("server URL %q has a query or fragment: give only the scheme, host and path prefix", shown)
	}
	if p := u.Port(); p != "" {
		if n, err := parsePort(p); err != nil || n == 0 {
			return nil, fmt.Errorf("server URL %q has a bad port %q", shown, p)
		}
	}
	switch u.Scheme {
	case "https":
	case "http":
		if !allowInsecureHTTP && !IsLoopback(u.Hostname()) {
			return nil, fmt.Errorf("server URL %q uses plain http to a host that is not this machine: use https, or allow plain http for this account (--insecure-http) if you trust the network", shown)
		}
	default:
		return nil, fmt.Errorf("server URL %q has scheme %q: use https", shown, u.Scheme)
	}
	u.Path = strings.TrimRight(u.Path, "/")
	u.RawPath = ""
	if strings.Contains(u.Path, "//") || strings.Contains(u.Path, "/../") || strings.HasSuffix(u.Path, "/..") {
		return nil, fmt.Errorf("server URL %q has a malformed path", shown)
	}
	return u, nil
}

// redactURL is raw for an error message: everything up to the last '@'
// (a user name and password) becomes "…@", and a query or fragment "?…".
func redactURL(raw string) string {
	scheme, rest := "", raw
	if i := strings.Index(raw, "://"); i >= 0 {
		scheme, rest = raw[:i+3], raw[i+3:]
	}
	// The last '@' anywhere: a password may hold '/', '?' or '#'.
	if at := strings.LastIndexByte(rest, '@'); at >= 0 {
		rest = "…@" + rest[at+1:]
	}
	if i := strings.IndexAny(rest, "?#"); i >= 0 {
		rest = rest[:i] + "?…"
	}
	return scheme + rest
}

func parsePort(p string) (int, error) {
	n := 0
	for _, c := range p {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("not a number")
		}
		n = n*10 + int(c-'0')
		if n > 65535 {
			return 0, fmt.Errorf("out of range")
		}
	}
	return n, nil
}

func unwrapURLError(err error) error {
	if ue, ok := err.(*url.Error); ok {
		return ue.Err
	}
	return err
}

// IsLoopback reports whether host names this machine: localhost or a
// loopback address (127.0.0.0/8, ::1). A name under .localhost is not: it
// is resolved through DNS and sent through a proxy like any other name.
// Go's http.ProxyFromEnvironment never proxies what this accepts, so plain
// http to loopback goes straight to this machine.
func IsLoopback(host string) bool {
	host = strings.TrimSuffix(strings.ToLower(host), ".")
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
