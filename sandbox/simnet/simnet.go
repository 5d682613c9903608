// Package simnet is what the simulated servers share: a ledger of every
// token they issue, injected latency and faults, a clock, random ids and
// TOTP codes. It knows nothing of keyturn's clients.
package simnet

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base32"
	"encoding/base64"
	"fmt"
	"math/big"
	"net"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/pquerna/otp"
	"github.com/pquerna/otp/totp"
)

// Env is what every simulated server is built with.
type Env struct {
	Ledger *Ledger
	Faults *Faults
	Clock  *Clock
	// Hostile is set before the servers are built: they seed objects
	// whose names carry HostileText (see Taint for their answers).
	Hostile bool
}

// NewEnv is a fresh ledger, no faults and the real clock.
func NewEnv() *Env { return &Env{Ledger: &Ledger{}, Faults: &Faults{}, Clock: &Clock{}} }

// Clock is the servers' time; tests move it forward to expire sessions.
type Clock struct {
	mu     sync.Mutex
	offset time.Duration
}

// Now is the real time plus any advance.
func (c *Clock) Now() time.Time {
	if c == nil {
		return time.Now()
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	c.offset += d
	c.mu.Unlock()
}

// DateFrom sets each answer's Date header from the clock, as a server
// whose clock is that far off would (keyturn doctor compares it).
func DateFrom(c *Clock, h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Date", c.Now().UTC().Format(http.TimeFormat))
		h.ServeHTTP(w, r)
	})
}

// Issued is one token a server handed out.
type Issued struct {
	Service string    `json:"service"`
	Kind    string    `json:"kind"` // "session", "command", "webhook", "user-token", "pat", "capillary-token", "capillary-key", …
	ID      string    `json:"id"`   // server-side id or name
	Token   string    `json:"token"`
	Time    time.Time `json:"time"`
}

// Ledger records every token the servers issue, so tests can prove none
// was lost.
type Ledger struct {
	mu      sync.Mutex
	entries []Issued
}

// Record notes an issued token.
func (l *Ledger) Record(service, kind, id, token string) {
	l.mu.Lock()
	l.entries = append(l.entries, Issued{Service: service, Kind: kind, ID: id, Token: token, Time: time.Now()})
	l.mu.Unlock()
}

// Entries is a copy of the ledger.
func (l *Ledger) Entries() []Issued {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]Issued(nil), l.entries...)
}

// Fault is a way for a request to go wrong.
type Fault string

// The faults a rule can inject. All but RateLimit apply the change first,
// so the server state moves on while the client sees a failure.
const (
	DropAfterApply  Fault = "drop"      // close the connection with no answer
	ErrorAfterApply Fault = "500"       // answer 500 with a JSON error body
	HTMLBody        Fault = "html"      // answer a proxy's HTML page
	TruncatedJSON   Fault = "truncated" // cut the real answer in half
	Slow            Fault = "slow"      // hold the real answer for Rule.Delay
	RateLimit       Fault = "429"       // refuse with 429 and Retry-After, not applied
)

// Rule injects a fault into matching requests.
type Rule struct {
	Method string // "" matches any
	Path   string // substring of the URL path; "" matches any
	Fault  Fault
	Times  int           // how many requests it hits; 0 means every one
	Delay  time.Duration // for Slow
	// RetryAfter is sent with RateLimit, in seconds (default 1).
	RetryAfter int
}

// Faults holds the injected latency and fault rules.
type Faults struct {
	mu      sync.Mutex
	rules   []*Rule
	latency time.Duration
	hits    map[Fault]int
}

// Add installs a rule.
func (f *Faults) Add(r Rule) {
	f.mu.Lock()
	f.rules = append(f.rules, &r)
	f.mu.Unlock()
}

// Clear removes every rule.
func (f *Faults) Clear() {
	f.mu.Lock()
	f.rules = nil
	f.mu.Unlock()
}

// SetLatency delays every request by d.
func (f *Faults) SetLatency(d time.Duration) {
	f.mu.Lock()
	f.latency = d
	f.mu.Unlock()
}

// Hits counts how often each fault fired.
func (f *Faults) Hits() map[Fault]int {
	f.mu.Lock()
	defer f.mu.Unlock()
	out := map[Fault]int{}
	for k, v := range f.hits {
		out[k] = v
	}
	return out
}

func (f *Faults) match(r *http.Request) (*Rule, time.Duration) {
	f.mu.Lock()
	defer f.mu.Unlock()
	for i, rule := range f.rules {
		if rule.Method != "" && !strings.EqualFold(rule.Method, r.Method) {
			continue
		}
		if rule.Path != "" && !strings.Contains(r.URL.Path, rule.Path) {
			continue
		}
		if rule.Times > 0 {
			rule.Times--
			if rule.Times == 0 {
				f.rules = append(f.rules[:i:i], f.rules[i+1:]...)
			}
		}
		if f.hits == nil {
			f.hits = map[Fault]int{}
		}
		f.hits[rule.Fault]++
		cp := *rule
		return &cp, f.latency
	}
	return nil, f.latency
}

// Wrap applies latency and fault rules around a server's handler.
func (f *Faults) Wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rule, latency := f.match(r)
		if latency > 0 && !sleep(r.Context(), latency) {
			return
		}
		if rule == nil {
			h.ServeHTTP(w, r)
			return
		}
		if rule.Fault == RateLimit {
			ra := rule.RetryAfter
			if ra <= 0 {
				ra = 1
			}
			w.Header().Set("Retry-After", fmt.Sprint(ra))
			w.Header().Set("Content-Type", "text/plain; charset=utf-8")
			w.WriteHeader(http.StatusTooManyRequests)
			fmt.Fprintln(w, "limit exceeded")
			return
		}
		// Apply the change for real, then spoil the answer.
		rec := newRecorder()
		h.ServeHTTP(rec, r)
		switch rule.Fault {
		case DropAfterApply:
			hijackClose(w)
		case ErrorAfterApply:
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, `{"error":"internal server error","message":"injected fault"}`)
		case HTMLBody:
			w.Header().Set("Content-Type", "text/html; charset=utf-8")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html><head><title>502 Bad Gateway</title></head><body><center><h1>502 Bad Gateway</h1></center><hr><center>nginx</center></body></html>")
		case TruncatedJSON:
			copyHeader(w, rec)
			body := rec.Body.Bytes()
			w.Header().Del("Content-Length")
			w.WriteHeader(rec.Code)
			_, _ = w.Write(body[:len(body)/2])
		case Slow:
			if !sleep(r.Context(), rule.Delay) {
				return
			}
			copyHeader(w, rec)
			w.WriteHeader(rec.Code)
			_, _ = w.Write(rec.Body.Bytes())
		}
	})
}

func copyHeader(w http.ResponseWriter, rec *recorder) {
	for k, v := range rec.Header() {
		w.Header()[k] = v
	}
}

// recorder keeps a handler's answer so a fault can spoil it. (Not
// httptest's: that package would be linked into keyturn itself.)
type recorder struct {
	header http.Header
	Code   int
	Body   bytes.Buffer
}

func newRecorder() *recorder { return &recorder{header: http.Header{}, Code: http.StatusOK} }

func (r *recorder) Header() http.Header         { return r.header }
func (r *recorder) Write(b []byte) (int, error) { return r.Body.Write(b) }
func (r *recorder) WriteHeader(code int)        { r.Code = code }

func hijackClose(w http.ResponseWriter) {
	hj, ok := w.(http.Hijacker)
	if !ok {
		panic(http.ErrAbortHandler)
	}
	conn, buf, err := hj.Hijack()
	if err != nil {
		panic(http.ErrAbortHandler)
	}
	_ = buf.Flush()
	if tc, ok := conn.(*net.TCPConn); ok {
		_ = tc.SetLinger(0)
	}
	_ = conn.Close()
}

func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// RandomString is n characters from alphabet, crypto-random.
func RandomString(n int, alphabet string) string {
	var b strings.Builder
	max := big.NewInt(int64(len(alphabet)))
	for i := 0; i < n; i++ {
		k, err := rand.Int(rand.Reader, max)
		if err != nil {
			panic(err)
		}
		b.WriteByte(alphabet[k.Int64()])
	}
	return b.String()
}

// Alphabets the servers draw ids and tokens from.
const (
	MattermostIDChars = "abcdefghijkmnopqrstuwxyz13456789" // 26-char ids in Mattermost's base32
	RocketIDChars     = "23456789ABCDEFGHJKLMNPQRSTWXYZabcdefghijkmnopqrstuvwxyz"
	Digits            = "0123456789"
)

// MattermostID is a 26-character id like Mattermost's.
func MattermostID() string { return RandomString(26, MattermostIDChars) }

// RocketID is a 17-character id like Meteor's.
func RocketID() string { return RandomString(17, RocketIDChars) }

// RocketToken is a 43-character base64url secret like Random.secret().
func RocketToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b)
	return base64.RawURLEncoding.EncodeToString(b)
}

// TOTPSecret is a new base32 secret without padding (32 characters).
func TOTPSecret() string {
	b := make([]byte, 20)
	_, _ = rand.Read(b)
	return base32.StdEncoding.WithPadding(base32.NoPadding).EncodeToString(b)
}

// TOTPCode is the RFC 6238 code (SHA1, 6 digits, 30 s) of secret at t.
func TOTPCode(secret string, t time.Time) string {
	code, err := totp.GenerateCodeCustom(secret, t, totp.ValidateOpts{Period: 30, Digits: otp.DigitsSix, Algorithm: otp.AlgorithmSHA1})
	if err != nil {
		return ""
	}
	return code
}

// TOTPStep is the 30-second step number of t, for refusing a reused code.
func TOTPStep(t time.Time) int64 { return t.Unix() / 30 }

// TOTPMatch reports whether code is valid for secret within ±window steps of
// now, and at which step, so the caller can refuse reuse.
func TOTPMatch(secret, code string, now time.Time, window int) (step int64, ok bool) {
	for d := -window; d <= window; d++ {
		t := now.Add(time.Duration(d) * 30 * time.Second)
		if c := TOTPCode(secret, t); c != "" && c == code {
			return TOTPStep(t), true
		}
	}
	return 0, false
}

// Code is a code a person would need right now in the demo: a TOTP code
// for a seeded secret, or the last code a server "sent" by email or SMS.
type Code struct {
	Label string `json:"label"`
	Code  string `json:"code"`
}
