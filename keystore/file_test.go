package keystore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
)

// fastKDF keeps the tests quick; the format and code paths are the same.
var fastKDF = kdfParams{logN: 10, r: 8, p: 1}

// passFn returns a passphrase function that counts its calls.
func passFn(pass string, calls *atomic.Int64) func() ([]byte, error) {
	return func() ([]byte, error) {
		if calls != nil {
			calls.Add(1)
		}
		return []byte(pass), nil
	}
}

func newTestFile(path, pass string, calls *atomic.Int64) *fileBackend {
	f := NewFile(path, passFn(pass, calls)).(*fileBackend)
	f.kdf = fastKDF
	return f
}

func mustRead(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func TestFileRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "keyturn", "secrets.enc")
	f := newTestFile(path, "correct horse", nil)
	if f.Name() != "file" {
		t.Errorf("Name() = %q", f.Name())
	}
	if _, err := f.Get(ctx, "a/b"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get before any write: %v, want ErrNotFound", err)
	}
	values := map[string]string{
		"prod/command/abc123": "tok-" + strings.Repeat("q", 30),
		"cap/credential":      "line1\nline2\x00nul \xff\xfe not utf-8 ✓",
		"rc@host:1/pat":       strings.Repeat("L", 100_000),
	}
	for n, v := range values {
		if err := f.Set(ctx, n, v); err != nil {
			t.Fatal(err)
		}
	}
	// A fresh backend (as another process would be) reads them all.
	g := newTestFile(path, "correct horse", nil)
	for n, v := range values {
		got, err := g.Get(ctx, n)
		if err != nil || got != v {
			t.Errorf("Get %s from a fresh backend: err=%v, value matches=%v", n, err, got == v)
		}
	}
	if err := g.Set(ctx, "prod/command/abc123", "tok-new-value-000000000"); err != nil {
		t.Fatal(err)
	}
	if got, _ := f.Get(ctx, "prod/command/abc123"); got != "tok-new-value-000000000" {
		t.Error("overwrite by one backend is not seen by the other")
	}
	if err := f.Delete(ctx, "cap/credential"); err != nil {
		t.Fatal(err)
	}
	if _, err := g.Get(ctx, "cap/credential"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := f.Delete(ctx, "cap/credential"); !errors.Is(err, ErrNotFound) {
		t.Errorf("second Delete: %v, want ErrNotFound", err)
	}
	if got, err := g.Get(ctx, "rc@host:1/pat"); err != nil || got != values["rc@host:1/pat"] {
		t.Error("an untouched secret changed")
	}
	// The file holds no value or name in the clear.
	raw := mustRead(t, path)
	for n, v := range values {
		if bytes.Contains(raw, []byte(n)) || bytes.Contains(raw, []byte(v[:12])) {
			t.Errorf("the file holds a name or value in the clear")
		}
	}
}

func TestFileWrongPassphrase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.enc")
	value := "the-real-secret-value-1234"
	if err := newTestFile(path, "right passphrase", nil).Set(ctx, "a/b", value); err != nil {
		t.Fatal(err)
	}
	before := mustRead(t, path)
	var calls atomic.Int64
	wrong := newTestFile(path, "hunter2-not-it", &calls)
	_, err := wrong.Get(ctx, "a/b")
	if !errors.Is(err, ErrWrongPassphrase) || errors.Is(err, ErrDamaged) {
		t.Fatalf("Get with a wrong passphrase: %v, want ErrWrongPassphrase (and not ErrDamaged)", err)
	}
	if !strings.Contains(err.Error(), "wrong passphrase") || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), EnvPassphrase) {
		t.Errorf("wrong passphrase message: %q", err)
	}
	if strings.Contains(err.Error(), value) || strings.Contains(err.Error(), "hunter2") || strings.Contains(err.Error(), "right passphrase") {
		t.Error("error holds a secret or a passphrase")
	}
	for _, op := range []func() error{
		func() error { return wrong.Set(ctx, "a/b", "other-value-xxxxxxxxxxxx") },
		func() error { return wrong.Set(ctx, "c/d", "other-value-xxxxxxxxxxxx") },
		func() error { return wrong.Delete(ctx, "a/b") },
	} {
		if err := op(); !errors.Is(err, ErrWrongPassphrase) {
			t.Errorf("write with a wrong passphrase: %v, want ErrWrongPassphrase", err)
		}
	}
	if !bytes.Equal(before, mustRead(t, path)) {
		t.Fatal("the file was changed by a backend holding the wrong passphrase")
	}
	// A wrong passphrase is not kept: the next call asks again.
	if n := calls.Load(); n != 4 {
		t.Errorf("passphrase asked %d times for 4 failed calls; a wrong one must not be cached", n)
	}
	if got, err := newTestFile(path, "right passphrase", nil).Get(ctx, "a/b"); err != nil || got != value {
		t.Errorf("the right passphrase no longer opens the file: %v", err)
	}
}

func TestFileDamaged(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	good := filepath.Join(dir, "good.enc")
	if err := newTestFile(good, "pw", nil).Set(ctx, "a/b", "value-value-value-value"); err != nil {
		t.Fatal(err)
	}
	orig := mustRead(t, good)
	flip := func(i int) []byte {
		b := bytes.Clone(orig)
		b[i] ^= 0x01
		return b
	}
	cases := []struct {
		name    string
		content []byte
		want    error
		says    string
	}{
		{"not keyturn", []byte("hello, I am a text file\n"), ErrDamaged, "not a keyturn secrets file"},
		{"empty", []byte{}, ErrDamaged, "not a keyturn secrets file"},
		{"truncated header", orig[:40], ErrDamaged, "truncated"},
		{"truncated body", orig[:len(orig)-5], ErrDamaged, "fail authentication"},
		{"flipped ciphertext", flip(len(orig) - 20), ErrDamaged, "fail authentication"},
		{"flipped nonce", flip(headerLen - 1), ErrDamaged, "fail authentication"},
		{"flipped kdf param", flip(11), ErrDamaged, ""}, // r=8 -> 9: key check fails or AEAD fails
		{"absurd kdf", func() []byte { b := bytes.Clone(orig); b[10] = 40; return b }(), ErrDamaged, "out of range"},
		{"kdf over 256 MiB", func() []byte { b := bytes.Clone(orig); b[10], b[11] = 20, 16; return b }(), ErrDamaged, "out of range"},
		{"newer version", func() []byte { b := bytes.Clone(orig); b[8] = 9; return b }(), ErrDamaged, "newer"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(c.name, " ", "-")+".enc")
			if err := os.WriteFile(path, c.content, 0o600); err != nil {
				t.Fatal(err)
			}
			f := newTestFile(path, "pw", nil)
			_, err := f.Get(ctx, "a/b")
			if c.name == "flipped kdf param" {
				// A changed KDF parameter changes the key: reported as a wrong
				// passphrase "(or its header is damaged)". Either way: no write.
				if !errors.Is(err, ErrDamaged) && !errors.Is(err, ErrWrongPassphrase) {
					t.Fatalf("Get: %v", err)
				}
			} else if !errors.Is(err, c.want) || errors.Is(err, ErrWrongPassphrase) {
				t.Fatalf("Get: %v, want %v", err, c.want)
			}
			if c.says != "" && !strings.Contains(err.Error(), c.says) {
				t.Errorf("Get: %q does not say %q", err, c.says)
			}
			if !strings.Contains(err.Error(), path) {
				t.Errorf("error does not name the file: %q", err)
			}
			if err := f.Set(ctx, "new/name", "another-value-1234567"); err == nil {
				t.Error("Set on a damaged file succeeded")
			}
			if err := f.Delete(ctx, "a/b"); err == nil || errors.Is(err, ErrNotFound) {
				t.Errorf("Delete on a damaged file: %v", err)
			}
			if !bytes.Equal(c.content, mustRead(t, path)) {
				t.Error("the damaged file was overwritten")
			}
		})
	}
}

func TestFilePermissionsAndNoLeftovers(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX permissions")
	}
	dir := filepath.Join(t.TempDir(), "new", "keyturn")
	path := filepath.Join(dir, "secrets.enc")
	f := newTestFile(path, "pw", nil)
	for i := range 3 {
		if err := f.Set(context.Background(), fmt.Sprintf("n/%d", i), "value-value-value"); err != nil {
			t.Fatal(err)
		}
	}
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("secrets file mode %v, want 0600", st.Mode().Perm())
	}
	if dst, _ := os.Stat(dir); dst.Mode().Perm() != 0o700 {
		t.Errorf("directory mode %v, want 0700", dst.Mode().Perm())
	}
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if e.Name() != "secrets.enc" && e.Name() != "secrets.enc.lock" {
			t.Errorf("unexpected file left behind: %s", e.Name())
		}
	}
	if st, err := os.Stat(path + ".lock"); err == nil && st.Mode().Perm() != 0o600 {
		t.Errorf("lock file mode %v, want 0600", st.Mode().Perm())
	}
}

// TestFileAtomicWrite reads the file over and over while another goroutine
// keeps rewriting it: a reader must always see a whole file, old or new.
func TestFileAtomicWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.enc")
	w := newTestFile(path, "pw", nil)
	if err := w.Set(ctx, "x/counter", "0"); err != nil {
		t.Fatal(err)
	}
	// Hold the first file open: a file replaced by rename keeps its old
	// contents under this handle (and its inode cannot be reused by a
	// later write, which would make an inode comparison lie).
	orig, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer orig.Close()
	origStat, _ := orig.Stat()
	first := inode(origStat)
	ino := func() uint64 {
		st, _ := os.Stat(path)
		return inode(st)
	}
	var wg sync.WaitGroup
	stop := make(chan struct{})
	var reads, bad atomic.Int64
	wg.Go(func() {
		r := newTestFile(path, "pw", nil)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if _, err := r.Get(ctx, "x/counter"); err != nil {
				bad.Add(1)
			}
			reads.Add(1)
		}
	})
	for i := 1; i <= 40; i++ {
		if err := w.Set(ctx, "x/counter", strconv.Itoa(i)); err != nil {
			t.Fatal(err)
		}
	}
	close(stop)
	wg.Wait()
	if bad.Load() > 0 {
		t.Errorf("%d of %d reads during writes failed: writes are not atomic", bad.Load(), reads.Load())
	}
	if runtime.GOOS != "windows" && ino() == first {
		t.Error("the file was rewritten in place, not replaced by rename")
	}
	if got, _ := w.Get(ctx, "x/counter"); got != "40" {
		t.Errorf("counter = %q, want 40", got)
	}
}

func TestFileKeyCache(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.enc")
	var calls atomic.Int64
	f := newTestFile(path, "pw", &calls)
	if err := f.Set(ctx, "a/1", "value-one-xxxxxxxx"); err != nil {
		t.Fatal(err)
	}
	runs := f.kdfRuns.Load()
	for range 5 {
		if _, err := f.Get(ctx, "a/1"); err != nil {
			t.Fatal(err)
		}
	}
	if f.kdfRuns.Load() != runs {
		t.Errorf("Get re-ran the KDF (%d runs after 5 gets, %d before)", f.kdfRuns.Load(), runs)
	}
	// A write re-reads and re-seals under the file's salt: no KDF run.
	if err := f.Set(ctx, "a/2", "value-two-xxxxxxxx"); err != nil {
		t.Fatal(err)
	}
	if d := f.kdfRuns.Load() - runs; d != 0 {
		t.Errorf("a write ran the KDF %d times, want 0 (the key is cached)", d)
	}
	if calls.Load() != 1 {
		t.Errorf("passphrase asked %d times, want once per process", calls.Load())
	}
	// A fresh nonce on every write, the same content notwithstanding.
	a := mustRead(t, path)
	if err := f.Set(ctx, "a/2", "value-two-xxxxxxxx"); err != nil {
		t.Fatal(err)
	}
	b := mustRead(t, path)
	if bytes.Equal(a[headerLen-24:headerLen], b[headerLen-24:headerLen]) {
		t.Error("nonce reused across writes")
	}
	if !bytes.Equal(a[13:13+saltLen], b[13:13+saltLen]) {
		t.Error("salt changed on a plain write (the cached key should serve)")
	}
	if bytes.Equal(a[headerLen:], b[headerLen:]) {
		t.Error("same ciphertext for two writes")
	}
	// A file under weaker parameters than today's is re-keyed on its next
	// write: new salt, today's parameters; it still opens.
	stronger := newTestFile(path, "pw", nil)
	stronger.kdf = kdfParams{logN: fastKDF.logN + 1, r: fastKDF.r, p: fastKDF.p}
	if err := stronger.Set(ctx, "a/3", "value-three-xxxxxx"); err != nil {
		t.Fatal(err)
	}
	c := mustRead(t, path)
	if c[10] != fastKDF.logN+1 || bytes.Equal(b[13:13+saltLen], c[13:13+saltLen]) {
		t.Errorf("not re-keyed: logN %d, salt changed %v", c[10], !bytes.Equal(b[13:13+saltLen], c[13:13+saltLen]))
	}
	for _, n := range []string{"a/1", "a/2", "a/3"} {
		if _, err := newTestFile(path, "pw", nil).Get(ctx, n); err != nil {
			t.Errorf("after re-keying, %s: %v", n, err)
		}
	}
	// A Get of a missing file does not ask for the passphrase.
	var calls2 atomic.Int64
	g := newTestFile(filepath.Join(t.TempDir(), "none.enc"), "pw", &calls2)
	if _, err := g.Get(ctx, "a/1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a missing file: %v", err)
	}
	if err := g.Delete(ctx, "a/1"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Delete in a missing file: %v", err)
	}
	if calls2.Load() != 0 {
		t.Error("asked for a passphrase to find that there is no file")
	}
}

func TestFileDefaultParams(t *testing.T) {
	path := filepath.Join(t.TempDir(), "secrets.enc")
	if err := NewFile(path, passFn("pw", nil)).Set(context.Background(), "a/b", "value-value-value"); err != nil {
		t.Fatal(err)
	}
	raw := mustRead(t, path)
	if string(raw[:8]) != fileMagic || raw[8] != 1 || raw[9] != kdfScrypt || raw[10] != 15 || raw[11] != 8 || raw[12] != 1 {
		t.Errorf("header = % x, want KTSECRET v1 scrypt N=2^15 r=8 p=1", raw[:13])
	}
}

func TestFileNoPassphrase(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.enc")
	t.Setenv(EnvPassphrase, "")
	f := NewFile(path, PassphraseFromEnv)
	err := f.Set(ctx, "a/b", "value-value-value")
	if !errors.Is(err, ErrNoPassphrase) || !strings.Contains(err.Error(), EnvPassphrase) {
		t.Fatalf("Set with no passphrase: %v, want ErrNoPassphrase naming %s", err, EnvPassphrase)
	}
	if _, err := os.Stat(path); !errors.Is(err, os.ErrNotExist) {
		t.Error("a file was written without a passphrase")
	}
	prompt := func() ([]byte, error) { return nil, errors.New("no terminal to ask on") }
	if err := NewFile(path, prompt).Set(ctx, "a/b", "v-v-v-v-v-v-v-v"); !errors.Is(err, ErrNoPassphrase) || !strings.Contains(err.Error(), "no terminal") {
		t.Errorf("Set with a failing prompt: %v", err)
	}
	empty := func() ([]byte, error) { return []byte{}, nil }
	if err := NewFile(path, empty).Set(ctx, "a/b", "v-v-v-v-v-v-v-v"); !errors.Is(err, ErrNoPassphrase) {
		t.Errorf("Set with an empty passphrase: %v", err)
	}
	t.Setenv(EnvPassphrase, "from env")
	if p, err := PassphraseFromEnv(); err != nil || string(p) != "from env" {
		t.Errorf("PassphraseFromEnv: %v", err)
	}
}

// TestFileConcurrentProcesses: two processes each add N secrets to the same
// file at the same time; none may be lost.
func TestFileConcurrentProcesses(t *testing.T) {
	const n = 15
	path := filepath.Join(t.TempDir(), "secrets.enc")
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for id := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperFileChild$", "-test.count=1")
		cmd.Env = append(os.Environ(), "KEYTURN_FILE_CHILD=1", "KEYTURN_FILE_CHILD_PATH="+path,
			"KEYTURN_FILE_CHILD_ID="+strconv.Itoa(id), "KEYTURN_FILE_CHILD_N="+strconv.Itoa(n),
			EnvPassphrase+"=shared passphrase")
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds, outs = append(cmds, cmd), append(outs, &out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, outs[i])
		}
	}
	f := newTestFile(path, "shared passphrase", nil)
	lost := 0
	for id := range 2 {
		for i := range n {
			got, err := f.Get(context.Background(), fmt.Sprintf("child%d/%d", id, i))
			if err != nil || got != fmt.Sprintf("value-%d-%d-xxxxxxxx", id, i) {
				lost++
			}
		}
	}
	if lost > 0 {
		t.Errorf("%d of %d secrets written by two concurrent processes were lost", lost, 2*n)
	}
}

// TestHelperFileChild is not a test: it is the child of TestFileConcurrentProcesses.
func TestHelperFileChild(t *testing.T) {
	if os.Getenv("KEYTURN_FILE_CHILD") != "1" {
		t.Skip("helper process for TestFileConcurrentProcesses")
	}
	f := NewFile(os.Getenv("KEYTURN_FILE_CHILD_PATH"), PassphraseFromEnv).(*fileBackend)
	f.kdf = fastKDF
	id := os.Getenv("KEYTURN_FILE_CHILD_ID")
	n, _ := strconv.Atoi(os.Getenv("KEYTURN_FILE_CHILD_N"))
	for i := range n {
		if err := f.Set(context.Background(), fmt.Sprintf("child%s/%d", id, i), fmt.Sprintf("value-%s-%d-xxxxxxxx", id, i)); err != nil {
			t.Fatal(err)
		}
	}
}

// TestFileConcurrentGoroutines: writers sharing one backend, and writers
// with backends of their own, in one process; nothing is lost.
func TestFileConcurrentGoroutines(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.enc")
	shared := newTestFile(path, "pw", nil)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Go(func() {
			b := shared
			if g%2 == 1 {
				b = newTestFile(path, "pw", nil)
			}
			for i := range 5 {
				if err := b.Set(ctx, fmt.Sprintf("g%d/%d", g, i), fmt.Sprintf("value-%d-%d-xxxxxxxxx", g, i)); err != nil {
					t.Error(err)
				}
			}
		})
	}
	wg.Wait()
	for g := range 4 {
		for i := range 5 {
			if got, err := shared.Get(ctx, fmt.Sprintf("g%d/%d", g, i)); err != nil || got != fmt.Sprintf("value-%d-%d-xxxxxxxxx", g, i) {
				t.Errorf("g%d/%d lost (%v)", g, i, err)
			}
		}
	}
}
