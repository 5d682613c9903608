package client

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net/http"
	"reflect"
	"strings"
	"testing"
)

// items is a JSON list of n objects holding a token each.
func items(n int) string { return itemsPadded(n, 400) }

// itemsPadded is items with pad bytes of padding in each.
func itemsPadded(n, pad int) string {
	var b strings.Builder
	b.WriteString("[")
	for i := 0; i < n; i++ {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, `{"id":"item%08d","token":"list-token-%08d","pad":"%s"}`, i, i, strings.Repeat("p", pad))
	}
	b.WriteString("]")
	return b.String()
}

type item struct{ ID, Token string }

func TestListAnswers(t *testing.T) {
	big := items(5000) // about 2.2 MiB
	exact := big + strings.Repeat(" ", MaxListBytes-len(big))
	tests := []struct {
		name   string
		ctype  string
		status int
		body   string
		n      int    // items wanted, when no error
		reason string // the *BadResponseError's reason, when one
	}{
		{name: "over the small cap", body: big, n: 5000},
		{name: "exactly the list cap", body: exact, n: 5000},
		{name: "one byte over the list cap", body: exact + " ", reason: "larger than 32 MiB"},
		{name: "a list far over the list cap", body: items(90000), reason: "larger than 32 MiB"},
		{name: "leading blanks past the first look", body: strings.Repeat("\n", 3000) + items(2), n: 2},
		{name: "empty list", body: "[]", n: 0},
		{name: "html page", ctype: "text/html", body: "<html><title>Bad Gateway</title></html>", reason: `an HTML page ("Bad Gateway")`},
		{name: "json type but html", body: "<html>oops</html>", reason: "an HTML page"},
		{name: "empty", body: "", reason: "the body is empty"},
		{name: "plain text", ctype: "text/plain", body: "upstream timed out", reason: `plain text, not JSON: "upstream timed out"`},
		{name: "truncated", body: big[:len(big)/2], reason: "truncated"},
		{name: "trailing value", body: items(2) + ` {"x":1}`, reason: "more follows"},
		{name: "trailing blanks", body: items(2) + " \n\t ", n: 2},
		{name: "wrong type", body: `[{"id":7}]`, reason: `field "ID" holds a number`},
		{name: "malformed", body: `[{"id":"a"},,]`, reason: "malformed"},
		{name: "as many entries as allowed", body: itemsPadded(MaxListItems, 0), n: MaxListItems},
		{name: "more entries than allowed", body: itemsPadded(MaxListItems+1, 0), reason: "the list has more than 100,000 entries"},
		{name: "more empty entries than allowed", body: "[" + strings.Repeat("{},", MaxListItems) + "{}]", reason: "the list has more than 100,000 entries"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := server(t, func(w http.ResponseWriter, r *http.Request) {
				ct := tt.ctype
				if ct == "" {
					ct = "application/json"
				}
				w.Header().Set("Content-Type", ct)
				_, _ = w.Write([]byte(tt.body))
			})
			var trace strings.Builder
			c := newClient(t, srv.URL, func(o *Options) { o.Trace = NewTracer(&syncWriter{w: &trace}) })
			var got []item
			resp, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/list", List: &got})
			if strings.Contains(trace.String(), "list-token-") {
				t.Error("the trace holds a token of the list")
			}
			if tt.reason == "" {
				if err != nil {
					t.Fatalf("Do: %v", err)
				}
				if resp.Status != 200 || resp.Body != nil || len(got) != tt.n {
					t.Fatalf("status %d, body %d bytes, %d items; want 200, none, %d", resp.Status, len(resp.Body), len(got), tt.n)
				}
				if tt.n > 0 && (got[tt.n-1].ID != fmt.Sprintf("item%08d", tt.n-1) || got[0].Token != "list-token-00000000") {
					t.Errorf("items decoded wrong: first %+v", got[0])
				}
				return
			}
			var be *BadResponseError
			if !errors.As(err, &be) {
				t.Fatalf("err = %v (%T), want *BadResponseError", scrub(err), err)
			}
			if resp != nil || be.Service != "testsvc" || be.Status != 200 {
				t.Errorf("resp %v, err %+v", resp, be)
			}
			if !strings.Contains(be.Reason, tt.reason) {
				t.Errorf("reason %q does not mention %q", be.Reason, tt.reason)
			}
		})
	}
}

// An error status is read whole, with the small cap, for the service to
// interpret; the list is left alone.
func TestListErrorStatusIsReadWhole(t *testing.T) {
	const answer = `{"id":"api.context.permissions.app_error","message":"no"}`
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusForbidden)
		_, _ = w.Write([]byte(answer))
	})
	c := newClient(t, srv.URL, nil)
	var got []item
	resp, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/list", List: &got})
	if err != nil || resp.Status != 403 || string(resp.Body) != answer || got != nil {
		t.Fatalf("Do = %+v, %v; list %v", resp, err, got)
	}

	huge := server(t, func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusInternalServerError)
		_, _ = w.Write(bytes.Repeat([]byte(" "), MaxBodyBytes+1))
	})
	_, err = newClient(t, huge.URL, func(o *Options) { o.GETRetries = -1 }).Do(context.Background(), &Request{Method: "GET", Path: "/list", List: &got})
	if err == nil || !strings.Contains(err.Error(), "larger than 1 MiB") {
		t.Fatalf("a 500 over 1 MiB: %v", err)
	}
}

// A connection that drops in the middle of a list is a transport error
// after the request reached the server, not a JSON error.
func TestListConnectionDropped(t *testing.T) {
	srv := server(t, func(w http.ResponseWriter, r *http.Request) {
		conn, _, err := w.(http.Hijacker).Hijack()
		if err != nil {
			return
		}
		fmt.Fprintf(conn, "HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n%s", items(3)[:500])
		conn.Close()
	})
	c := newClient(t, srv.URL, nil)
	var got []item
	_, err := c.Do(context.Background(), &Request{Method: "GET", Path: "/list", List: &got})
	var te *TransportError
	if !errors.As(err, &te) || !te.MayHaveReached {
		t.Fatalf("err = %v (%T), want a *TransportError that reached the server", err, err)
	}
}

// readSizes records the largest read asked of it: a json.Decoder asks for
// as much as its buffer has room for, and the buffer holds the text of
// the value being read.
type readSizes struct {
	r   *strings.Reader
	max int
}

func (s *readSizes) Read(p []byte) (int, error) {
	s.max = max(s.max, len(p))
	return s.r.Read(p)
}

// A list is decoded an element at a time: the text held at once is about
// one element's, not the whole answer's (a 10,000-command listing is
// megabytes), and the value is what decoding it whole gives.
func TestDecodeListHoldsOneElementAtATime(t *testing.T) {
	body := items(10000) // about 4.4 MiB, elements of about 450 bytes
	src := &readSizes{r: strings.NewReader(body)}
	var got []item
	r := &Response{Status: 200, Header: http.Header{"Content-Type": {"application/json"}}}
	if err := DecodeList("svc", r, src, &got); err != nil {
		t.Fatal(err)
	}
	var want []item
	if err := Decode("svc", &Response{Status: 200, Header: r.Header, Body: []byte(body)}, &want); err != nil {
		t.Fatal(err)
	}
	if len(got) != 10000 || !reflect.DeepEqual(got, want) {
		t.Fatalf("decoded %d items, not what Decode gives", len(got))
	}
	if src.max > 64<<10 {
		t.Fatalf("the decoder read %d KiB at once: it holds the whole list's text (%d KiB), not one element's", src.max>>10, len(body)>>10)
	}
}
