package keystore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"sync"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"
)

// envRequireKeyring, when "1" (CI sets it), turns "no Secret Service here"
// from a skip into a failure.
const envRequireKeyring = "KEYTURN_TEST_KEYRING"

func keyringRequired() bool { return os.Getenv(envRequireKeyring) == "1" }

// skipOrFail skips, or fails when KEYTURN_TEST_KEYRING=1.
func skipOrFail(t testing.TB, format string, args ...any) {
	t.Helper()
	msg := fmt.Sprintf(format, args...)
	if keyringRequired() {
		t.Fatalf("%s (and %s=1 requires it)", msg, envRequireKeyring)
	}
	t.Skipf("%s; set %s=1 to make this a failure. Run under: dbus-run-session -- sh -c 'printf pass | gnome-keyring-daemon --unlock --components=secrets >/dev/null; go test ./keystore/...'", msg, envRequireKeyring)
}

// realKeyring returns the OS keyring backend if a Secret Service answers.
func realKeyring(t testing.TB) Backend {
	t.Helper()
	k := NewKeyring(5 * time.Second)
	_, err := k.Get(context.Background(), fmt.Sprintf("keyturn-test/probe-%d", time.Now().UnixNano()))
	if err != nil && !errors.Is(err, ErrNotFound) {
		skipOrFail(t, "no usable OS keyring: %v", err)
	}
	return k
}

func testName(t testing.TB, suffix string) string {
	return fmt.Sprintf("keyturn-test/%d-%d/%s", os.Getpid(), time.Now().UnixNano(), suffix)
}

func TestKeyringRoundTrip(t *testing.T) {
	k := realKeyring(t)
	ctx := context.Background()
	name := testName(t, "credential")
	t.Cleanup(func() { _ = k.Delete(context.Background(), name) })

	if k.Name() != "keyring" {
		t.Errorf("Name() = %q", k.Name())
	}
	v1 := "tok-" + strings.Repeat("a", 26)
	if err := k.Set(ctx, name, v1); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Get(ctx, name); err != nil || got != v1 {
		t.Fatalf("Get after Set: err=%v, value matches=%v", err, got == v1)
	}
	v2 := "tok-" + strings.Repeat("b", 26) + "\nsecond line ✓"
	if err := k.Set(ctx, name, v2); err != nil {
		t.Fatal(err)
	}
	if got, err := k.Get(ctx, name); err != nil || got != v2 {
		t.Fatalf("Get after overwrite: err=%v, value matches=%v", err, got == v2)
	}
	if err := k.Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := k.Get(ctx, name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get after Delete: %v, want ErrNotFound", err)
	}
	if err := k.Delete(ctx, name); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Delete of a deleted name: %v, want ErrNotFound", err)
	}
}

// TestKeyringVisibleToSecretTool checks that what the backend stores is an
// ordinary Secret Service item, service "keyturn", username = the name.
func TestKeyringVisibleToSecretTool(t *testing.T) {
	k := realKeyring(t)
	tool, err := exec.LookPath("secret-tool")
	if err != nil {
		skipOrFail(t, "secret-tool not installed (Debian: libsecret-tools)")
	}
	ctx := context.Background()
	name := testName(t, "visible")
	value := "visible-" + strings.Repeat("z", 30)
	t.Cleanup(func() { _ = k.Delete(context.Background(), name) })
	if err := k.Set(ctx, name, value); err != nil {
		t.Fatal(err)
	}
	// Outputs hold the value: compared, never printed.
	out, err := exec.Command(tool, "search", "--all", "service", KeyringService, "username", name).CombinedOutput()
	if err != nil {
		t.Fatalf("secret-tool search: %v", err)
	}
	if !bytes.Contains(out, []byte("attribute.username = "+name)) || !bytes.Contains(out, []byte("attribute.service = keyturn")) {
		t.Errorf("secret-tool search service keyturn does not show the item %s", name)
	}
	out, err = exec.Command(tool, "lookup", "service", KeyringService, "username", name).Output()
	if err != nil {
		t.Fatalf("secret-tool lookup: %v", err)
	}
	if strings.TrimRight(string(out), "\n") != value {
		t.Errorf("secret-tool lookup returns a different value than was set")
	}
	// And the other way round: an item secret-tool stores, the backend reads.
	name2 := testName(t, "from-secret-tool")
	t.Cleanup(func() { _ = k.Delete(context.Background(), name2) })
	cmd := exec.Command(tool, "store", "--label=keyturn test", "service", KeyringService, "username", name2)
	cmd.Stdin = strings.NewReader(value)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("secret-tool store: %v: %s", err, out)
	}
	if got, err := k.Get(ctx, name2); err != nil || got != value {
		t.Errorf("Get of an item secret-tool stored: err=%v, value matches=%v", err, got == value)
	}
}

// fakeProvider is a go-keyring stand-in: it hangs until release is closed,
// or returns err, or stores in a map.
type fakeProvider struct {
	release chan struct{}
	err     error

	mu   sync.Mutex
	sets int
	m    map[string]string
}

func (f *fakeProvider) wait() {
	if f.release != nil {
		<-f.release
	}
}

func (f *fakeProvider) Set(s, u, p string) error {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sets++
	if f.err != nil {
		return f.err
	}
	if f.m == nil {
		f.m = map[string]string{}
	}
	f.m[s+"\x00"+u] = p
	return nil
}

func (f *fakeProvider) Get(s, u string) (string, error) {
	f.wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return "", f.err
	}
	v, ok := f.m[s+"\x00"+u]
	if !ok {
		return "", gokeyring.ErrNotFound
	}
	return v, nil
}

func (f *fakeProvider) Delete(s, u string) error {
	f.wait()
	return f.err
}

func TestKeyringTimeout(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	k := newKeyring(&fakeProvider{release: release}, 50*time.Millisecond)
	k.preflight, k.diagnose = nil, nil
	value := "hanging-secret-value-0123456789"
	start := time.Now()
	err := k.Set(context.Background(), "acct/credential", value)
	if time.Since(start) > 5*time.Second {
		t.Errorf("Set took %s with a 50ms timeout", time.Since(start))
	}
	var se *StoreError
	if !errors.As(err, &se) {
		t.Fatalf("Set on a hanging keyring: %v, want a *StoreError", err)
	}
	if !strings.Contains(se.Cause, "timed out after 50ms") || !errors.Is(err, ErrUnavailable) || !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("timeout error = %q, want cause \"timed out after 50ms\" wrapping ErrUnavailable and DeadlineExceeded", err)
	}
	if se.Other != KindFile || !strings.Contains(err.Error(), "unlock") || strings.Contains(err.Error(), "--store") {
		t.Errorf("timeout error gives no way out: %q", err)
	}
	if !strings.Contains(err.Error(), "may still carry out this set") {
		t.Errorf("timeout error on set does not warn that the write may still land: %q", err)
	}
	if strings.Contains(err.Error(), value) {
		t.Error("error message contains the value")
	}
	if se.Name != "acct/credential" || se.Op != "set" || se.Backend != "keyring" {
		t.Errorf("StoreError fields: backend=%q op=%q name=%q", se.Backend, se.Op, se.Name)
	}

	// The diagnosis, when there is one, is part of the cause.
	k.diagnose = func(context.Context) string { return "the keyring collection is locked" }
	_, err = k.Get(context.Background(), "acct/credential")
	if err == nil || !strings.Contains(err.Error(), "timed out after 50ms: the keyring collection is locked") {
		t.Errorf("timeout with a diagnosis: %v", err)
	}

	// Cancellation ends the wait too.
	k.timeout = time.Hour
	ctx, cancel := context.WithCancel(context.Background())
	go func() { time.Sleep(20 * time.Millisecond); cancel() }()
	if err := k.Delete(ctx, "acct/credential"); !errors.Is(err, context.Canceled) {
		t.Errorf("Delete with a cancelled context: %v, want context.Canceled", err)
	}
}

func TestKeyringTimeoutFromEnv(t *testing.T) {
	for v, want := range map[string]time.Duration{"": DefaultKeyringTimeout, "10s": 10 * time.Second, "2": 2 * time.Second, "1.5": 1500 * time.Millisecond} {
		t.Setenv(EnvKeyringTimeout, v)
		got, err := KeyringTimeout()
		if err != nil || got != want {
			t.Errorf("%s=%q: %v, %v; want %v", EnvKeyringTimeout, v, got, err, want)
		}
	}
	for _, v := range []string{"soon", "-1s", "0"} {
		t.Setenv(EnvKeyringTimeout, v)
		if got, err := KeyringTimeout(); err == nil || got != DefaultKeyringTimeout {
			t.Errorf("%s=%q: %v, %v; want an error and the default", EnvKeyringTimeout, v, got, err)
		}
	}
	t.Setenv(EnvKeyringTimeout, "7s")
	if k := NewKeyring(0).(*keyringBackend); k.timeout != 7*time.Second {
		t.Errorf("NewKeyring(0) timeout = %v with %s=7s", k.timeout, EnvKeyringTimeout)
	}
}

func TestKeyringSizeLimit(t *testing.T) {
	for _, goos := range []string{"darwin", "windows", "linux"} {
		t.Run(goos, func(t *testing.T) {
			p := &fakeProvider{}
			k := newKeyring(p, time.Second)
			k.goos, k.preflight, k.diagnose = goos, nil, nil
			name := "prod/command/abc123"
			limit, _ := maxKeyringValue(goos, KeyringService, name)
			if err := k.Set(context.Background(), name, strings.Repeat("x", limit)); err != nil {
				t.Fatalf("value of exactly the limit (%d bytes): %v", limit, err)
			}
			err := k.Set(context.Background(), name, strings.Repeat("y", limit+1))
			var se *StoreError
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), fmt.Sprint(limit)) || !errors.As(err, &se) || se.Other != KindFile {
				t.Fatalf("value over the limit: %v, want ErrTooLarge naming the limit and the way out", err)
			}
			p.mu.Lock()
			defer p.mu.Unlock()
			if p.sets != 1 {
				t.Errorf("the keyring was called %d times; a value over the limit must not reach it", p.sets)
			}
		})
	}
	// macOS: go-keyring refuses a security(1) command line over 4096 bytes;
	// the limit must sit exactly at that edge.
	for _, name := range []string{"a", "prod/command/abc123", strings.Repeat("n", 200)} {
		limit, _ := maxKeyringValue("darwin", KeyringService, name)
		cmdLen := func(n int) int {
			b64 := (n + 2) / 3 * 4
			return len(fmt.Sprintf("add-generic-password -U -s %s -a %s -w %s\n", KeyringService, name, "go-keyring-base64:")) + b64
		}
		if cmdLen(limit) > 4096 || cmdLen(limit+1) <= 4096 {
			t.Errorf("darwin limit for %d-char name = %d: command %d bytes, one more byte %d", len(name), limit, cmdLen(limit), cmdLen(limit+1))
		}
		if limit < 2900 && len(name) < 30 {
			t.Errorf("darwin limit %d is far below the ~3000 bytes expected", limit)
		}
	}
	if l, _ := maxKeyringValue("windows", KeyringService, "x"); l != 2560 {
		t.Errorf("windows limit = %d, want 2560", l)
	}
}

func TestKeyringUnclassifiedError(t *testing.T) {
	// An error the backend cannot name is still reported with the underlying error.
	k := newKeyring(&fakeProvider{err: errors.New("weird failure")}, time.Second)
	k.preflight, k.diagnose = nil, nil
	err := k.Set(context.Background(), "a/b", "value-value-value")
	var se *StoreError
	if err == nil || !strings.Contains(err.Error(), "weird failure") || !errors.As(err, &se) || se.Other != KindFile {
		t.Errorf("unclassified error: %v", err)
	}
}
