package client

// Fuzz targets for the shared core's pure functions: Decode (every service's
// response decoder goes through it), RetryAfter and RedactBody. Seeds in
// testdata/fuzz come from the JSON examples of the API references
// (../shared/api) and the seed documents (../shared/seeds). fuzz/run runs
// each target for a few seconds in CI.

import (
	"bytes"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"reflect"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"
)

// FuzzDecode: any status, content type and body. Decode never panics; it
// either fills the value from a body that can be JSON, or returns a
// *BadResponseError that names the status and says in words what arrived.
func FuzzDecode(f *testing.F) {
	for _, s := range []struct {
		status uint16
		ct     string
		body   string
	}{
		{200, "application/json", `{"id":"x","n":1,"b":true,"l":["a"],"m":{"a":1},"p":{"x":1.5}}`},
		{200, "application/json", `[{"id":"a"},{"id":"b"}]`},
		{200, "application/json", `{"id":"x"`},
		{200, "application/json", `{"id":"x"} trailing`},
		{200, "application/json", `{"n":"not a number"}`},
		{200, "application/json", `{"n":1e400}`},
		{200, "application/json", "\xef\xbb\xbf{}"},
		{200, "application/json", ""},
		{200, "application/json", "   \n"},
		{502, "text/html; charset=utf-8", "<html><head><title>502 Bad Gateway</title></head><body>nginx</body></html>"},
		{200, "", "<!DOCTYPE html><title>\n  Sign in \n</title>"},
		{429, "text/plain", "limit exceeded\n"},
		{400, "text/plain", "Unable to process JSON"},
		{200, "application/json", `"just a string"`},
		{200, "application/json", `null`},
		// Lists, decoded an element at a time by DecodeList.
		{200, "application/json", `[1 2]`},
		{200, "application/json", `[1}`},
		{200, "application/json", `[}`},
		{200, "application/json", `[,1]`},
		{200, "application/json", `[1,]`},
		{200, "application/json", `[ {"n":"x"} ,  {"id":7}, {]`},
		{200, "application/json", ` [ {"id":"a"} , {"l":["]","[",{}]} ] `},
		{200, "application/json", `["[[[", "\"[", {"id":"\\"}]`},
		{200, "application/json", `[{"n":"x"},{"n":1}`},
		{200, "application/json", strings.Repeat("[", 10001) + strings.Repeat("]", 10001)},
		{200, "application/json", strings.Repeat("[", 10000) + strings.Repeat("]", 10000)},
		{200, "application/json", `[{"id":"a"},` + strings.Repeat("[", 10000) + `"x` + strings.Repeat("]", 10000)},
	} {
		f.Add(s.status, s.ct, []byte(s.body))
	}
	type shape struct {
		ID string               `json:"id"`
		N  int                  `json:"n"`
		B  bool                 `json:"b"`
		L  []string             `json:"l"`
		M  map[string]int       `json:"m"`
		P  *struct{ X float64 } `json:"p"`
	}
	f.Fuzz(func(t *testing.T, status uint16, ct string, body []byte) {
		r := &Response{Status: int(status), StatusText: http.StatusText(int(status)), Header: http.Header{}, Body: body}
		if ct != "" {
			r.Header.Set("Content-Type", ct)
		}
		notJSON := NotJSON(r)
		for _, v := range []any{new(any), new(shape), new([]shape), new(map[string]json.RawMessage)} {
			err := Decode("svc", r, v)
			if err == nil {
				if notJSON != "" {
					t.Fatalf("Decode into %T succeeded on a body NotJSON rejects (%s)", v, notJSON)
				}
				continue
			}
			var be *BadResponseError
			if !errors.As(err, &be) {
				t.Fatalf("Decode into %T: %T %q, want a *BadResponseError", v, err, err)
			}
			if be.Service != "svc" || be.Status != int(status) || strings.TrimSpace(be.Reason) == "" {
				t.Fatalf("Decode into %T: unclear error %#v", v, be)
			}
			if notJSON != "" && be.Reason != notJSON {
				t.Fatalf("Decode into %T: reason %q, NotJSON says %q", v, be.Reason, notJSON)
			}
			if _, isShape := v.(*shape); isShape && len(be.Reason) > 400 {
				// keyturn's own words about a body are short; they never
				// replay the body.
				t.Fatalf("Decode into %T: a %d-byte reason", v, len(be.Reason))
			}
		}
		// A list read as a stream is refused whenever Decode refuses it,
		// for the same reason, and decodes to the same value otherwise.
		// (It is stricter only about blanks after the value, JSON's own,
		// and about a list of more than MaxListItems entries.)
		for _, mk := range []func() any{func() any { return new([]shape) }, func() any { return new(any) }} {
			whole, streamed := mk(), mk()
			errWhole := Decode("svc", r, whole)
			errStream := DecodeList("svc", r, bytes.NewReader(body), streamed)
			var be *BadResponseError
			switch {
			case errStream != nil && !errors.As(errStream, &be):
				t.Fatalf("DecodeList into %T: %T %q, want a *BadResponseError", streamed, errStream, errStream)
			case errWhole != nil && (errStream == nil || errStream.Error() != errWhole.Error()):
				t.Fatalf("DecodeList into %T: %v, Decode: %v", streamed, errStream, errWhole)
			case errWhole == nil && errStream == nil && !reflect.DeepEqual(whole, streamed):
				t.Fatalf("DecodeList into %T decoded another value than Decode", streamed)
			case errWhole == nil && errStream != nil && !strings.Contains(errStream.Error(), "more follows") && !strings.Contains(errStream.Error(), "entries; keyturn reads no more"):
				t.Fatalf("DecodeList into %T refused what Decode took: %v", streamed, errStream)
			}
		}
		// A body that is one valid JSON value (and not announced as HTML)
		// always decodes into a json.RawMessage. (Into an empty interface
		// it may not: 1e400 is valid JSON but no float64.)
		if notJSON == "" && json.Valid(body) {
			var v json.RawMessage
			if err := Decode("svc", r, &v); err != nil {
				t.Fatalf("Decode rejected valid JSON: %v", err)
			}
		}
	})
}

// FuzzRetryAfter: Retry-After and X-RateLimit-Reset hold anything, at any
// moment. The wait is never negative, and zero when nothing was said.
func FuzzRetryAfter(f *testing.F) {
	now := time.Date(2026, 9, 1, 12, 0, 0, 0, time.UTC).UnixNano()
	for _, s := range [][2]string{
		{"37", ""}, {"0", ""}, {"1.5", ""}, {"-1", ""}, {"1e309", ""}, {"Inf", ""}, {"NaN", ""},
		{"9223372036854775807", ""}, {"Tue, 01 Sep 2026 12:00:30 GMT", ""}, {"Mon, 01 Jan 0001 00:00:00 GMT", ""},
		{"", "37"}, {"", "1788264030"}, {"", "1788264030000"}, {"", "-5"}, {"", "9223372036854775807"},
		{"soon", "12"}, {" 5 ", ""}, {"0x10", ""}, {"1_000", ""},
	} {
		f.Add(s[0], s[1], now)
	}
	f.Add("", "", int64(math.MinInt64))
	f.Add("", "1788264030000", int64(math.MaxInt64))
	f.Fuzz(func(t *testing.T, retryAfter, reset string, nowNanos int64) {
		h := http.Header{}
		if retryAfter != "" {
			h.Set("Retry-After", retryAfter)
		}
		if reset != "" {
			h.Set("X-RateLimit-Reset", reset)
		}
		wait, told := RetryAfter(h, time.Unix(0, nowNanos))
		if wait < 0 {
			t.Fatalf("RetryAfter(%q, %q) = %v: negative", retryAfter, reset, wait)
		}
		if !told && wait != 0 {
			t.Fatalf("RetryAfter(%q, %q) = %v but not told", retryAfter, reset, wait)
		}
		// Plain seconds mean that many seconds (clamped, never wrapped).
		if n, err := strconv.ParseInt(strings.TrimSpace(retryAfter), 10, 64); err == nil && n >= 0 {
			want := time.Duration(math.MaxInt64)
			if n <= math.MaxInt64/int64(time.Second) {
				want = time.Duration(n) * time.Second
			}
			if diff := wait - want; !told || diff > time.Microsecond || diff < -time.Microsecond {
				t.Fatalf("Retry-After %q: wait %v (told %v), want %v", retryAfter, wait, told, want)
			}
		}
	})
}

// secretFieldNames are the JSON keys RedactBody hides, sorted.
func secretFieldNames() []string {
	names := make([]string, 0, len(secretFields))
	for k := range secretFields {
		names = append(names, k)
	}
	sort.Strings(names)
	return names
}

// fuzzSentinel marks a value that sits under a secret field name.
const fuzzSentinel = "ZQXSENTINELQXZ"

// secretAlphabet builds listed secrets: no lowercase letters and no square
// brackets, so a secret can never be formed out of the "[redacted]" text
// that replaces another one; with characters JSON escapes.
const secretAlphabet = `ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789<>&"\'/+=_- é€` + "\u2028\t"

// FuzzRedactBody: a fuzzed JSON document gets a sentinel value under a secret
// field name (at any depth, or inside a JSON object carried in a string, as
// in Rocket.Chat's method.call), and a listed secret somewhere in a value.
// The rendering never shows either, not even JSON-escaped.
func FuzzRedactBody(f *testing.F) {
	f.Add([]byte(`{"user":"alice","password":"x"}`), "password", uint16(0), false, "S3CR3T-VALUE")
	f.Add([]byte(`{"data":{"me":{"services":{}}},"list":[{"a":1},[]]}`), "Token", uint16(3), true, `<AB&"CD>`)
	f.Add([]byte(`{"message":"{\"msg\":\"method\",\"params\":[{}]}"}`), "", uint16(1), true, "1234X")
	f.Add([]byte(`[1,"two",null,{"nested":[{"deeper":{}}]}]`), "qr_code", uint16(4), false, "ÉÉÉÉ")
	f.Add([]byte(`"a string"`), "KEY", uint16(0), false, "ABCD\u2028")
	f.Add([]byte(`not json at all, password=hunter2`), "otp", uint16(0), false, "HUNTER2")
	names := secretFieldNames()
	f.Fuzz(func(t *testing.T, body []byte, key string, where uint16, embed bool, secretSeed string) {
		// Whatever arrives, no panic; a body that is not JSON is not shown.
		raw := RedactBody(body, "text/plain", nil)
		if !json.Valid(body) && len(body) >= 16 && strings.Contains(raw, string(body)) {
			t.Fatalf("a non-JSON body is shown: %q", raw)
		}

		var base any
		if json.Unmarshal(body, &base) != nil {
			base = map[string]any{"raw": string(body)}
		}
		plain, err := json.Marshal(base)
		if err != nil {
			t.Skip()
		}
		if strings.Contains(string(plain), "SENTINEL") {
			return // the fuzzer wrote the sentinel itself
		}
		if !IsSecretField(key) {
			key = names[int(where)%len(names)]
		}

		// 1. A sentinel under a secret field name.
		doc := cloneJSON(t, base)
		var inserted any = map[string]any{key: fuzzSentinel}
		if embed {
			b, _ := json.Marshal(inserted)
			inserted = string(b) // a JSON object carried in a string
		}
		doc = insertAt(doc, int(where), inserted)
		in, err := json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		if out := RedactBody(in, "application/json", nil); strings.Contains(out, "SENTINEL") {
			t.Fatalf("the value under %q shows in %s", key, out)
		}

		// 2. A listed secret in a string value.
		var sb strings.Builder
		hasUpper := false
		for _, r := range secretSeed {
			c := []rune(secretAlphabet)[int(r)%utf8.RuneCountInString(secretAlphabet)]
			hasUpper = hasUpper || (c >= 'A' && c <= 'Z')
			sb.WriteRune(c)
		}
		secret := sb.String()
		if len(secret) < 4 || !hasUpper {
			return
		}
		esc, _ := json.Marshal(secret)
		escaped := string(esc[1 : len(esc)-1])
		if strings.Contains(string(plain), secret) || strings.Contains(string(plain), escaped) {
			return // the body holds it already, perhaps as a key
		}
		doc = insertAt(cloneJSON(t, base), int(where)/7, map[string]any{"note": "before " + secret + " after"})
		in, err = json.Marshal(doc)
		if err != nil {
			t.Fatal(err)
		}
		out := RedactBody(in, "application/json", []string{secret})
		if strings.Contains(out, secret) || strings.Contains(out, escaped) {
			t.Fatalf("listed secret %q shows in %s", secret, out)
		}
	})
}

func cloneJSON(t *testing.T, v any) any {
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	var out any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

// insertAt puts v into the n-th container (object or array, depth first) of
// doc: as the fields of an object, or as an element of an array. A document
// without containers is wrapped in one.
func insertAt(doc any, n int, v any) any {
	var containers []any
	var walk func(x any)
	walk = func(x any) {
		switch c := x.(type) {
		case map[string]any:
			containers = append(containers, c)
			keys := make([]string, 0, len(c))
			for k := range c {
				keys = append(keys, k)
			}
			sort.Strings(keys)
			for _, k := range keys {
				walk(c[k])
			}
		case []any:
			containers = append(containers, c)
			for _, e := range c {
				walk(e)
			}
		}
	}
	walk(doc)
	if len(containers) == 0 {
		return map[string]any{"data": doc, "more": []any{v}}
	}
	switch c := containers[n%len(containers)].(type) {
	case map[string]any:
		if m, ok := v.(map[string]any); ok {
			for k, e := range m {
				c[k] = e
			}
		} else {
			c["message"] = v
		}
	case []any:
		// Arrays cannot grow in place: replace the first element, or wrap.
		if len(c) > 0 {
			c[0] = v
		} else {
			return map[string]any{"data": doc, "more": []any{v}}
		}
	}
	return doc
}
