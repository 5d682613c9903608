package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// Sentinel secrets: none of them may ever appear in a trace or an error.
const (
	sentinelPassword = "SENTINEL-PASSWORD-1234"
	sentinelCode     = "SENTINEL-CODE-5678"
	sentinelToken    = "SENTINEL-TOKEN-9012"
	sentinelBearer   = "SENTINEL-BEARER-3456"
	sentinelCookie   = "SENTINEL-COOKIE-7890"
	sentinelSecret   = "SENTINEL-SECRET-2468"
)

// assertNoSentinel fails when s holds any sentinel; it never prints s, in
// case it does.
func assertNoSentinel(t *testing.T, what, s string) {
	t.Helper()
	if strings.Contains(s, "SENTINEL") {
		t.Errorf("%s contains a sentinel secret", what)
	}
}

// newClient builds a client for srvURL with the test's options.
func newClient(t *testing.T, srvURL string, mod func(*Options)) *Client {
	t.Helper()
	opts := Options{Service: "testsvc", BaseURL: srvURL}
	if mod != nil {
		mod(&opts)
	}
	c, err := New(opts)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(c.http.CloseIdleConnections)
	return c
}

// sleepRecorder replaces Options.Sleep: it records each wait and returns at
// once.
type sleepRecorder struct {
	mu    sync.Mutex
	waits []time.Duration
}

func (s *sleepRecorder) sleep(ctx context.Context, d time.Duration) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.waits = append(s.waits, d)
	return ctx.Err()
}

func (s *sleepRecorder) got() []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]time.Duration(nil), s.waits...)
}

// counter counts the requests a handler saw.
type counter struct {
	mu sync.Mutex
	n  int
}

func (c *counter) inc() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.n++
	return c.n
}

func (c *counter) get() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.n
}

// server starts an httptest server that is closed when the test ends.
func server(t *testing.T, h http.HandlerFunc) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(h)
	t.Cleanup(srv.Close)
	return srv
}

// syncWriter lets a test read what a tracer wrote from several goroutines.
type syncWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (s *syncWriter) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.w.Write(p)
}

var sentinelRE = regexp.MustCompile(`SENTINEL[^\s"\\,}\]]*`)

// scrub hides sentinel values in text a failing test prints, so that no
// test output ever shows a secret, even a fake one.
func scrub(v any) string { return sentinelRE.ReplaceAllString(fmt.Sprint(v), "<sentinel>") }
