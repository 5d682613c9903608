package clienttest

import (
	"context"
	"errors"
	"fmt"
	"runtime/debug"
	"testing"
	"time"

	"keyturn/client"
)

// FuzzClient is the client core a fuzz target drives: rt answers every
// request, and retries never sleep (a negative wait fails the test).
func FuzzClient(t *testing.T, service, baseURL string, rt *Transport) *client.Client {
	t.Helper()
	hc, err := client.New(client.Options{
		Service: service, BaseURL: baseURL, Transport: rt, Timeout: 5 * time.Second,
		Sleep: func(ctx context.Context, d time.Duration) error {
			if d < 0 {
				t.Errorf("the core waits a negative %v", d)
			}
			return ctx.Err()
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	return hc
}

// Inconsistent is a success whose result does not hang together.
type Inconsistent string

func (e Inconsistent) Error() string { return string(e) }

// Want is nil when ok holds, else Inconsistent(what).
func Want(ok bool, what string) error {
	if !ok {
		return Inconsistent(what)
	}
	return nil
}

// Call is one client call a fuzz target makes; a nil error means it
// succeeded and its result checked out (see Want).
type Call struct {
	Name string
	Run  func(context.Context) error
}

// RunCalls makes each call against rt's answer and holds it to what every
// call promises: it returns within 10 s without panicking, sends a request
// other than GET at most once, and succeeds only on a 2xx without a fault,
// with a result that hangs together. Then the service's own checks: ok
// (may be nil) for a success, failed for an error.
func RunCalls(t *testing.T, rt *Transport, calls []Call, ok func(name string), failed func(name string, err error)) {
	t.Helper()
	for _, c := range calls {
		rt.Reset()
		stack, returned, err := runGuarded(c.Run)
		if n := rt.Sent(); n > 1 {
			t.Fatalf("%s sent its request %d times (HTTP %d, fault %d): only GETs may be retried", c.Name, n, rt.Status, rt.Fault)
		}
		switch {
		case !returned:
			t.Fatalf("%s did not return within 10s (HTTP %d, fault %d)", c.Name, rt.Status, rt.Fault)
		case stack != "":
			t.Fatalf("%s panicked: %s", c.Name, stack)
		case errors.As(err, new(Inconsistent)):
			t.Fatalf("%s succeeded with an inconsistent result: %v", c.Name, err)
		case err == nil:
			if rt.Fault != FaultNone || rt.Status < 200 || rt.Status > 299 {
				t.Fatalf("%s succeeded on HTTP %d with fault %d", c.Name, rt.Status, rt.Fault)
			}
			if ok != nil {
				ok(c.Name)
			}
		default:
			failed(c.Name, err)
		}
	}
}

// runGuarded runs one call with a deadline and catches a panic.
func runGuarded(run func(context.Context) error) (stack string, returned bool, err error) {
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer func() {
			if r := recover(); r != nil {
				stack = fmt.Sprintf("%v\n%s", r, debug.Stack())
			}
		}()
		err = run(context.Background())
	}()
	select {
	case <-done:
		return stack, true, err
	case <-time.After(10 * time.Second):
		return "", false, nil
	}
}
