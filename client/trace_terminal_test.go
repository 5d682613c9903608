package client

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"testing"

	"keyturn/textsafe"
)

// TestTraceIsTerminalSafe: the trace goes to stderr, a terminal, and
// shows the server's JSON; encoding/json leaves DEL, C1 controls (an
// 8-bit CSI) and bidi overrides as they are, so the trace cleans them.
func TestTraceIsTerminalSafe(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("X-Note", "a\u009b6n\u202eb")
		io.WriteString(w, "{\"message\":\"x\x7f\u009b6n\u202ey\u2066z\"}")
	})
	var buf bytes.Buffer
	c := newClient(t, srv.URL, func(o *Options) { o.Trace = NewTracer(&buf) })
	if _, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/hostile"}); err != nil {
		t.Fatal(err)
	}
	out := buf.String()
	if !bytes.Contains(buf.Bytes(), []byte("message")) {
		t.Fatalf("the body is not in the trace: %q", out)
	}
	if textsafe.Text(out) != out {
		t.Fatalf("the trace holds what a terminal acts on: %q", out)
	}
}
