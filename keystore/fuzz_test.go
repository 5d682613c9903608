package keystore

// Fuzz targets for the secret-name parser and for the file store reading
// damaged files. fuzz/run runs each for a few seconds in CI.

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"golang.org/x/crypto/chacha20poly1305"
	"golang.org/x/crypto/scrypt"
)

// FuzzValidName: what ValidName accepts is a name its documentation allows:
// 1 to MaxNameLen bytes of letters, digits and . _ - / @ : %, no leading or
// trailing slash, no empty, "." or ".." element (so no path can climb out
// with it). A rejection says why and names the problem.
func FuzzValidName(f *testing.F) {
	for _, s := range []string{
		"prod/command/abc123", "work-mm/credential", "a", "a/../b", "..", ".", "a..b", "/a", "a/", "a//b",
		"a/./b", "user@host:pat/x", "é", "a b", strings.Repeat("x", 200), strings.Repeat("x", 201), "", "a\x00",
		"cap/session", "...", "a/.../b", "ci token", "déploiement", "100%", "%2E", "\xff",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, name string) {
		// Any text escapes to a valid element that reads back as it.
		if name != "" {
			part := EscapeNamePart(name)
			if err := ValidName("a/" + part); err != nil && len(part) <= MaxNameLen-2 {
				t.Fatalf("EscapeNamePart(%q) = %q: %v", name, part, err)
			}
			if strings.Contains(part, "/") {
				t.Fatalf("EscapeNamePart(%q) = %q holds a slash", name, part)
			}
			if back, err := url.PathUnescape(part); err != nil || back != name {
				t.Fatalf("EscapeNamePart(%q) = %q reads back as %q, %v", name, part, back, err)
			}
			if err := ValidName(name); err == nil && !strings.Contains(name, "%") && !strings.Contains(name, "/") && part != name {
				t.Fatalf("EscapeNamePart changed %q, a valid name part, into %q", name, part)
			}
		}
		err := ValidName(name)
		if err != nil {
			if msg := err.Error(); !strings.HasPrefix(msg, "invalid secret name") {
				t.Fatalf("ValidName(%q): unclear error %q", name, msg)
			}
			return
		}
		switch {
		case name == "" || len(name) > MaxNameLen:
			t.Fatalf("ValidName accepted a name of %d bytes", len(name))
		case strings.HasPrefix(name, "/") || strings.HasSuffix(name, "/"):
			t.Fatalf("ValidName accepted %q: leading or trailing slash", name)
		}
		for _, r := range name {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("._-/@:%", r)) {
				t.Fatalf("ValidName accepted %q with %q", name, r)
			}
		}
		for _, part := range strings.Split(name, "/") {
			if part == "" || part == "." || part == ".." {
				t.Fatalf("ValidName accepted %q: element %q", name, part)
			}
		}
	})
}

const (
	fzPass = "correct horse battery staple"
	fzName = "prod/command/w483xexf3j88bc7pupqfqhd7sr"
)

// fzCheap is the KDF of the files the fuzzer builds: the format and code
// paths are those of real files, at a fraction of a millisecond.
var fzCheap = kdfParams{logN: 10, r: 1, p: 1}

// fzSeal builds a secrets file around any plaintext, as seal does, with a
// fixed salt and nonce so that a fuzz input always means the same file.
func fzSeal(t testing.TB, plain []byte, k kdfParams, pass string) []byte {
	hdr := make([]byte, headerLen)
	copy(hdr, fileMagic)
	hdr[8], hdr[9], hdr[10], hdr[11], hdr[12] = fileVersion, kdfScrypt, k.logN, k.r, k.p
	salt := sha256.Sum256([]byte("salt"))
	nonce := sha256.Sum256([]byte("nonce"))
	copy(hdr[13:13+saltLen], salt[:])
	copy(hdr[13+saltLen+checkLen:], nonce[:chacha20poly1305.NonceSizeX])
	derived, err := scrypt.Key([]byte(pass), hdr[13:13+saltLen], 1<<k.logN, int(k.r), int(k.p), 64)
	if err != nil {
		t.Fatal(err)
	}
	copy(hdr[13+saltLen:], keyCheck(derived))
	aead, err := chacha20poly1305.NewX(derived[:32])
	if err != nil {
		t.Fatal(err)
	}
	return aead.Seal(hdr, hdr[13+saltLen+checkLen:headerLen], plain, hdr)
}

// fzTame lowers a header's KDF parameters to cheap ones when they are
// valid but cost more than a few milliseconds, to keep the executions fast.
// Lowering them changes the key: such a file then reads as a wrong
// passphrase, which is still a damaged-header path.
func fzTame(file []byte) []byte {
	if len(file) > 12 && string(file[:len(fileMagic)]) == fileMagic {
		k := kdfParams{logN: file[10], r: file[11], p: file[12]}
		if k.valid() && uint64(1)<<k.logN*uint64(k.r)*uint64(k.p) > 1<<13 {
			file = bytes.Clone(file)
			file[10], file[11], file[12] = fzCheap.logN, fzCheap.r, fzCheap.p
		}
	}
	return file
}

// fzKDFBudget is what a file's header may make keyturn spend on the KDF
// before the file is authenticated, the "minutes or gigabytes" that
// kdfParams.valid rules out: 256 MiB of memory (128·r·N bytes), and 64
// times the work N·r·p of the default parameters (a few seconds).
func fzKDFBudget(k kdfParams) error {
	mem := uint64(128) * uint64(k.r) << k.logN
	work := uint64(1) << k.logN * uint64(k.r) * uint64(k.p)
	def := uint64(1) << defaultKDF.logN * uint64(defaultKDF.r) * uint64(defaultKDF.p)
	if mem > 256<<20 || work > 64*def {
		return fmt.Errorf("header KDF logN=%d r=%d p=%d passes kdfParams.valid but costs %d MiB and %dx the default work",
			k.logN, k.r, k.p, mem>>20, work/def)
	}
	return nil
}

// FuzzFileStoreDamaged: the file store opened over a fuzzed file, with a
// KEYTURN_FILE_PASSPHRASE-style passphrase function. The input is either
// the whole file (mode 0), a plaintext that is sealed into a well-formed
// file (mode 1, to reach the payload decoder past the AEAD), or a mask
// XORed onto a good file (mode 2). Get never panics or hangs; it returns the
// value, ErrNotFound, or an error wrapping ErrDamaged or ErrWrongPassphrase
// that names the file. A failed read leaves the file exactly as it was, and
// a Set after it refuses to overwrite it.
func FuzzFileStoreDamaged(f *testing.F) {
	plainOf := func(secrets map[string]string) []byte {
		p := payload{Version: 1, Secrets: map[string][]byte{}}
		for k, v := range secrets {
			p.Secrets[k] = []byte(v)
		}
		b, err := json.Marshal(p)
		if err != nil {
			f.Fatal(err)
		}
		return b
	}
	goodPlain := plainOf(map[string]string{fzName: "7np66pejm7d13cofkoras91q5h", "work-mm/credential": `{"via":"session"}`})
	good := fzSeal(f, goodPlain, fzCheap, fzPass)
	f.Add(uint8(0), good, []byte(nil))
	f.Add(uint8(0), fzSeal(f, plainOf(nil), fzCheap, fzPass), []byte(nil))
	f.Add(uint8(0), fzSeal(f, goodPlain, fzCheap, "another passphrase"), []byte(nil))
	f.Add(uint8(0), good[:headerLen], []byte(nil))
	f.Add(uint8(0), good[:40], []byte(nil))
	f.Add(uint8(0), good[:len(good)-1], []byte(nil))
	f.Add(uint8(0), []byte{}, []byte(nil))
	f.Add(uint8(0), []byte("hello, I am a text file\n"), []byte(nil))
	f.Add(uint8(0), []byte(fileMagic), []byte(nil))
	for _, b := range [][2]int{{8, 2}, {8, 0}, {9, 2}, {10, 40}, {10, 22}, {11, 33}, {12, 0}} {
		bad := bytes.Clone(good)
		bad[b[0]] = byte(b[1])
		f.Add(uint8(0), bad, []byte(nil))
	}
	for _, k := range []kdfParams{{17, 16, 4}, {20, 2, 4}, {21, 1, 1}, {22, 32, 16}, {15, 8, 1}} {
		bad := bytes.Clone(good)
		bad[10], bad[11], bad[12] = k.logN, k.r, k.p
		f.Add(uint8(0), bad, []byte(nil))
	}
	f.Add(uint8(1), goodPlain, []byte(nil))
	f.Add(uint8(1), []byte(`{"version":1,"secrets":{"`+fzName+`":null}}`), []byte(nil))
	f.Add(uint8(1), []byte(`{"version":1,"secrets":{"`+fzName+`":"not base64!"}}`), []byte(nil))
	f.Add(uint8(1), []byte(`{"version":2,"secrets":{}}`), []byte(nil))
	f.Add(uint8(1), []byte(`{"version":1,"secrets":[]}`), []byte(nil))
	f.Add(uint8(1), []byte(`{"version":1} trailing`), []byte(nil))
	f.Add(uint8(1), []byte(``), []byte(nil))
	f.Add(uint8(2), []byte(nil), []byte{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1})
	f.Add(uint8(2), []byte(nil), append(make([]byte, 30), 0x80))
	f.Add(uint8(2), []byte(nil), append(make([]byte, 60), 1))
	f.Add(uint8(2), []byte(nil), append(make([]byte, 100), 1))

	f.Fuzz(func(t *testing.T, mode uint8, data, mask []byte) {
		var file []byte
		switch mode % 3 {
		case 0:
			file = data
		case 1:
			file = fzSeal(t, data, fzCheap, fzPass)
		case 2:
			file = bytes.Clone(good)
			for i := range mask {
				if i < len(file) {
					file[i] ^= mask[i]
				}
			}
			if len(data) > 0 && int(data[0]) < len(file) {
				file = file[:len(file)-int(data[0])] // and truncated
			}
		}
		if len(file) > 12 && string(file[:len(fileMagic)]) == fileMagic {
			if k := (kdfParams{logN: file[10], r: file[11], p: file[12]}); k.valid() {
				if err := fzKDFBudget(k); err != nil {
					t.Fatal(err)
				}
			}
		}
		file = fzTame(file)

		dir := t.TempDir()
		path := filepath.Join(dir, "secrets.enc")
		if err := os.WriteFile(path, file, 0o600); err != nil {
			t.Fatal(err)
		}
		before, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		fb := NewFile(path, func() ([]byte, error) { return []byte(fzPass), nil }).(*fileBackend)
		fb.kdf = fzCheap

		value, err := fzWithin(t, func() (string, error) { return fb.Get(context.Background(), fzName) })
		switch {
		case err == nil:
			// The file decrypted: the value is the payload's.
			if mode%3 == 1 {
				var p payload
				if json.NewDecoder(bytes.NewReader(data)).Decode(&p) != nil || p.Version != 1 || string(p.Secrets[fzName]) != value {
					t.Fatalf("Get returned a value the plaintext does not hold")
				}
			}
			return
		case errors.Is(err, ErrNotFound):
			return
		case errors.Is(err, ErrDamaged), errors.Is(err, ErrWrongPassphrase):
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("Get: %q does not name the file", err)
			}
			var se *StoreError
			if !errors.As(err, &se) || se.Cause == "" {
				t.Fatalf("Get: %T %v is not a StoreError with a cause", err, err)
			}
		default:
			t.Fatalf("Get: %v: want ErrDamaged, ErrWrongPassphrase or ErrNotFound", err)
		}

		// A failed read: nothing changes, and nothing overwrites the file.
		_, serr := fzWithin(t, func() (string, error) {
			return "", fb.Set(context.Background(), "new/name", "another-value-1234567")
		})
		if serr == nil || !errors.Is(serr, ErrDamaged) && !errors.Is(serr, ErrWrongPassphrase) {
			t.Fatalf("Set over a file Get could not read: %v", serr)
		}
		after, err := os.Stat(path)
		if err != nil {
			t.Fatal(err)
		}
		got, err := os.ReadFile(path)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, file) || !after.ModTime().Equal(before.ModTime()) || after.Mode() != before.Mode() {
			t.Fatalf("the file changed after a failed read")
		}
		entries, err := os.ReadDir(dir)
		if err != nil {
			t.Fatal(err)
		}
		for _, e := range entries {
			if e.Name() != "secrets.enc" && e.Name() != "secrets.enc.lock" {
				t.Fatalf("a leftover file %q", e.Name())
			}
		}
	})
}

// fzWithin runs fn with a deadline and catches a panic.
func fzWithin(t *testing.T, fn func() (string, error)) (string, error) {
	t.Helper()
	type result struct {
		v     string
		err   error
		stack string
	}
	done := make(chan result, 1)
	go func() {
		var r result
		defer func() {
			if p := recover(); p != nil {
				r.stack = fmt.Sprintf("%v\n%s", p, debug.Stack())
			}
			done <- r
		}()
		r.v, r.err = fn()
	}()
	select {
	case r := <-done:
		if r.stack != "" {
			t.Fatalf("panic: %s", r.stack)
		}
		return r.v, r.err
	case <-time.After(10 * time.Second):
		t.Fatalf("no answer within 10s")
		return "", nil
	}
}
