package client

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"keyturn/textsafe"
)

// APIError is an error answer from a server: the service's own error id or
// code and message. It never carries request bodies or credentials.
type APIError struct {
	Service   string // "mattermost", "rocketchat", "capillary"
	Status    int    // HTTP status
	Code      string // the service's error id or code, e.g. "api.user.login.invalid_credentials_email_username", "1506"
	Message   string // the server's message, as given
	Detail    string // extra detail when the server gives one
	RequestID string
}

func (e *APIError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: HTTP %d", e.Service, e.Status)
	if e.Code != "" {
		fmt.Fprintf(&b, " %s", e.Code)
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, " (%s)", e.Detail)
	}
	if e.RequestID != "" {
		fmt.Fprintf(&b, " [request %s]", e.RequestID)
	}
	return textsafe.Line(b.String()) // the server's words may carry escape sequences
}

// Unauthorized reports whether the server rejected the credential itself
// (sign in again).
func (e *APIError) Unauthorized() bool { return e.Status == 401 }

// Known methods of a second factor.
const (
	MethodTOTP     = "totp"
	MethodEmail    = "email"
	MethodPassword = "password" // Rocket.Chat's fallback: the code is the account password
	MethodOTP      = "otp"      // a one-time code sent by SMS/email (Capillary)
)

// SecondFactorRequired is a challenge: the server wants a second factor
// before it carries out the call. The caller asks the person and retries the
// same call with the code; nothing here blocks on a prompt.
type SecondFactorRequired struct {
	Service  string
	Method   string    // the method the server wants now
	Methods  []string  // methods the server offers (may be empty: only Method)
	CodeSent bool      // this very answer sent a fresh code out of band
	SentTo   string    // where it went (an address or user name), when known
	Expires  time.Time // when the sent code expires, zero when unknown
	Invalid  bool      // a code was given and the server rejected it
	Locked   bool      // too many wrong codes: start again or wait
	Message  string    // the server's own words
}

func (e *SecondFactorRequired) Error() string {
	var b strings.Builder
	switch {
	case e.Locked:
		fmt.Fprintf(&b, "%s: too many wrong codes", e.Service)
	case e.Invalid:
		fmt.Fprintf(&b, "%s: the %s code was not accepted", e.Service, methodName(e.Method))
	default:
		name := methodName(e.Method)
		article := "a"
		if strings.IndexByte("aeio", name[0]) >= 0 && !strings.HasPrefix(name, "one") {
			article = "an" // an authenticator, an email; a one-time, a password
		}
		fmt.Fprintf(&b, "%s: %s %s code is required", e.Service, article, name)
	}
	if e.CodeSent && e.SentTo != "" {
		fmt.Fprintf(&b, " (a code was sent to %s)", e.SentTo)
	} else if e.CodeSent {
		b.WriteString(" (a code was sent)")
	}
	if e.Message != "" {
		fmt.Fprintf(&b, ": %s", e.Message)
	}
	return textsafe.Line(b.String())
}

func methodName(m string) string {
	switch m {
	case MethodTOTP:
		return "authenticator (TOTP)"
	case MethodEmail:
		return "email"
	case MethodPassword:
		return "password"
	case MethodOTP:
		return "one-time"
	case "":
		return "second-factor"
	}
	return m
}

// RateLimitedError is a 429 (or a 503 with Retry-After): wait, then retry.
type RateLimitedError struct {
	Service    string
	Status     int
	RetryAfter time.Duration // how long to wait, when the server said
	Message    string
}

func (e *RateLimitedError) Error() string {
	s := fmt.Sprintf("%s: rate limited (HTTP %d)", e.Service, e.Status)
	if e.RetryAfter > 0 {
		s += fmt.Sprintf("; retry in %s", e.RetryAfter.Round(time.Second))
	}
	if e.Message != "" {
		s += ": " + e.Message
	}
	return textsafe.Line(s)
}

// TransportError is a failure to get an answer at all: DNS, connect, TLS,
// timeout, a dropped connection or a cancelled context.
type TransportError struct {
	Service string
	Method  string
	Path    string
	// MayHaveReached is true when the request was written before the failure,
	// so the server may have carried it out: a non-idempotent call must not
	// be retried blindly.
	MayHaveReached bool
	Timeout        bool
	Canceled       bool
	Err            error
}

func (e *TransportError) Error() string {
	what := "request failed"
	switch {
	case e.Canceled:
		what = "request cancelled"
	case e.Timeout:
		what = "request timed out"
	}
	s := fmt.Sprintf("%s: %s %s: %s: %v", e.Service, e.Method, e.Path, what, e.Err)
	if e.MayHaveReached {
		s += " (the request was sent; the server may have carried it out)"
	}
	return textsafe.Line(s)
}

func (e *TransportError) Unwrap() error { return e.Err }

// BadResponseError is an answer that is not what the API sends: an HTML page
// from a proxy, plain text, truncated or oversized JSON.
type BadResponseError struct {
	Service     string
	Status      int
	StatusText  string
	ContentType string
	Reason      string // what was wrong, in words
}

func (e *BadResponseError) Error() string {
	s := fmt.Sprintf("%s: unexpected answer (HTTP %d", e.Service, e.Status)
	if e.StatusText != "" {
		s += " " + e.StatusText
	}
	if e.ContentType != "" {
		s += ", " + e.ContentType
	}
	return textsafe.Line(s + "): " + e.Reason)
}

// MayHaveApplied reports whether err leaves it unknown if the server carried
// out the request: a transport failure after the request was written, or a
// garbled answer to it.
func MayHaveApplied(err error) bool {
	var te *TransportError
	if errors.As(err, &te) {
		return te.MayHaveReached
	}
	var be *BadResponseError
	if errors.As(err, &be) {
		return true
	}
	var ae *APIError
	if errors.As(err, &ae) {
		return ae.Status >= 500
	}
	return false
}
