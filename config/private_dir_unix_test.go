//go:build unix

package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// MkdirPrivate refuses a directory others can write in or another user
// owns (where they could hold keyturn's locks or swap its journals), and a
// link in a directory's place; it creates a missing one 0700.
func TestMkdirPrivate(t *testing.T) {
	base := t.TempDir()
	fresh := filepath.Join(base, "fresh")
	if err := MkdirPrivate(fresh); err != nil {
		t.Fatalf("a new directory: %v", err)
	}
	if fi, _ := os.Stat(fresh); fi.Mode().Perm() != 0o700 {
		t.Fatalf("a new directory has mode %v, want 0700", fi.Mode().Perm())
	}

	open := filepath.Join(base, "open")
	if err := os.Mkdir(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(open, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := MkdirPrivate(open); err == nil || !strings.Contains(err.Error(), "can be written by other users") {
		t.Fatalf("a world-writable directory: %v, want a refusal", err)
	}

	link := filepath.Join(base, "link")
	if err := os.Symlink(fresh, link); err != nil {
		t.Fatal(err)
	}
	if err := MkdirPrivate(link); err == nil || !strings.Contains(err.Error(), "is not a directory") {
		t.Fatalf("a link in a directory's place: %v, want a refusal", err)
	}

	if os.Getuid() == 0 {
		theirs := filepath.Join(base, "theirs")
		if err := os.Mkdir(theirs, 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.Chown(theirs, 65534, 65534); err != nil {
			t.Fatal(err)
		}
		if err := MkdirPrivate(theirs); err == nil || !strings.Contains(err.Error(), "owned by another user") {
			t.Fatalf("another user's directory: %v, want a refusal", err)
		}
	}
}
