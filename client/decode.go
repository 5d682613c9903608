package client

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"time"
	"unicode"
	"unicode/utf8"
)

// Decode reads a JSON answer into v. Anything else (an HTML page from a
// proxy, plain text, truncated or wrongly typed JSON) is a
// *BadResponseError that says what arrived, with the status line.
func Decode(service string, r *Response, v any) error {
	if reason := NotJSON(r); reason != "" {
		return &BadResponseError{Service: service, Status: r.Status, StatusText: r.StatusText, ContentType: contentType(r.Header), Reason: reason}
	}
	dec := json.NewDecoder(bytes.NewReader(r.Body))
	if err := dec.Decode(v); err != nil {
		return &BadResponseError{Service: service, Status: r.Status, StatusText: r.StatusText, ContentType: contentType(r.Header), Reason: describeJSONError(err)}
	}
	if rest := bytes.TrimSpace(r.Body[dec.InputOffset():]); len(rest) > 0 {
		return &BadResponseError{Service: service, Status: r.Status, StatusText: r.StatusText, ContentType: contentType(r.Header), Reason: "more follows the JSON value: the answer is not one JSON document"}
	}
	return nil
}

// DecodeList decodes a list answer from body into v as it streams in,
// reading at most MaxListBytes: past that, or on anything Decode would
// refuse, it is a *BadResponseError, in the same words. r gives the status
// and headers. A JSON array into a slice is decoded an element at a time.
func DecodeList(service string, r *Response, body io.Reader, v any) error {
	bad := func(reason string) error {
		return &BadResponseError{Service: service, Status: r.Status, StatusText: r.StatusText, ContentType: contentType(r.Header), Reason: reason}
	}
	lr := &io.LimitedReader{R: body, N: MaxListBytes + 1}
	tooBig := func() bool { return lr.N <= 0 }
	// The start says whether this is JSON at all; a page that is not is
	// read up to the small cap for NotJSON to describe.
	head, _ := io.ReadAll(io.LimitReader(lr, 512))
	probe := &Response{Status: r.Status, Header: r.Header, Body: head}
	if NotJSON(probe) != "" {
		rest, _ := io.ReadAll(io.LimitReader(lr, int64(MaxBodyBytes-len(head))))
		probe.Body = append(head, rest...)
		if reason := NotJSON(probe); reason != "" {
			return bad(reason)
		}
	}
	src := io.MultiReader(bytes.NewReader(probe.Body), lr)
	var dec *json.Decoder
	var err error
	if slice, ok := sliceTarget(v); ok && firstNonSpace(probe.Body) == '[' {
		dec, err = decodeElements(src, slice)
	} else {
		dec = json.NewDecoder(src)
		err = dec.Decode(v)
	}
	if tooBig() {
		return bad(fmt.Sprintf("the list is larger than %d MiB; keyturn reads no more", MaxListBytes>>20))
	}
	if errors.Is(err, errTooManyItems) {
		return bad(err.Error())
	}
	if err != nil {
		return bad(describeJSONError(err))
	}
	if !onlySpace(io.MultiReader(dec.Buffered(), lr)) {
		return bad("more follows the JSON value: the answer is not one JSON document")
	}
	if tooBig() {
		return bad(fmt.Sprintf("the list is larger than %d MiB; keyturn reads no more", MaxListBytes>>20))
	}
	return nil
}

// onlySpace reads r to its end, a chunk at a time, and reports whether it
// held only JSON whitespace; it stops at the first other byte.
func onlySpace(r io.Reader) bool {
	buf := make([]byte, 32<<10)
	for {
		n, err := r.Read(buf)
		if len(bytes.TrimLeft(buf[:n], " \t\r\n")) > 0 {
			return false
		}
		if err != nil {
			return true
		}
	}
}

// NotJSON says why a body cannot be JSON, or "" when it may be.
func NotJSON(r *Response) string {
	body := bytes.TrimSpace(r.Body)
	ct := contentType(r.Header)
	switch {
	case len(body) == 0:
		return "the body is empty"
	case strings.Contains(ct, "html") || bytes.HasPrefix(body, []byte("<")):
		if t := htmlTitle(body); t != "" {
			return fmt.Sprintf("an HTML page (%q), not the API's JSON: a proxy or web server answered instead of the API; check the URL", t)
		}
		return "an HTML page, not the API's JSON: a proxy or web server answered instead of the API; check the URL"
	case body[0] != '{' && body[0] != '[':
		return fmt.Sprintf("plain text, not JSON: %q", firstLine(string(body)))
	}
	return ""
}

func describeJSONError(err error) string {
	var te *json.UnmarshalTypeError
	var se *json.SyntaxError
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return "the JSON body is truncated"
	case errors.As(err, &te):
		return fmt.Sprintf("field %q holds a %s where keyturn expects %s", te.Field, te.Value, te.Type)
	case errors.As(err, &se):
		return fmt.Sprintf("the JSON body is malformed at byte %d", se.Offset)
	}
	return "the JSON body could not be read: " + err.Error()
}

var titleRE = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`(?is)<title[^>]*>(.*?)</title>`) })

func htmlTitle(body []byte) string {
	m := titleRE().FindSubmatch(body)
	if m == nil {
		return ""
	}
	return firstLine(strings.Join(strings.Fields(string(m[1])), " "))
}

// firstLine is a short, printable excerpt of s for an error message: its
// first line, control and invalid bytes shown as '?', at most 120 bytes, so
// that even quoted it stays short.
func firstLine(s string) string {
	s = strings.TrimSpace(s)
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if !unicode.IsPrint(r) {
			return '?'
		}
		return r
	}, s)
	if len(s) > 120 {
		cut := 120
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

// RetryAfter reads when to retry from Retry-After (seconds or an HTTP date)
// or X-RateLimit-Reset, which Mattermost sends as seconds to wait and
// Rocket.Chat as an epoch in milliseconds; told is false when neither is there.
func RetryAfter(h http.Header, now time.Time) (wait time.Duration, told bool) {
	if v := strings.TrimSpace(h.Get("Retry-After")); v != "" {
		if n, err := strconv.ParseFloat(v, 64); err == nil && n >= 0 {
			// Clamp: converting a float beyond int64 (a huge value, +Inf)
			// gives a negative Duration, which would skip the wait.
			if d := n * float64(time.Second); d < math.MaxInt64 {
				return time.Duration(d), true
			}
			return time.Duration(math.MaxInt64), true
		}
		if t, err := http.ParseTime(v); err == nil {
			return nonNegative(t.Sub(now)), true
		}
	}
	if v := strings.TrimSpace(h.Get("X-RateLimit-Reset")); v != "" {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			return 0, false
		}
		switch {
		case n > 1e11: // epoch milliseconds
			return nonNegative(time.UnixMilli(n).Sub(now)), true
		case n > 1e9: // epoch seconds
			return nonNegative(time.Unix(n, 0).Sub(now)), true
		default: // seconds from now
			return time.Duration(n) * time.Second, true
		}
	}
	return 0, false
}

func nonNegative(d time.Duration) time.Duration {
	if d < 0 {
		return 0
	}
	return d
}
