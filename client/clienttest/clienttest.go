// Package clienttest has test doubles for the service clients' tests: a
// transport that answers every request with one canned (or fuzzed)
// response and counts what was sent.
package clienttest

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync/atomic"
)

// Faults a Transport can play instead of answering.
const (
	FaultNone      uint8 = iota
	FaultNoAnswer        // the connection drops before an answer
	FaultBrokenOff       // the body breaks off halfway
	FaultTimeout         // the request times out
	Faults               // how many there are, for fuzz inputs: fault % Faults
)

// Transport answers every request with the same response.
type Transport struct {
	Status int
	Header http.Header
	Body   []byte
	Fault  uint8

	sent atomic.Int64 // requests other than GET
}

// Sent counts the requests other than GET: a client must never repeat one.
func (rt *Transport) Sent() int64 { return rt.sent.Load() }

// RoundTrip plays the canned answer or fault.
func (rt *Transport) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.Method != http.MethodGet {
		rt.sent.Add(1)
	}
	if req.Body != nil {
		_, _ = io.Copy(io.Discard, req.Body)
		_ = req.Body.Close()
	}
	var body io.Reader = bytes.NewReader(rt.Body)
	switch rt.Fault {
	case FaultNoAnswer:
		return nil, errors.New("connection reset by peer")
	case FaultBrokenOff:
		body = &brokenBody{bytes.NewReader(rt.Body[:len(rt.Body)/2])}
	case FaultTimeout:
		return nil, timeoutError{}
	}
	return &http.Response{
		Status: fmt.Sprintf("%d %s", rt.Status, http.StatusText(rt.Status)), StatusCode: rt.Status,
		Proto: "HTTP/1.1", ProtoMajor: 1, ProtoMinor: 1,
		Header: rt.Header.Clone(), Body: io.NopCloser(body), ContentLength: -1, Request: req,
	}, nil
}

type brokenBody struct{ r io.Reader }

func (b *brokenBody) Read(p []byte) (int, error) {
	n, err := b.r.Read(p)
	if err == io.EOF {
		return n, io.ErrUnexpectedEOF
	}
	return n, err
}

type timeoutError struct{}

func (timeoutError) Error() string   { return "i/o timeout" }
func (timeoutError) Timeout() bool   { return true }
func (timeoutError) Temporary() bool { return true }

// Headers reads "Name: value" lines.
func Headers(s string) http.Header {
	h := http.Header{}
	for _, line := range strings.Split(s, "\n") {
		k, v, ok := strings.Cut(line, ":")
		k = strings.TrimSpace(k)
		if ok && k != "" {
			h.Add(k, strings.TrimSpace(v))
		}
	}
	return h
}

// Status maps any number onto the statuses a server can send (200-599;
// net/http's transport never hands a client a 1xx).
func Status(n uint16) int {
	if n >= 200 && n <= 599 {
		return int(n)
	}
	return 200 + int(n)%400
}

// Reset zeroes the count of sent requests.
func (rt *Transport) Reset() { rt.sent.Store(0) }
