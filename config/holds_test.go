package config

import (
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestFileHolds(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	want := []byte(strings.Repeat("0123456789abcdef", 5000)) // more than one piece
	if err := os.WriteFile(path, want, 0o600); err != nil {
		t.Fatal(err)
	}
	other := bytes.Clone(want)
	other[len(other)-1] ^= 1
	for _, c := range []struct {
		name string
		want []byte
		same bool
	}{
		{"the same bytes", want, true},
		{"one byte differs at the end", other, false},
		{"shorter", want[:len(want)-1], false},
		{"longer", append(bytes.Clone(want), 'x'), false},
	} {
		if got, err := FileHolds(path, c.want); err != nil || got != c.same {
			t.Errorf("%s: %v, %v; want %v", c.name, got, err, c.same)
		}
	}
	if got, err := FileHolds(filepath.Join(t.TempDir(), "missing"), want); got || err == nil {
		t.Errorf("a missing file: %v, %v; want false and an error", got, err)
	}
}
