package client

import (
	"errors"
	"strings"
	"testing"
)

// TestErrorsCleanServerText: every error that quotes a server shows its
// words with no control character, escape or bidi override left.
func TestErrorsCleanServerText(t *testing.T) {
	const bad = "\x1b]52;c;cHduZWQ=\x07\x1b[2J\u009b6n\u202e\x7f\r\n"
	for _, err := range []error{
		&APIError{Service: "mattermost", Status: 401, Code: bad + "id", Message: bad + "msg", Detail: bad, RequestID: bad},
		&SecondFactorRequired{Service: "rocketchat", Method: MethodEmail, CodeSent: true, SentTo: bad + "to", Message: bad},
		&RateLimitedError{Service: "rocketchat", Status: 429, Message: bad},
		&BadResponseError{Service: "capillary", Status: 502, StatusText: bad, ContentType: bad, Reason: bad},
		&TransportError{Service: "mattermost", Method: "GET", Path: "/x", Err: errors.New(bad)},
	} {
		s := err.Error()
		if strings.ContainsFunc(s, func(r rune) bool { return r < 0x20 || r >= 0x7f && r <= 0x9f || r == 0x202e }) {
			t.Errorf("%T: %q", err, s)
		}
		if !strings.Contains(s, "?]52;c;cHduZWQ=?") {
			t.Errorf("%T lost the server's words: %q", err, s)
		}
	}
}
