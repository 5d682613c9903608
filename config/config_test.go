package config

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

func TestDefaultPath(t *testing.T) {
	t.Setenv(EnvPath, "/some/where/cfg.json")
	p, err := DefaultPath()
	if err != nil || p != "/some/where/cfg.json" {
		t.Fatalf("DefaultPath with %s set = %q, %v", EnvPath, p, err)
	}
	t.Setenv(EnvPath, "")
	t.Setenv("XDG_CONFIG_HOME", "/xdg")
	t.Setenv("HOME", "/home/x")
	p, err = DefaultPath()
	if err != nil {
		t.Fatal(err)
	}
	if filepath.Base(p) != "config.json" || filepath.Base(filepath.Dir(p)) != "keyturn" {
		t.Fatalf("DefaultPath = %q, want …/keyturn/config.json", p)
	}
}

func TestLoadMissingIsEmpty(t *testing.T) {
	f := Open(filepath.Join(t.TempDir(), "nope", "config.json"))
	c, err := f.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Version != Version || len(c.Accounts) != 0 || len(c.Secrets) != 0 || c.Store != "" {
		t.Fatalf("Load of a missing file = %+v, want an empty version-%d config", c, Version)
	}
	if _, err := os.Stat(f.Path); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("Load created the file (stat err %v)", err)
	}
}

func TestRoundTrip(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "sub", "keyturn")
	f := Open(filepath.Join(dir, "config.json"))
	created := time.Date(2025, 1, 2, 3, 4, 5, 0, time.UTC)
	rotated := created.Add(time.Hour)
	want := Account{Name: "cap", Service: "capillary", URL: "https://eu.api.example.com", User: "me",
		Brand: "b", DeviceID: "d", IdentifierType: "MOBILE", Identifier: "9199", Region: "eu",
		InsecureHTTP: true, CAFile: "/ca.pem"}
	meta := SecretMeta{Name: "cap/credential", Account: "cap", Kind: "auth-key", ID: "42",
		Created: created, Rotated: &rotated, Fingerprint: "wxyz"}
	err := f.Update(func(c *Config) error {
		c.Store = "file"
		c.StoreFile = "/x/secrets.enc"
		c.PutAccount(want)
		c.PutSecret(meta)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	c, err := f.Load()
	if err != nil {
		t.Fatal(err)
	}
	if c.Store != "file" || c.StoreFile != "/x/secrets.enc" || c.Version != Version {
		t.Fatalf("store fields after round trip: %+v", c)
	}
	got, ok := c.Account("cap")
	if !ok || *got != want {
		t.Fatalf("account after round trip = %+v, want %+v", got, want)
	}
	m, ok := c.Secret("cap/credential")
	if !ok || m.Name != meta.Name || m.Kind != meta.Kind || m.ID != meta.ID || !m.Created.Equal(created) ||
		m.Rotated == nil || !m.Rotated.Equal(rotated) || m.Expires != nil || m.Fingerprint != "wxyz" {
		t.Fatalf("secret meta after round trip = %+v", m)
	}

	raw, err := os.ReadFile(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{`"device_id"`, `"identifier_type"`, `"insecure_http"`, `"ca_file"`, `"store_file"`, `"fingerprint"`} {
		if !bytes.Contains(raw, []byte(key)) {
			t.Errorf("config file lacks the json key %s", key)
		}
	}
	if bytes.Contains(raw, []byte(`"expires"`)) {
		t.Errorf("config file has an expires key for a secret that has none")
	}

	// Helpers: remove.
	if err := f.Update(func(c *Config) error {
		if !c.RemoveSecret("cap/credential") || c.RemoveSecret("cap/credential") {
			t.Error("RemoveSecret did not report presence correctly")
		}
		if !c.RemoveAccount("cap") || c.RemoveAccount("cap") {
			t.Error("RemoveAccount did not report presence correctly")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	c, _ = f.Load()
	if len(c.Accounts) != 0 || len(c.Secrets) != 0 {
		t.Fatalf("after removing, config = %+v", c)
	}
	raw, _ = os.ReadFile(f.Path)
	if !bytes.Contains(raw, []byte(`"accounts": []`)) || !bytes.Contains(raw, []byte(`"secrets": []`)) {
		t.Errorf("empty lists are not written as []: %s", raw)
	}
}

func TestPermissions(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("POSIX permissions")
	}
	dir := filepath.Join(t.TempDir(), "keyturn")
	f := Open(filepath.Join(dir, "config.json"))
	if err := f.Update(func(c *Config) error { c.Store = "keyring"; return nil }); err != nil {
		t.Fatal(err)
	}
	st, err := os.Stat(f.Path)
	if err != nil {
		t.Fatal(err)
	}
	if st.Mode().Perm() != 0o600 {
		t.Errorf("config file mode = %v, want 0600", st.Mode().Perm())
	}
	dst, err := os.Stat(dir)
	if err != nil {
		t.Fatal(err)
	}
	if dst.Mode().Perm() != 0o700 {
		t.Errorf("config dir mode = %v, want 0700", dst.Mode().Perm())
	}
	// A file that was made world-readable by hand is tightened on the next write.
	if err := os.Chmod(f.Path, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := f.Update(func(c *Config) error { return nil }); err != nil {
		t.Fatal(err)
	}
	st, _ = os.Stat(f.Path)
	if st.Mode().Perm() != 0o600 {
		t.Errorf("config file mode after rewrite = %v, want 0600", st.Mode().Perm())
	}
	// No temporary files are left behind.
	ents, _ := os.ReadDir(dir)
	for _, e := range ents {
		if strings.Contains(e.Name(), ".tmp-") {
			t.Errorf("temporary file left behind: %s", e.Name())
		}
	}
}

func TestDamagedFileReportedAndUntouched(t *testing.T) {
	for name, content := range map[string]string{
		"truncated":  "{\n  \"version\": 1,\n  \"accounts\": [",
		"garbage":    "\x00\x01not json",
		"wrong type": `{"version": 1, "accounts": {"name": "x"}}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "config.json")
			if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
				t.Fatal(err)
			}
			f := Open(path)
			_, err := f.Load()
			if !errors.Is(err, ErrDamaged) || !strings.Contains(err.Error(), path) {
				t.Fatalf("Load of a damaged file: err = %v, want ErrDamaged naming %s", err, path)
			}
			called := false
			err = f.Update(func(c *Config) error { called = true; c.Store = "file"; return nil })
			if !errors.Is(err, ErrDamaged) {
				t.Fatalf("Update of a damaged file: err = %v, want ErrDamaged", err)
			}
			if called {
				t.Error("Update called fn on a damaged file")
			}
			got, _ := os.ReadFile(path)
			if string(got) != content {
				t.Errorf("damaged file was changed")
			}
		})
	}
}

func TestNewerVersionNotRewritten(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	content := `{"version": 99, "accounts": [], "secrets": []}`
	os.WriteFile(path, []byte(content), 0o600)
	f := Open(path)
	if _, err := f.Load(); err != nil {
		t.Fatalf("Load of a newer file: %v (reading is harmless)", err)
	}
	err := f.Update(func(c *Config) error { return nil })
	if !errors.Is(err, ErrNewer) {
		t.Fatalf("Update of a newer file: err = %v, want ErrNewer", err)
	}
	got, _ := os.ReadFile(path)
	if string(got) != content {
		t.Error("newer file was changed")
	}
}

func TestUnknownFieldsTolerated(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	content := `{"version": 1, "theme": {"dark": true}, "accounts": [{"name": "mm", "service": "mattermost", "url": "https://mm", "future": 1}], "secrets": [], "store": "keyring"}`
	os.WriteFile(path, []byte(content), 0o600)
	f := Open(path)
	c, err := f.Load()
	if err != nil {
		t.Fatalf("Load with unknown fields: %v", err)
	}
	if a, ok := c.Account("mm"); !ok || a.Service != "mattermost" || c.Store != "keyring" {
		t.Fatalf("known fields lost: %+v", c)
	}
	// An update keeps unknown top-level fields.
	if err := f.Update(func(c *Config) error { c.Store = "file"; return nil }); err != nil {
		t.Fatal(err)
	}
	raw, _ := os.ReadFile(path)
	if !bytes.Contains(raw, []byte(`"theme"`)) || !bytes.Contains(raw, []byte(`"dark": true`)) {
		t.Errorf("unknown top-level field dropped on rewrite:\n%s", raw)
	}
	c, _ = f.Load()
	if c.Store != "file" {
		t.Errorf("store = %q after update", c.Store)
	}
}

func TestEmptyFileIsEmptyConfig(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	os.WriteFile(path, []byte("  \n"), 0o600)
	c, err := Open(path).Load()
	if err != nil || c.Version != Version {
		t.Fatalf("Load of an empty file = %+v, %v", c, err)
	}
}

func TestUpdateFnErrorWritesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "config.json")
	f := Open(path)
	if err := f.Update(func(c *Config) error { c.Store = "keyring"; return nil }); err != nil {
		t.Fatal(err)
	}
	before, _ := os.ReadFile(path)
	boom := errors.New("boom")
	if err := f.Update(func(c *Config) error { c.Store = "file"; return boom }); !errors.Is(err, boom) {
		t.Fatalf("Update returned %v, want fn's error", err)
	}
	after, _ := os.ReadFile(path)
	if !bytes.Equal(before, after) {
		t.Error("Update wrote although fn failed")
	}
}

func TestHelpers(t *testing.T) {
	c := New()
	c.PutAccount(Account{Name: "a", URL: "u1"})
	c.PutAccount(Account{Name: "b"})
	c.PutAccount(Account{Name: "a", URL: "u2"})
	if len(c.Accounts) != 2 {
		t.Fatalf("PutAccount did not replace: %+v", c.Accounts)
	}
	if a, _ := c.Account("a"); a.URL != "u2" {
		t.Errorf("PutAccount kept the old account: %+v", a)
	}
	if _, ok := c.Account("zz"); ok {
		t.Error("Account found a missing name")
	}
	c.PutSecret(SecretMeta{Name: "a/x", Account: "a"})
	c.PutSecret(SecretMeta{Name: "b/x", Account: "b"})
	c.PutSecret(SecretMeta{Name: "a/x", Account: "a", Kind: "k"})
	if len(c.Secrets) != 2 {
		t.Fatalf("PutSecret did not replace: %+v", c.Secrets)
	}
	if got := c.SecretsOf("a"); len(got) != 1 || got[0].Kind != "k" {
		t.Errorf("SecretsOf(a) = %+v", got)
	}
	// Account returns a pointer that an Update may change in place.
	a, _ := c.Account("b")
	a.User = "changed"
	if b, _ := c.Account("b"); b.User != "changed" {
		t.Error("Account does not return a pointer into the config")
	}
}

// TestConcurrentProcesses runs two child processes that each increment a
// counter in the same config file N times and add N entries of their own; no
// update may be lost.
func TestConcurrentProcesses(t *testing.T) {
	const n = 25
	path := filepath.Join(t.TempDir(), "config.json")
	var cmds []*exec.Cmd
	var outs []*bytes.Buffer
	for id := range 2 {
		cmd := exec.Command(os.Args[0], "-test.run=^TestHelperProcess$", "-test.count=1")
		cmd.Env = append(os.Environ(),
			"KEYTURN_CONFIG_HELPER=1",
			"KEYTURN_CONFIG_HELPER_PATH="+path,
			"KEYTURN_CONFIG_HELPER_ID="+strconv.Itoa(id),
			"KEYTURN_CONFIG_HELPER_N="+strconv.Itoa(n))
		var out bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &out
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		cmds = append(cmds, cmd)
		outs = append(outs, &out)
	}
	for i, cmd := range cmds {
		if err := cmd.Wait(); err != nil {
			t.Fatalf("child %d: %v\n%s", i, err, outs[i])
		}
	}
	c, err := Open(path).Load()
	if err != nil {
		t.Fatal(err)
	}
	counter, ok := c.Secret("counter")
	if !ok {
		t.Fatal("counter entry missing")
	}
	if counter.ID != strconv.Itoa(2*n) {
		t.Errorf("counter = %s after 2×%d increments: updates were lost", counter.ID, n)
	}
	for id := range 2 {
		for i := range n {
			if _, ok := c.Secret(fmt.Sprintf("child%d/%d", id, i)); !ok {
				t.Errorf("entry child%d/%d lost", id, i)
			}
		}
	}
	if len(c.Secrets) != 2*n+1 {
		t.Errorf("%d index entries, want %d", len(c.Secrets), 2*n+1)
	}
}

// TestHelperProcess is not a test: it is the child that TestConcurrentProcesses runs.
func TestHelperProcess(t *testing.T) {
	if os.Getenv("KEYTURN_CONFIG_HELPER") != "1" {
		t.Skip("helper process for TestConcurrentProcesses")
	}
	f := Open(os.Getenv("KEYTURN_CONFIG_HELPER_PATH"))
	id := os.Getenv("KEYTURN_CONFIG_HELPER_ID")
	n, _ := strconv.Atoi(os.Getenv("KEYTURN_CONFIG_HELPER_N"))
	for i := range n {
		err := f.Update(func(c *Config) error {
			m, ok := c.Secret("counter")
			if !ok {
				c.PutSecret(SecretMeta{Name: "counter", ID: "0"})
				m, _ = c.Secret("counter")
			}
			v, err := strconv.Atoi(m.ID)
			if err != nil {
				return err
			}
			m.ID = strconv.Itoa(v + 1)
			c.PutSecret(SecretMeta{Name: fmt.Sprintf("child%s/%d", id, i), Account: "child" + id})
			return nil
		})
		if err != nil {
			t.Fatalf("child %s update %d: %v", id, i, err)
		}
	}
}

// A link planted where the lock file goes is not followed: nothing is
// created or written at its target, and the update says why it stopped.
func TestLockFileLinkIsNotFollowed(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "config.json")
	victim := filepath.Join(dir, "victim")
	if err := os.Symlink(victim, LockPath(path)); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	err := Open(path).Update(func(c *Config) error { return nil })
	if _, serr := os.Lstat(victim); serr == nil {
		t.Fatal("the lock file's link was followed: its target was created")
	}
	if err == nil || !strings.Contains(err.Error(), "symbolic link") {
		t.Fatalf("want an error naming the link, got %v", err)
	}
}
