package keystore

import (
	"context"
	"path/filepath"
	"strings"
	"testing"
)

// BenchmarkSetGet measures one Set followed by one Get of a token-sized value.
//
//	go test -run '^$' -bench SetGet ./keystore/
//	keystore/with-keyring.sh go test -run '^$' -bench SetGet ./keystore/   # with the keyring
//
// file/warm is one backend reused (the TUI; the derived key is cached);
// file/cold is a new backend each time, like one CLI run per operation. Both
// use the real scrypt parameters.
func BenchmarkSetGet(b *testing.B) {
	value := "tok-" + strings.Repeat("x", 40)
	run := func(b *testing.B, newBackend func() Backend) {
		ctx := context.Background()
		name := "keyturn-bench/" + b.Name()
		bk := newBackend()
		b.Cleanup(func() { _ = bk.Delete(context.Background(), name) })
		b.ReportAllocs()
		for b.Loop() {
			if err := newBackend().Set(ctx, name, value); err != nil {
				b.Fatal(err)
			}
			got, err := newBackend().Get(ctx, name)
			if err != nil || got != value {
				b.Fatalf("Get: %v", err)
			}
		}
	}
	b.Run("memory", func(b *testing.B) {
		m := NewMemory()
		run(b, func() Backend { return m })
	})
	b.Run("file/warm", func(b *testing.B) {
		f := NewFile(filepath.Join(b.TempDir(), "secrets.enc"), passFn("bench passphrase", nil))
		run(b, func() Backend { return f })
	})
	b.Run("file/cold", func(b *testing.B) {
		path := filepath.Join(b.TempDir(), "secrets.enc")
		run(b, func() Backend { return NewFile(path, passFn("bench passphrase", nil)) })
	})
	b.Run("keyring", func(b *testing.B) {
		k := realKeyring(b)
		run(b, func() Backend { return k })
	})
}
