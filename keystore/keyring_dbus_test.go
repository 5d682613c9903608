//go:build (dragonfly && cgo) || (freebsd && cgo) || linux || netbsd || openbsd

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
	"testing"
	"time"

	"github.com/godbus/dbus/v5"
)

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
	// The way out to another store is data, not words: print it too.
	other := ""
	var se *StoreError
	if errors.As(err, &se) {
		other = se.Other
	}
	fmt.Printf("CHILD-RESULT: %v [other store: %s]\n", err, other)
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
		if !strings.Contains(res, "no D-Bus session") || !strings.Contains(res, "[other store: file]") || !strings.Contains(res, "DBUS_SESSION_BUS_ADDRESS is not set") {
			t.Errorf("with no session bus: %q, want the cause \"no D-Bus session\" and the way out", res)
		}
	})
	t.Run("dead address", func(t *testing.T) {
		res := runKeyringChild(t, []string{"DBUS_SESSION_BUS_ADDRESS=unix:path=" + filepath.Join(t.TempDir(), "no-bus")})
		if !strings.Contains(res, "no D-Bus session") || !strings.Contains(res, "[other store: file]") {
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
	if !strings.Contains(res, "no Secret Service") || !strings.Contains(res, "[other store: file]") {
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
