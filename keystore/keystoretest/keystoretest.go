// Package keystoretest has keystore backends that fail or hang on purpose,
// for testing what callers do when the store lets them down (DESIGN.md rule
// 1: no issued secret is ever lost).
package keystoretest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"

	"keyturn/keystore"
)

// ErrFailing is the error Failing returns when it has no Err of its own.
var ErrFailing = errors.New("failing on purpose")

// Failing is a backend whose chosen operations fail. Operations not in Ops
// go to Inner (a fresh memory backend if nil). The zero value fails every
// operation with a *keystore.StoreError wrapping ErrFailing and
// keystore.ErrUnavailable. Use it by pointer (&Failing{...}); Ops may be
// changed between calls, not during them.
type Failing struct {
	Inner keystore.Backend
	Err   error    // returned by failing operations, wrapped in a StoreError; default ErrFailing
	Ops   []string // "set", "get", "delete", "list"; empty means all

	mu    sync.Mutex
	calls map[string]int
}

// NewFailing returns a Failing that fails ops (all if none) with err.
func NewFailing(err error, ops ...string) *Failing { return &Failing{Err: err, Ops: ops} }

func (f *Failing) Name() string { return "failing" }

// Calls reports how many times op was called (failed or not).
func (f *Failing) Calls(op string) int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.calls[op]
}

func (f *Failing) enter(op string) (keystore.Backend, bool) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.calls == nil {
		f.calls = map[string]int{}
	}
	f.calls[op]++
	if f.Inner == nil {
		f.Inner = keystore.NewMemory()
	}
	return f.Inner, len(f.Ops) == 0 || slices.Contains(f.Ops, op)
}

func (f *Failing) err(op, name string) error {
	err := f.Err
	if err == nil {
		err = ErrFailing
	}
	return &keystore.StoreError{Backend: f.Name(), Op: op, Name: name, Cause: "the store failed on purpose",
		Hint: "this is a test double", Err: fmt.Errorf("%w: %w", keystore.ErrUnavailable, err)}
}

func (f *Failing) Set(ctx context.Context, name, value string) error {
	in, fail := f.enter("set")
	if fail {
		return f.err("set", name)
	}
	return in.Set(ctx, name, value)
}

func (f *Failing) Get(ctx context.Context, name string) (string, error) {
	in, fail := f.enter("get")
	if fail {
		return "", f.err("get", name)
	}
	return in.Get(ctx, name)
}

func (f *Failing) Delete(ctx context.Context, name string) error {
	in, fail := f.enter("delete")
	if fail {
		return f.err("delete", name)
	}
	return in.Delete(ctx, name)
}

// Hanging is a backend whose chosen operations block until the context is
// done (or Release is closed), like a keyring waiting for an unlock prompt;
// then they fail with a *keystore.StoreError wrapping the context's error
// (or ErrFailing after Release). Operations not in Ops go to Inner (a fresh
// memory backend if nil); empty Ops means all hang.
type Hanging struct {
	Inner   keystore.Backend
	Ops     []string
	Release chan struct{} // optional: closing it ends every hang

	mu      sync.Mutex
	started chan struct{}
	once    sync.Once
}

func (h *Hanging) Name() string { return "hanging" }

// Started is closed when the first operation starts hanging.
func (h *Hanging) Started() <-chan struct{} {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.started == nil {
		h.started = make(chan struct{})
	}
	return h.started
}

func (h *Hanging) hang(ctx context.Context, op, name string) (keystore.Backend, error) {
	h.mu.Lock()
	if h.Inner == nil {
		h.Inner = keystore.NewMemory()
	}
	in := h.Inner
	if h.started == nil {
		h.started = make(chan struct{})
	}
	started := h.started
	h.mu.Unlock()
	if len(h.Ops) > 0 && !slices.Contains(h.Ops, op) {
		return in, nil
	}
	h.once.Do(func() { close(started) })
	select {
	case <-ctx.Done():
		return nil, &keystore.StoreError{Backend: h.Name(), Op: op, Name: name, Cause: "timed out (hanging on purpose)",
			Err: fmt.Errorf("%w: %w", keystore.ErrUnavailable, ctx.Err())}
	case <-h.Release:
		return nil, &keystore.StoreError{Backend: h.Name(), Op: op, Name: name, Cause: "released",
			Err: fmt.Errorf("%w: %w", keystore.ErrUnavailable, ErrFailing)}
	}
}

func (h *Hanging) Set(ctx context.Context, name, value string) error {
	in, err := h.hang(ctx, "set", name)
	if err != nil {
		return err
	}
	return in.Set(ctx, name, value)
}

func (h *Hanging) Get(ctx context.Context, name string) (string, error) {
	in, err := h.hang(ctx, "get", name)
	if err != nil {
		return "", err
	}
	return in.Get(ctx, name)
}

func (h *Hanging) Delete(ctx context.Context, name string) error {
	in, err := h.hang(ctx, "delete", name)
	if err != nil {
		return err
	}
	return in.Delete(ctx, name)
}

// List names what Inner holds, or fails when "list" is among Ops (or Ops
// is empty); an Inner that cannot list gives errors.ErrUnsupported.
func (f *Failing) List(ctx context.Context) ([]string, error) {
	in, fail := f.enter("list")
	if fail {
		return nil, f.err("list", "")
	}
	l, ok := in.(keystore.Lister)
	if !ok {
		return nil, fmt.Errorf("%s: %w", in.Name(), errors.ErrUnsupported)
	}
	return l.List(ctx)
}
