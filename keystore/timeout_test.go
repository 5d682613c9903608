package keystore_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"keyturn/keystore"
	"keyturn/keystore/keystoretest"
)

func TestWithTimeout(t *testing.T) {
	ctx := context.Background()
	// A backend that ignores its context: only the wrapper can end the wait.
	release := make(chan struct{})
	defer close(release)
	stubborn := &keystoretest.Hanging{Ops: []string{"set"}, Release: release}
	b := keystore.WithTimeout(ignoreCtx{stubborn}, 50*time.Millisecond)
	if b.Name() != "hanging" {
		t.Errorf("Name() = %q", b.Name())
	}
	start := time.Now()
	err := b.Set(ctx, "a/b", "value-value-value-value")
	if !errors.Is(err, keystore.ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 50ms") {
		t.Fatalf("Set on a hanging store: %v", err)
	}
	if strings.Contains(err.Error(), "value-value") {
		t.Error("error holds the value")
	}
	if time.Since(start) > 5*time.Second {
		t.Errorf("took %s", time.Since(start))
	}
	// Calls that finish in time pass through, errors included.
	if _, err := b.Get(ctx, "a/b"); !errors.Is(err, keystore.ErrNotFound) {
		t.Errorf("Get through the wrapper: %v", err)
	}
	// The caller's context still wins.
	cctx, cancel := context.WithCancel(ctx)
	cancel()
	if err := keystore.WithTimeout(keystore.NewMemory(), time.Hour).Set(cctx, "a/b", "v"); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled context: %v", err)
	}
	if keystore.WithTimeout(keystore.NewMemory(), 0).Name() != "memory" {
		t.Error("WithTimeout(b, 0) should be b")
	}
}

// ignoreCtx hands its backend a context that never ends, like go-keyring.
type ignoreCtx struct{ b keystore.Backend }

func (i ignoreCtx) Name() string { return i.b.Name() }
func (i ignoreCtx) Set(_ context.Context, n, v string) error {
	return i.b.Set(context.Background(), n, v)
}
func (i ignoreCtx) Get(_ context.Context, n string) (string, error) {
	return i.b.Get(context.Background(), n)
}
func (i ignoreCtx) Delete(_ context.Context, n string) error {
	return i.b.Delete(context.Background(), n)
}
