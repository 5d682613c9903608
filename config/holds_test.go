package config

import (
	"bytes"
	"errors"
	"io"
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

// A write that fails midway leaves the file as it was and no temporary
// file beside it.
func TestWriteFileAtomicWithFailureLeavesTheFile(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	if err := WriteFileAtomic(path, []byte("old"), 0o600); err != nil {
		t.Fatal(err)
	}
	boom := errors.New("boom")
	err := WriteFileAtomicWith(path, 0o600, func(w io.Writer) error {
		_, _ = w.Write(bytes.Repeat([]byte("new"), 100000))
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("err = %v, want the writer's own", err)
	}
	if got, _ := os.ReadFile(path); string(got) != "old" {
		t.Fatalf("the file holds %.20q, want the old contents", got)
	}
	if ents, _ := os.ReadDir(dir); len(ents) != 1 {
		t.Fatalf("the directory holds %d entries, want the file alone", len(ents))
	}
}

// A file's digest is its bytes' digest, read in pieces: the memo compares
// the two.
func TestFileDigestIsTheBytesDigest(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	for _, data := range [][]byte{{}, []byte("x"), bytes.Repeat([]byte("0123456789abcdef"), 5000)} {
		if err := os.WriteFile(path, data, 0o600); err != nil {
			t.Fatal(err)
		}
		got, err := fileDigest(path)
		if err != nil || got != digestOf(data) {
			t.Fatalf("%d bytes: fileDigest %v, %v; digestOf %v", len(data), got, err, digestOf(data))
		}
	}
	if _, err := fileDigest(filepath.Join(t.TempDir(), "missing")); err == nil {
		t.Fatal("a missing file has a digest")
	}
}
