package account

import (
	"crypto/x509"
	"errors"
	"fmt"
	"net"
	"strings"
	"syscall"
	"time"

	"keyturn/client"
	"keyturn/textsafe"
)

// Explained is an error in keyturn's words: What happened, as a sentence a
// person can act on, and apart from it the Detail: the error as the server
// or the system put it (its error id and message), for a detail line, to
// quote to the server's admin. Both faces render errors from here, so the
// words are decided once.
type Explained struct {
	What   string
	Detail string // empty when What is the whole error
}

// saidError is an error a service knows, with keyturn's words for it. Its
// message stays the server's: logs and scripts see what they saw before.
type saidError struct {
	what string
	err  error
}

func (e *saidError) Error() string { return e.err.Error() }
func (e *saidError) Unwrap() error { return e.err }

// say attaches keyturn's words to a server's error.
func say(err error, what string) error {
	if err == nil {
		return nil
	}
	return &saidError{what: what, err: err}
}

// Explain says err in keyturn's words. Errors keyturn words itself
// (a challenge still to answer, a token not saved, an unknown outcome, a
// missing account) are returned whole as What.
func Explain(err error) Explained {
	if err == nil {
		return Explained{}
	}
	full := textsafe.Line(err.Error())
	var said *saidError
	var ch *Challenge
	if errors.As(err, &said) {
		return Explained{What: said.what, Detail: full}
	}
	if errors.As(err, &ch) {
		return explainChallenge(ch, full)
	}
	if ownWords(err) {
		return Explained{What: full}
	}
	if what := clientWords(err); what != "" {
		return Explained{What: what, Detail: full}
	}
	return Explained{What: full}
}

// ownWords reports whether err is one keyturn words itself.
func ownWords(err error) bool {
	var uo *UnknownOutcomeError
	var ns *NotStoredError
	var na *NoAccountError
	var ir *InterruptedRunError
	return errors.As(err, &uo) || errors.As(err, &ns) || errors.As(err, &na) || errors.As(err, &ir)
}

func explainChallenge(ch *Challenge, full string) Explained {
	noun := "code"
	if ch.IsPassword {
		noun = "password"
	}
	detail := ""
	if ch.Message != "" {
		detail = ch.Service + ": " + textsafe.Line(ch.Message)
	}
	switch {
	case ch.Locked:
		return Explained{What: "Too many wrong answers: the server locked this sign-in for now.", Detail: detail}
	case ch.Invalid:
		return Explained{What: "The server did not accept that " + noun + ".", Detail: detail}
	}
	return Explained{What: full}
}

// clientWords is what a client error means, or "" for one it cannot say
// better than its message.
func clientWords(err error) string {
	var rl *client.RateLimitedError
	var te *client.TransportError
	var be *client.BadResponseError
	var ae *client.APIError
	switch {
	case errors.As(err, &rl):
		if rl.RetryAfter > 0 {
			return fmt.Sprintf("The server is limiting requests: try again in %s.", rl.RetryAfter.Round(time.Second))
		}
		return "The server is limiting requests: wait a minute and try again."
	case errors.As(err, &te):
		return transportWords(te)
	case errors.As(err, &be):
		return "The server's answer is not its API's (a proxy's or a login page?): check the server URL."
	case errors.As(err, &ae):
		return apiWords(ae)
	}
	return ""
}

func transportWords(te *client.TransportError) string {
	var dns *net.DNSError
	var op *net.OpError
	var unknownCA x509.UnknownAuthorityError
	var hostname x509.HostnameError
	var invalid x509.CertificateInvalidError
	switch {
	case te.Canceled:
		return "Cancelled."
	case te.MayHaveReached:
		return "The connection broke after the request was sent: the server may have carried it out."
	case te.Timeout:
		return "The server did not answer in time: check the connection, then try again."
	case errors.As(te.Err, &dns):
		return "The name " + dns.Name + " does not resolve: check the server URL."
	case errors.Is(te.Err, syscall.ECONNREFUSED) && errors.As(te.Err, &op) && op.Addr != nil:
		return "Nothing answers at " + op.Addr.String() + ": check the server URL, and that the server is running."
	case errors.Is(te.Err, syscall.ECONNREFUSED):
		return "Nothing answers at the server's address: check the server URL, and that the server is running."
	case errors.As(te.Err, &unknownCA), errors.As(te.Err, &hostname), errors.As(te.Err, &invalid):
		return "The server's certificate is not trusted: check the server URL, or give the account its CA file."
	case strings.Contains(te.Err.Error(), "tls:"):
		return "The secure connection to the server failed: check the server URL."
	}
	return "The server could not be reached: check the connection and the server URL."
}

func apiWords(ae *client.APIError) string {
	switch {
	case ae.Status == 401:
		return "The server no longer accepts keyturn's session for this account: sign in again."
	case ae.Status == 403:
		return "The server refused: this account lacks the permission for it."
	case ae.Status == 404:
		return "The server does not have it (any more)."
	case ae.Status >= 500:
		return fmt.Sprintf("The server failed (HTTP %d): try again later.", ae.Status)
	}
	return "The server refused the request."
}
