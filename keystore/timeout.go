package keystore

import (
	"context"
	"fmt"
	"time"
)

type timeoutBackend struct {
	b Backend
	d time.Duration
}

// WithTimeout bounds every call on b to d (and to the caller's context): a
// call still running then is abandoned in its goroutine, and the caller gets
// a *StoreError wrapping ErrUnavailable and context.DeadlineExceeded. b also
// gets a context that ends at d, for backends that honour it. The keyring
// backend has this built in; this is for other backends and for tests.
func WithTimeout(b Backend, d time.Duration) Backend {
	if d <= 0 {
		return b
	}
	return &timeoutBackend{b: b, d: d}
}

func (t *timeoutBackend) Name() string { return t.b.Name() }

func (t *timeoutBackend) run(ctx context.Context, op, name string, fn func(context.Context) (string, error)) (string, error) {
	ctx2, cancel := context.WithTimeout(ctx, t.d)
	done := make(chan result, 1)
	go func() {
		defer cancel()
		v, err := fn(ctx2)
		done <- result{v, err}
	}()
	timer := time.NewTimer(t.d)
	defer timer.Stop()
	select {
	case r := <-done:
		return r.v, r.err
	case <-timer.C:
		cause := fmt.Sprintf("timed out after %s", t.d)
		if op != "get" {
			cause += "; the store may still carry out this " + op
		}
		return "", &StoreError{Backend: t.b.Name(), Op: op, Name: name, Cause: cause,
			Hint: "try again, or use another store", Err: withKind(ErrUnavailable, context.DeadlineExceeded)}
	case <-ctx.Done():
		return "", &StoreError{Backend: t.b.Name(), Op: op, Name: name, Cause: "cancelled", Err: ctx.Err()}
	}
}

func (t *timeoutBackend) Set(ctx context.Context, name, value string) error {
	_, err := t.run(ctx, "set", name, func(ctx context.Context) (string, error) { return "", t.b.Set(ctx, name, value) })
	return err
}

func (t *timeoutBackend) Get(ctx context.Context, name string) (string, error) {
	return t.run(ctx, "get", name, func(ctx context.Context) (string, error) { return t.b.Get(ctx, name) })
}

func (t *timeoutBackend) Delete(ctx context.Context, name string) error {
	_, err := t.run(ctx, "delete", name, func(ctx context.Context) (string, error) { return "", t.b.Delete(ctx, name) })
	return err
}
