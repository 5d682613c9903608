package keystore

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
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
	if !strings.Contains(err.Error(), "--store file") || !strings.Contains(err.Error(), "unlock") {
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
			if !errors.Is(err, ErrTooLarge) || !strings.Contains(err.Error(), fmt.Sprint(limit)) || !strings.Contains(err.Error(), "--store file") {
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

func TestKeyringClassify(t *testing.T) {
	cases := map[string]error{
		"no Secret Service":          dbus.Error{Name: "org.freedesktop.DBus.Error.ServiceUnknown", Body: []any{"The name org.freedesktop.secrets was not provided by any .service files"}},
		"locked":                     errors.New("failed to unlock correct collection '/org/freedesktop/secrets/aliases/default'"),
		"no default collection":      dbus.Error{Name: "org.freedesktop.DBus.Error.UnknownObject"},
		"no D-Bus session":           errors.New("dbus: couldn't determine address of session bus"),
		"the Secret Service did not": dbus.Error{Name: "org.freedesktop.DBus.Error.NoReply"},
	}
	for want, err := range cases {
		cause, _ := classify(err)
		if !strings.Contains(cause, want) {
			t.Errorf("classify(%v) = %q, want it to mention %q", err, cause, want)
		}
	}
	// An error the backend cannot name is still reported with the underlying error.
	k := newKeyring(&fakeProvider{err: errors.New("weird failure")}, time.Second)
	k.preflight, k.diagnose = nil, nil
	err := k.Set(context.Background(), "a/b", "value-value-value")
	if err == nil || !strings.Contains(err.Error(), "weird failure") || !strings.Contains(err.Error(), "--store file") {
		t.Errorf("unclassified error: %v", err)
	}
}

// runKeyringChild runs the test binary's TestHelperKeyringChild with env
// and returns the single line it prints: the error of one keyring Set.
func runKeyringChild(t *testing.T, env []string, wrap ...string) string {
	t.Helper()
	args := append(wrap, os.Args[0], "-test.run=^TestHelperKeyringChild$", "-test.count=1", "-test.v")
	cmd := exec.Command(args[0], args[1:]...)
	cmd.Env = append(os.Environ(), env...)
	cmd.Env = append(cmd.Env, "KEYTURN_KEYRING_CHILD=1")
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	go func() { <-ctx.Done(); _ = cmd.Process.Kill() }()
	out, err := cmd.CombinedOutput()
	sc := bufio.NewScanner(bytes.NewReader(out))
	for sc.Scan() {
		if line, ok := strings.CutPrefix(sc.Text(), "CHILD-RESULT: "); ok {
			t.Logf("the child's error: %s", line) // errors never hold the value
			return line
		}
	}
	t.Fatalf("child printed no result (err %v):\n%s", err, out)
	return ""
}

// TestHelperKeyringChild is not a test: it is the child process that the
// no-D-Bus, no-Secret-Service and locked tests run, with its own environment
// (godbus reads the bus address once per process).
func TestHelperKeyringChild(t *testing.T) {
	if os.Getenv("KEYTURN_KEYRING_CHILD") != "1" {
		t.Skip("helper process for the keyring failure tests")
	}
	if os.Getenv("KEYTURN_KEYRING_CHILD_START") == "gnome-keyring" {
		cmd := exec.Command("gnome-keyring-daemon", "--unlock", "--components=secrets")
		cmd.Stdin = strings.NewReader("test-password")
		if out, err := cmd.CombinedOutput(); err != nil {
			fmt.Printf("CHILD-RESULT: setup: start gnome-keyring: %v %s\n", err, out)
			return
		}
		if err := lockDefaultCollection(); err != nil {
			fmt.Printf("CHILD-RESULT: setup: lock: %v\n", err)
			return
		}
	}
	k := NewKeyring(2 * time.Second)
	err := k.Set(context.Background(), "child/credential", "child-secret-value-123456")
	fmt.Printf("CHILD-RESULT: %v\n", err)
}

func lockDefaultCollection() error {
	conn, err := dbus.SessionBus()
	if err != nil {
		return err
	}
	var locked []dbus.ObjectPath
	var prompt dbus.ObjectPath
	return conn.Object(secretsBusName, "/org/freedesktop/secrets").Call("org.freedesktop.Secret.Service.Lock", 0,
		[]dbus.ObjectPath{"/org/freedesktop/secrets/aliases/default"}).Store(&locked, &prompt)
}

func TestKeyringNoDBusSession(t *testing.T) {
	t.Run("empty address", func(t *testing.T) {
		if _, err := os.Stat(fmt.Sprintf("/run/user/%d/bus", os.Getuid())); err == nil {
			t.Skip("this user has a session bus at /run/user/UID/bus, which godbus finds without DBUS_SESSION_BUS_ADDRESS")
		}
		res := runKeyringChild(t, []string{"DBUS_SESSION_BUS_ADDRESS="})
		if !strings.Contains(res, "no D-Bus session") || !strings.Contains(res, "--store file") || !strings.Contains(res, "DBUS_SESSION_BUS_ADDRESS is not set") {
			t.Errorf("with no session bus: %q, want the cause \"no D-Bus session\" and the way out", res)
		}
	})
	t.Run("dead address", func(t *testing.T) {
		res := runKeyringChild(t, []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(t.TempDir(), "no-bus")})
		if !strings.Contains(res, "no D-Bus session") || !strings.Contains(res, "--store file") {
			t.Errorf("with a dead bus address: %q, want the cause \"no D-Bus session\" and the way out", res)
		}
	})
}

// TestKeyringNoSecretService runs a private session bus that knows of no
// Secret Service.
func TestKeyringNoSecretService(t *testing.T) {
	daemon, err := exec.LookPath("dbus-daemon")
	if err != nil {
		skipOrFail(t, "dbus-daemon not installed (Debian: dbus)")
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "session.conf")
	sock := filepath.Join(dir, "bus")
	os.WriteFile(conf, []byte(`<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig><type>session</type><listen>unix:path=`+sock+`</listen>
<policy context="default"><allow send_destination="*" eavesdrop="true"/><allow eavesdrop="true"/><allow own="*"/></policy>
</busconfig>`), 0o600)
	cmd := exec.Command(daemon, "--config-file="+conf, "--nofork", "--print-address")
	stdout, _ := cmd.StdoutPipe()
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	res := runKeyringChild(t, []string{"DBUS_SESSION_BUS_ADDRESS=" + strings.TrimSpace(line)})
	if !strings.Contains(res, "no Secret Service") || !strings.Contains(res, "--store file") {
		t.Errorf("with no Secret Service: %q, want the cause \"no Secret Service\" and the way out", res)
	}
}

// TestKeyringLocked runs gnome-keyring in a private D-Bus session, locks its
// collection, and expects a Set to fail naming the locked collection.
func TestKeyringLocked(t *testing.T) {
	drs, err1 := exec.LookPath("dbus-run-session")
	_, err2 := exec.LookPath("gnome-keyring-daemon")
	if err1 != nil || err2 != nil {
		skipOrFail(t, "dbus-run-session or gnome-keyring-daemon not installed (Debian: dbus, gnome-keyring)")
	}
	dir := t.TempDir()
	res := runKeyringChild(t, []string{
		"KEYTURN_KEYRING_CHILD_START=gnome-keyring",
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"),
		"XDG_RUNTIME_DIR=" + dir,
		"HOME=" + dir, // gnome-keyring may fall back to ~/.cache for its control socket
	}, drs, "--")
	if strings.HasPrefix(res, "setup:") {
		t.Fatalf("could not set up a locked keyring: %s", res)
	}
	if !strings.Contains(res, "locked") || !strings.Contains(res, "unlock your keyring") {
		t.Errorf("with a locked collection: %q, want the cause to say it is locked and the way out", res)
	}
}
