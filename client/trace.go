package client

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"time"

	"keyturn/textsafe"
)

// Redacted replaces every secret the trace would otherwise show.
const Redacted = "[redacted]"

// Tracer writes a debug trace of each request and answer: method, path,
// status, timing, headers and JSON bodies, with every secret redacted.
// A nil *Tracer traces nothing.
type Tracer struct {
	mu sync.Mutex
	w  io.Writer
}

// NewTracer traces to w.
func NewTracer(w io.Writer) *Tracer { return &Tracer{w: w} }

// TraceFromEnv returns a tracer when KEYTURN_DEBUG is set: "1" or "true"
// traces to stderr, any other value is a file path to append to. The
// returned close function releases the file.
func TraceFromEnv() (*Tracer, func() error, error) {
	return TraceTo(os.Getenv("KEYTURN_DEBUG"), os.Stderr)
}

// TraceTo is TraceFromEnv for an explicit setting: "" is off, "1"/"true"/
// "stderr" is stderr, anything else a file path.
func TraceTo(setting string, stderr io.Writer) (*Tracer, func() error, error) {
	nop := func() error { return nil }
	switch strings.ToLower(strings.TrimSpace(setting)) {
	case "", "0", "false", "off":
		return nil, nop, nil
	case "1", "true", "on", "stderr":
		return NewTracer(stderr), nop, nil
	}
	f, err := os.OpenFile(setting, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return nil, nop, fmt.Errorf("opening debug log: %w", err)
	}
	return NewTracer(f), f.Close, nil
}

// secretHeaders are never shown.
var secretHeaders = map[string]bool{
	"authorization": true, "cookie": true, "set-cookie": true, "token": true,
	"x-auth-token": true, "x-2fa-code": true, "cap_authorization": true,
	"x-csrf-token": true, "proxy-authorization": true,
}

// secretFields are JSON keys whose values are never shown, whatever their
// nesting: passwords, codes, tokens, keys, TOTP secrets and QR codes.
var secretFields = map[string]bool{
	"password": true, "confirmpassword": true, "newpassword": true, "token": true,
	"code": true, "codes": true, "secret": true, "qr_code": true, "key": true,
	"authtoken": true, "authorizedtoken": true, "expiredtoken": true, "otp": true,
	"hash": true, "resume": true, "digest": true, "url": true, "otpauth_url": true,
	"x-auth-token": true, "access_token": true, "twofactorcode": true,
}

// IsSecretField reports whether a JSON field name holds a secret.
func IsSecretField(name string) bool { return secretFields[strings.ToLower(name)] }

// printf writes one entry, cleaned: the trace shows the server's headers
// and JSON, which encoding/json leaves holding DEL, C1 controls and bidi
// overrides, and it goes to a terminal.
func (t *Tracer) printf(format string, args ...any) {
	s := textsafe.Text(fmt.Sprintf(format, args...))
	t.mu.Lock()
	defer t.mu.Unlock()
	_, _ = io.WriteString(t.w, s)
}

func (t *Tracer) request(id int64, r *http.Request, body []byte, secrets []string) {
	if t == nil {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "keyturn[%d] → %s %s\n", id, r.Method, maskSecrets(r.URL.Path, secrets))
	writeHeaders(&b, r.Header, secrets)
	writeBody(&b, body, r.Header.Get("Content-Type"), secrets)
	t.printf("%s", b.String())
}

func (t *Tracer) response(id int64, r *Response, d time.Duration, secrets []string) {
	if t == nil {
		return
	}
	var b strings.Builder
	fmt.Fprintf(&b, "keyturn[%d] ← %d %s (%s)\n", id, r.Status, r.StatusText, d.Round(time.Millisecond))
	writeHeaders(&b, r.Header, secrets)
	writeBody(&b, r.Body, r.Header.Get("Content-Type"), secrets)
	t.printf("%s", b.String())
}

func (t *Tracer) failure(id int64, err error, d time.Duration) {
	if t == nil {
		return
	}
	t.printf("keyturn[%d] ✗ %v (%s)\n", id, cleanNetError(err), d.Round(time.Millisecond))
}

func writeHeaders(b *strings.Builder, h http.Header, secrets []string) {
	keys := make([]string, 0, len(h))
	for k := range h {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	for _, k := range keys {
		v := strings.Join(h[k], ", ")
		if secretHeaders[strings.ToLower(k)] {
			v = Redacted
		}
		v = maskSecrets(v, secrets)
		fmt.Fprintf(b, "    %s: %s\n", k, v)
	}
}

func writeBody(b *strings.Builder, body []byte, ct string, secrets []string) {
	if len(body) == 0 {
		return
	}
	fmt.Fprintf(b, "    body: %s\n", RedactBody(body, ct, secrets))
}

// RedactBody renders a body for a log: JSON with secret fields replaced,
// and any listed secret value masked; anything else only by size and type.
func RedactBody(body []byte, ct string, secrets []string) string {
	var v any
	if err := json.Unmarshal(body, &v); err != nil {
		if ct == "" {
			ct = "unknown type"
		}
		return fmt.Sprintf("(%d bytes of %s, not shown)", len(body), ct)
	}
	// Secrets are masked in the decoded strings too: once marshalled, a
	// secret holding a quote, backslash or <>& is escaped and no longer
	// matches.
	out, err := json.Marshal(redactValue(v, secrets))
	if err != nil {
		return "(unprintable)"
	}
	return maskSecrets(string(out), secrets)
}

// maskSecrets replaces each listed secret (of 4 characters or more) in s.
func maskSecrets(s string, secrets []string) string {
	for _, sec := range secrets {
		if len(sec) >= 4 {
			s = strings.ReplaceAll(s, sec, Redacted)
		}
	}
	return s
}

func redactValue(v any, secrets []string) any {
	switch x := v.(type) {
	case map[string]any:
		for k, val := range x {
			if IsSecretField(k) && val != nil {
				x[k] = Redacted
				continue
			}
			x[k] = redactValue(val, secrets)
		}
		return x
	case []any:
		for i := range x {
			x[i] = redactValue(x[i], secrets)
		}
		return x
	case string:
		// A string that is itself JSON (Rocket.Chat's method.call "message")
		// is redacted inside.
		if strings.HasPrefix(x, "{") {
			var inner any
			if json.Unmarshal([]byte(x), &inner) == nil {
				b, _ := json.Marshal(redactValue(inner, secrets))
				return string(b)
			}
		}
		return maskSecrets(x, secrets)
	}
	return v
}
