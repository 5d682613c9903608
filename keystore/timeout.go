package keystore

import (
	"context"
	"fmt"
	"time"
)

// WithTimeout bounds every call to b: a call still running after d fails
// with a *StoreError that says so, and the caller moves on (the call is
// left to finish in the background). The keyring backend has its own,
// more talkative timeout; this one holds any backend to DESIGN rule 6.
func WithTimeout(b Backend, d time.Duration) Backend {
	if d <= 0 {
		return b
	}
	return &timeoutBackend{b: b, d: d}
}

type timeoutBackend struct {
	b Backend
	d time.Duration
}

func (t *timeoutBackend) Name() string { return t.b.Name() }

func (t *timeoutBackend) run(ctx context.Context, op, name string, fn func(context.Context) (string, error)) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, t.d)
	defer cancel()
	done := make(chan result, 1)
	go func() {
		v, err := fn(ctx)
		done <- result{v, err}
	}()
	select {
	case r := <-done:
		return r.v, r.err
	case <-ctx.Done():
		cause := "cancelled"
		if ctx.Err() == context.DeadlineExceeded {
			cause = fmt.Sprintf("timed out after %s", t.d)
		}
		return "", &StoreError{Backend: t.b.Name(), Op: op, Name: name, Cause: cause,
			Hint: "the store did not answer; unlock it, or use another store (--store file)", Err: withKind(ErrUnavailable, ctx.Err())}
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
