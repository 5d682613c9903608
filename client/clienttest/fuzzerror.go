package clienttest

import (
	"errors"
	"net/http"
	"strings"
	"testing"

	"keyturn/client"
)

// Typed is the client error a fuzzed call ended with: one field is set,
// or none when the error was one of the service's own sentinels.
type Typed struct {
	API          *client.APIError
	SecondFactor *client.SecondFactorRequired
	RateLimited  *client.RateLimitedError
	Bad          *client.BadResponseError
	Transport    *client.TransportError
}

// CheckFuzzError holds the error of a call against a fuzzed answer (HTTP
// status, or a fault played instead) to what every client promises: it
// has a message; it is one of package client's typed errors, naming the
// service, or one of sentinels; a transport error comes from a fault, or
// from a 3xx whose Location net/http cannot follow, and every fault gives
// one; a plain 429 gives a RateLimitedError with a wait that is not
// negative; a bad response says why. It returns the typed error for the
// service's own checks.
func CheckFuzzError(t testing.TB, service, op string, status int, fault uint8, err error, sentinels ...error) Typed {
	t.Helper()
	if strings.TrimSpace(err.Error()) == "" {
		t.Fatalf("%s: an error with no message (%T)", op, err)
	}
	var e Typed
	switch {
	case errors.As(err, &e.Transport):
		if fault == FaultNone && status/100 != 3 {
			t.Fatalf("%s: transport error without a fault: %v", op, err)
		}
	case errors.As(err, &e.RateLimited):
		if e.RateLimited.Status != http.StatusTooManyRequests || e.RateLimited.RetryAfter < 0 {
			t.Fatalf("%s: rate limit error %+v for HTTP %d", op, e.RateLimited, status)
		}
	case errors.As(err, &e.API):
		if e.API.Service != service {
			t.Fatalf("%s: API error of %q, want %q: %+v", op, e.API.Service, service, e.API)
		}
	case errors.As(err, &e.SecondFactor):
		if e.SecondFactor.Service != service {
			t.Fatalf("%s: challenge of %q, want %q: %+v", op, e.SecondFactor.Service, service, e.SecondFactor)
		}
	case errors.As(err, &e.Bad):
		if e.Bad.Reason == "" {
			t.Fatalf("%s: bad response without a reason: %+v", op, e.Bad)
		}
	case isOneOf(err, sentinels):
	default:
		t.Fatalf("%s: untyped error %T: %v", op, err, err)
	}
	if fault == FaultNone && status == http.StatusTooManyRequests && e.RateLimited == nil {
		t.Fatalf("%s: HTTP 429 gave %T %v, want a *client.RateLimitedError", op, err, err)
	}
	if fault != FaultNone && e.Transport == nil {
		t.Fatalf("%s: a transport fault gave %T %v", op, err, err)
	}
	return e
}

func isOneOf(err error, sentinels []error) bool {
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return true
		}
	}
	return false
}
