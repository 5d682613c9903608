// Package client is the HTTP core every service client shares: base URL
// checks, one http.Client per account with timeouts, capped bodies, typed
// errors, retries for GETs only, and a redacted debug trace.
package client

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptrace"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"time"

	"keyturn/version"
)

// MaxBodyBytes caps every response body keyturn reads, but for lists.
const MaxBodyBytes = 1 << 20

// MaxListBytes caps a list answer, decoded as it streams in: some servers
// do not paginate (Mattermost's GET /commands of a team with thousands of
// slash commands passes 1 MiB).
const MaxListBytes = 32 << 20

// MaxListItems caps the entries of a list answer: within MaxListBytes a
// server could send ten million empty objects, each decoded into a struct
// of some hundred bytes.
const MaxListItems = 100_000

// Defaults for the per-account HTTP client.
const (
	DefaultTimeout        = 30 * time.Second
	DefaultConnectTimeout = 10 * time.Second
	DefaultTLSTimeout     = 10 * time.Second
	DefaultGETRetries     = 2
	maxRetryWait          = 10 * time.Second
)

// UserAgent is sent on every request. Rocket.Chat remembers a passed second
// factor per User-Agent and address, so it must stay stable.
func UserAgent() string { return "keyturn/" + version.Version }

// Options configure one account's client.
type Options struct {
	Service           string // names the service in every error
	BaseURL           string
	AllowInsecureHTTP bool   // plain http to a non-loopback host
	CAFile            string // extra PEM bundle to trust besides the system roots
	Timeout           time.Duration
	GETRetries        int // retries of a GET on 429/503; 0 means the default, -1 none
	// Transport replaces the default transport (tests, or a pool shared by a
	// bulk run). CAFile and the connect timeouts are then the caller's.
	Transport http.RoundTripper
	Trace     *Tracer // nil: no trace
	// Sleep waits between GET retries; tests replace it. Defaults to a
	// context-aware timer.
	Sleep func(context.Context, time.Duration) error
}

// Client performs requests against one server.
type Client struct {
	service string
	base    *url.URL
	http    *http.Client
	trace   *Tracer
	retries int
	sleep   func(context.Context, time.Duration) error
	seq     atomic.Int64
}

// New checks the base URL and builds the account's http.Client.
func New(opts Options) (*Client, error) {
	if opts.Service == "" {
		opts.Service = "server"
	}
	base, err := ParseBaseURL(opts.BaseURL, opts.AllowInsecureHTTP)
	if err != nil {
		return nil, err
	}
	rt := opts.Transport
	if rt == nil {
		t, err := NewTransport(opts.CAFile)
		if err != nil {
			return nil, err
		}
		rt = t
	}
	timeout := opts.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	retries := opts.GETRetries
	switch {
	case retries == 0:
		retries = DefaultGETRetries
	case retries < 0:
		retries = 0
	}
	sleep := opts.Sleep
	if sleep == nil {
		sleep = sleepCtx
	}
	return &Client{
		service: opts.Service,
		base:    base,
		// No cookie jar on purpose: a Mattermost MMAUTHTOKEN cookie would
		// override the Bearer header.
		http: &http.Client{
			Transport: rt,
			Timeout:   timeout,
			CheckRedirect: func(req *http.Request, via []*http.Request) error {
				return http.ErrUseLastResponse
			},
		},
		trace:   opts.Trace,
		retries: retries,
		sleep:   sleep,
	}, nil
}

// NewTransport is the default transport: proxy from the environment,
// connect and TLS-handshake timeouts, keep-alive pooling, and an optional
// extra CA bundle.
func NewTransport(caFile string) (*http.Transport, error) {
	tlsConf := &tls.Config{MinVersion: tls.VersionTLS12}
	if caFile != "" {
		pem, err := os.ReadFile(caFile)
		if err != nil {
			return nil, fmt.Errorf("reading CA file: %w", err)
		}
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(pem) {
			return nil, fmt.Errorf("CA file %s holds no PEM certificate", caFile)
		}
		tlsConf.RootCAs = pool
	}
	dialer := &net.Dialer{Timeout: DefaultConnectTimeout, KeepAlive: 30 * time.Second}
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           dialer.DialContext,
		TLSClientConfig:       tlsConf,
		TLSHandshakeTimeout:   DefaultTLSTimeout,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          64,
		MaxIdleConnsPerHost:   16,
		IdleConnTimeout:       90 * time.Second,
		ExpectContinueTimeout: time.Second,
	}, nil
}

// Service is the name used in errors.
func (c *Client) Service() string { return c.service }

// BaseURL is the checked base URL.
func (c *Client) BaseURL() *url.URL { u := *c.base; return &u }

// Request is one API call. Body, when set, is sent as JSON.
type Request struct {
	Method string
	Path   string // below the base URL, e.g. "/api/v4/users/me"
	Query  url.Values
	Header http.Header
	Body   any
	// Secrets are values to hide from the trace besides the fields and
	// headers the tracer always hides (the password in a login, say).
	Secrets []string
	// List, when set, receives a 2xx answer decoded as it streams in, up to
	// MaxListBytes; that Response has no Body. Any other answer is read
	// whole, up to MaxBodyBytes, for the caller to interpret.
	List any
}

// Response is a server's answer, whatever its status.
type Response struct {
	Status     int
	StatusText string
	Header     http.Header
	Body       []byte
	// TLS is the connection's TLS state (nil over plain http).
	TLS *tls.ConnectionState
}

// Do sends the request and reads the answer (capped). A 429, or a 503 with
// Retry-After, on a GET is retried with backoff; other methods are never
// retried. A 429 that remains becomes a *RateLimitedError; every other
// status is returned for the service package to interpret.
func (c *Client) Do(ctx context.Context, req *Request) (*Response, error) {
	var body []byte
	if req.Body != nil {
		b, err := json.Marshal(req.Body)
		if err != nil {
			return nil, fmt.Errorf("%s: encoding request: %w", c.service, err)
		}
		body = b
	}
	attempts := 1
	if req.Method == http.MethodGet {
		attempts += c.retries
	}
	for attempt := 1; ; attempt++ {
		resp, err := c.once(ctx, req, body)
		if err != nil {
			return nil, err
		}
		if resp.Status != http.StatusTooManyRequests && resp.Status != http.StatusServiceUnavailable {
			return resp, nil
		}
		wait, told := RetryAfter(resp.Header, time.Now())
		if attempt < attempts && (resp.Status == http.StatusTooManyRequests || told) {
			if !told {
				wait = time.Duration(attempt) * 500 * time.Millisecond
			}
			if wait <= maxRetryWait {
				if err := c.sleep(ctx, wait); err != nil {
					return nil, c.transportErr(req, err, false)
				}
				continue
			}
		}
		if resp.Status == http.StatusTooManyRequests {
			return nil, &RateLimitedError{Service: c.service, Status: resp.Status, RetryAfter: wait, Message: plainMessage(resp)}
		}
		return resp, nil
	}
}

func (c *Client) once(ctx context.Context, req *Request, body []byte) (*Response, error) {
	u := *c.base
	u.Path = c.base.Path + req.Path
	if len(req.Query) > 0 {
		u.RawQuery = req.Query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	var wrote atomic.Bool
	ctx = httptrace.WithClientTrace(ctx, &httptrace.ClientTrace{
		WroteHeaders: func() { wrote.Store(true) },
	})
	hr, err := http.NewRequestWithContext(ctx, req.Method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("%s: building request: %w", c.service, err)
	}
	for k, vs := range req.Header {
		for _, v := range vs {
			hr.Header.Add(k, v)
		}
	}
	hr.Header.Set("User-Agent", UserAgent())
	hr.Header.Set("Accept", "application/json")
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	id := c.seq.Add(1)
	start := time.Now()
	c.trace.request(id, hr, body, req.Secrets)
	res, err := c.http.Do(hr)
	if err != nil {
		c.trace.failure(id, err, time.Since(start))
		return nil, c.transportErr(req, err, wrote.Load())
	}
	defer res.Body.Close()
	if req.List != nil && res.StatusCode >= 200 && res.StatusCode <= 299 {
		return c.streamList(id, start, req, res)
	}
	data, err := io.ReadAll(io.LimitReader(res.Body, MaxBodyBytes+1))
	if err != nil {
		c.trace.failure(id, err, time.Since(start))
		// The status line came back: the server has the request.
		return nil, c.transportErr(req, err, true)
	}
	out := &Response{Status: res.StatusCode, StatusText: http.StatusText(res.StatusCode), Header: res.Header, Body: data, TLS: res.TLS}
	c.trace.response(id, out, time.Since(start), req.Secrets)
	if len(data) > MaxBodyBytes {
		return nil, &BadResponseError{Service: c.service, Status: out.Status, StatusText: out.StatusText,
			ContentType: contentType(out.Header), Reason: "the body is larger than 1 MiB; keyturn reads no more"}
	}
	return out, nil
}

// streamList decodes a 2xx list answer into req.List as it arrives. The
// trace shows its status and headers, not the body (it is too big to be
// useful, and holds the tokens).
func (c *Client) streamList(id int64, start time.Time, req *Request, res *http.Response) (*Response, error) {
	out := &Response{Status: res.StatusCode, StatusText: http.StatusText(res.StatusCode), Header: res.Header}
	c.trace.response(id, out, time.Since(start), req.Secrets)
	body := &readErrs{r: res.Body}
	err := DecodeList(c.service, out, body, req.List)
	if body.err != nil {
		c.trace.failure(id, body.err, time.Since(start))
		// The status line came back: the server has the request.
		return nil, c.transportErr(req, body.err, true)
	}
	if err != nil {
		return nil, err
	}
	return out, nil
}

// readErrs remembers the first error of a read other than io.EOF, so that
// a dropped connection is told apart from bad JSON.
type readErrs struct {
	r   io.Reader
	err error
}

func (r *readErrs) Read(p []byte) (int, error) {
	n, err := r.r.Read(p)
	if err != nil && err != io.EOF && r.err == nil {
		r.err = err
	}
	return n, err
}

func (c *Client) transportErr(req *Request, err error, wrote bool) error {
	te := &TransportError{Service: c.service, Method: req.Method, Path: req.Path, MayHaveReached: wrote, Err: cleanNetError(err)}
	var ne net.Error
	switch {
	case errors.Is(err, context.Canceled):
		te.Canceled = true
	case errors.Is(err, context.DeadlineExceeded), errors.As(err, &ne) && ne.Timeout():
		te.Timeout = true
	}
	return te
}

// cleanNetError drops the *url.Error wrapper, whose text repeats the full
// URL; the TransportError names the method and path itself.
func cleanNetError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return ctx.Err()
	case <-t.C:
		return nil
	}
}

func contentType(h http.Header) string {
	ct := h.Get("Content-Type")
	if i := strings.IndexByte(ct, ';'); i >= 0 {
		ct = ct[:i]
	}
	return strings.TrimSpace(ct)
}

// plainMessage is a short, single-line excerpt of a non-JSON body (such as
// Mattermost's "limit exceeded"), or the "error"/"message" of a JSON one.
func plainMessage(r *Response) string {
	var m struct {
		Error   any    `json:"error"`
		Message string `json:"message"`
	}
	if json.Unmarshal(r.Body, &m) == nil {
		if s, ok := m.Error.(string); ok && s != "" {
			return s
		}
		return m.Message
	}
	if strings.Contains(contentType(r.Header), "html") {
		return ""
	}
	s := strings.TrimSpace(string(r.Body))
	if i := strings.IndexAny(s, "\r\n"); i >= 0 {
		s = s[:i]
	}
	if len(s) > 160 {
		s = s[:160] + "…"
	}
	return s
}
