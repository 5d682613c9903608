package keystore

import (
	"context"
	"sort"
	"sync"
)

type memory struct {
	mu sync.Mutex
	m  map[string]string
}

// NewMemory returns a backend that keeps secrets in this process's memory,
// for the demo and tests. Nothing survives the process.
func NewMemory() Backend { return &memory{m: map[string]string{}} }

func (m *memory) Name() string { return KindMemory }

func (m *memory) Set(ctx context.Context, name, value string) error {
	if err := ctx.Err(); err != nil {
		return &StoreError{Backend: KindMemory, Op: "set", Name: name, Cause: "cancelled", Err: err}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	m.m[name] = value
	return nil
}

func (m *memory) Get(ctx context.Context, name string) (string, error) {
	if err := ctx.Err(); err != nil {
		return "", &StoreError{Backend: KindMemory, Op: "get", Name: name, Cause: "cancelled", Err: err}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	v, ok := m.m[name]
	if !ok {
		return "", notFound(KindMemory, "get", name)
	}
	return v, nil
}

func (m *memory) Delete(ctx context.Context, name string) error {
	if err := ctx.Err(); err != nil {
		return &StoreError{Backend: KindMemory, Op: "delete", Name: name, Cause: "cancelled", Err: err}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.m[name]; !ok {
		return notFound(KindMemory, "delete", name)
	}
	delete(m.m, name)
	return nil
}

// List names every secret held, sorted.
func (m *memory) List(ctx context.Context) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, &StoreError{Backend: KindMemory, Op: "list", Cause: "cancelled", Err: err}
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]string, 0, len(m.m))
	for n := range m.m {
		out = append(out, n)
	}
	sort.Strings(out)
	return out, nil
}
