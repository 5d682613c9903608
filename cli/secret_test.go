package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"keyturn/keystore"
)

// secretCLI runs keyturn in-process with env as its whole environment.
func secretCLI(t *testing.T, env map[string]string, stdin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errb bytes.Buffer
	streams := IO{In: strings.NewReader(stdin), Out: &out, Err: &errb, Getenv: func(k string) string { return env[k] }}
	code = Execute(context.Background(), args, streams)
	return code, out.String(), errb.String()
}

const secretCLIValue = "imported-token-0123456789abcdefWXYZ"

func TestSecretCommandsFileStore(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{keystore.EnvPassphrase: "cli test passphrase"}
	base := []string{"--config", filepath.Join(dir, "config.json"), "--store", "file", "--store-file", filepath.Join(dir, "secrets.enc")}
	run := func(stdin string, args ...string) (int, string, string) {
		return secretCLI(t, env, stdin, append(append([]string{}, base...), args...)...)
	}

	code, out, errOut := run(secretCLIValue+"\n", "secret", "set", "work/pat", "--account", "work", "--kind", "pat", "--expires", "2030-01-31")
	if code != 0 || !strings.Contains(out, "stored work/pat in the file store, ends with WXYZ") {
		t.Fatalf("secret set: exit %d, out %q, err %q", code, out, errOut)
	}
	if strings.Contains(out+errOut, secretCLIValue) {
		t.Fatal("secret set printed the value")
	}
	code, out, _ = run("", "secret", "get", "work/pat")
	if code != 0 || out != secretCLIValue {
		t.Fatalf("secret get: exit %d, value matches=%v (want the value alone, no newline off a terminal)", code, out == secretCLIValue)
	}
	code, out, errOut = run("", "secret", "list")
	if code != 0 || !strings.Contains(out, "work/pat") || !strings.Contains(out, "WXYZ") || !strings.Contains(out, "2030-01-31") || strings.Contains(out, "MISSING") {
		t.Fatalf("secret list: exit %d\n%s%s", code, out, errOut)
	}
	if strings.Contains(out, secretCLIValue) {
		t.Fatal("secret list printed a value")
	}
	code, out, _ = run("", "secret", "list", "--json")
	var entries []keystore.Entry
	if code != 0 || json.Unmarshal([]byte(out), &entries) != nil || len(entries) != 1 || entries[0].Account != "work" ||
		entries[0].Kind != "pat" || entries[0].Missing || entries[0].Expires == nil {
		t.Fatalf("secret list --json: exit %d\n%s", code, out)
	}

	// The value goes behind the index's back: list reports it.
	fb := keystore.NewFile(filepath.Join(dir, "secrets.enc"), func() ([]byte, error) { return []byte("cli test passphrase"), nil })
	if err := fb.Delete(context.Background(), "work/pat"); err != nil {
		t.Fatal(err)
	}
	code, out, errOut = run("", "secret", "list")
	if code != 0 || !strings.Contains(out, "MISSING") || !strings.Contains(errOut, "missing from the file store") {
		t.Fatalf("secret list with a missing value: exit %d\n%s%s", code, out, errOut)
	}
	code, _, errOut = run("", "secret", "get", "work/pat")
	if code != 1 || !strings.Contains(errOut, "not in the file store") {
		t.Fatalf("secret get of a missing value: exit %d, %q", code, errOut)
	}

	// delete asks; with no terminal it refuses and says --yes.
	code, _, errOut = run("", "secret", "delete", "work/pat")
	if code != ExitUsage || !strings.Contains(errOut, "--yes") {
		t.Fatalf("secret delete without --yes off a terminal: exit %d, %q", code, errOut)
	}
	code, out, _ = run("", "secret", "delete", "work/pat", "--yes")
	if code != 0 || !strings.Contains(out, "deleted work/pat") {
		t.Fatalf("secret delete --yes (index-only entry): exit %d, %q", code, out)
	}
	code, _, errOut = run("", "secret", "delete", "work/pat", "--yes")
	if code != 1 || !strings.Contains(errOut, "not in the file store") {
		t.Fatalf("secret delete of an unknown name: exit %d, %q", code, errOut)
	}

	// Usage and input errors.
	if code, _, _ := run("", "secret", "get", "../etc"); code != ExitUsage {
		t.Errorf("bad name: exit %d, want %d", code, ExitUsage)
	}
	if code, _, _ := run("", "secret", "get"); code != ExitUsage {
		t.Errorf("missing NAME: exit %d, want %d", code, ExitUsage)
	}
	if code, _, errOut := run("", "secret", "set", "a/b"); code != 1 || !strings.Contains(errOut, "no value on stdin") {
		t.Errorf("set with empty stdin: exit %d, %q", code, errOut)
	}

	// A wrong passphrase is a clear error, and the file is left alone.
	run(secretCLIValue, "secret", "set", "work/other")
	before, _ := os.ReadFile(filepath.Join(dir, "secrets.enc"))
	env[keystore.EnvPassphrase] = "not the passphrase"
	code, _, errOut = run("another-value-0000000000", "secret", "set", "work/other")
	if code != 1 || !strings.Contains(errOut, "wrong passphrase") {
		t.Errorf("set with a wrong passphrase: exit %d, %q", code, errOut)
	}
	after, _ := os.ReadFile(filepath.Join(dir, "secrets.enc"))
	if !bytes.Equal(before, after) {
		t.Error("the secrets file changed under a wrong passphrase")
	}
}

// TestSecretSetSeenBySecretTool: after `keyturn secret set` on the keyring,
// `secret-tool search service keyturn` sees the item.
func TestSecretSetSeenBySecretTool(t *testing.T) {
	required := os.Getenv("KEYTURN_TEST_KEYRING") == "1"
	skip := func(format string, args ...any) {
		t.Helper()
		if required {
			t.Fatalf(format+" (KEYTURN_TEST_KEYRING=1 requires it)", args...)
		}
		t.Skipf(format+"; run under dbus-run-session with gnome-keyring unlocked (see keystore/with-keyring.sh)", args...)
	}
	tool, err := exec.LookPath("secret-tool")
	if err != nil {
		skip("secret-tool not installed (Debian: libsecret-tools)")
	}
	probe := keystore.NewKeyring(5 * time.Second)
	if _, err := probe.Get(context.Background(), "keyturn-test/cli-probe"); err != nil && !errors.Is(err, keystore.ErrNotFound) {
		skip("no usable keyring: %v", err)
	}
	dir := t.TempDir()
	env := map[string]string{}
	name := fmt.Sprintf("keyturn-test/cli-%d", time.Now().UnixNano())
	t.Cleanup(func() { _ = probe.Delete(context.Background(), name) })
	base := []string{"--config", filepath.Join(dir, "config.json"), "--store", "keyring"}
	run := func(stdin string, args ...string) (int, string, string) {
		return secretCLI(t, env, stdin, append(append([]string{}, base...), args...)...)
	}
	if code, out, errOut := run(secretCLIValue, "secret", "set", name); code != 0 {
		t.Fatalf("secret set: exit %d %q %q", code, out, errOut)
	}
	out, err := exec.Command(tool, "search", "--all", "service", "keyturn", "username", name).CombinedOutput()
	if err != nil || !bytes.Contains(out, []byte("attribute.username = "+name)) {
		t.Fatalf("secret-tool search service keyturn does not see %s (err %v)", name, err)
	}
	if code, out, _ := run("", "secret", "get", name); code != 0 || out != secretCLIValue {
		t.Fatalf("secret get: exit %d, value matches=%v", code, out == secretCLIValue)
	}
	if code, out, _ := run("", "secret", "list"); code != 0 || !strings.Contains(out, name) {
		t.Fatalf("secret list: exit %d\n%s", code, out)
	}
	if code, _, errOut := run("", "secret", "delete", "--yes", name); code != 0 {
		t.Fatalf("secret delete: exit %d %q", code, errOut)
	}
	if out, _ := exec.Command(tool, "search", "--all", "service", "keyturn", "username", name).CombinedOutput(); bytes.Contains(out, []byte(name)) {
		t.Error("the item is still in the keyring after secret delete")
	}
}

// TestNewFileStorePassphraseIsConfirmed: creating the secrets file from a
// terminal asks for its passphrase twice, and two different answers write
// nothing; an existing file asks once; KEYTURN_FILE_PASSPHRASE needs no
// confirmation.
func TestNewFileStorePassphraseIsConfirmed(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "secrets.enc")
	env := map[string]string{}
	tty := func(typed ...string) (code int, stderr string, prompts []string) {
		t.Helper()
		var out, errb bytes.Buffer
		streams := IO{In: strings.NewReader(""), Out: &out, Err: &errb, InTerminal: true,
			Getenv: func(k string) string { return env[k] },
			ReadSecret: func(prompt string) (string, error) {
				prompts = append(prompts, prompt)
				if len(typed) == 0 {
					return "", io.EOF
				}
				s := typed[0]
				typed = typed[1:]
				return s, nil
			}}
		args := []string{"--config", filepath.Join(dir, "config.json"), "--store", "file", "--store-file", file, "secret", "set", "work/pat"}
		code = Execute(context.Background(), args, streams)
		return code, errb.String(), prompts
	}

	// A typo in the confirmation: a clear error, and no file.
	code, errOut, prompts := tty(secretCLIValue, "first passphrase", "frist passphrase")
	if code != ExitFailure || !strings.Contains(errOut, "the two passphrases differ") || !strings.Contains(errOut, "nothing was written") {
		t.Fatalf("mismatched confirmation: exit %d, %q", code, errOut)
	}
	if len(prompts) != 3 || !strings.Contains(prompts[2], "again") {
		t.Fatalf("prompts %q: want the value, the passphrase and its confirmation", prompts)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("the secrets file was created from an unconfirmed passphrase (stat: %v)", err)
	}
	if strings.Contains(errOut, "passphrase\"") || strings.Contains(errOut, "first passphrase") || strings.Contains(errOut, "frist") {
		t.Fatalf("the error shows what was typed: %q", errOut)
	}

	// The same passphrase twice creates it, and it opens with that one.
	if code, errOut, prompts = tty(secretCLIValue, "first passphrase", "first passphrase"); code != 0 || len(prompts) != 3 {
		t.Fatalf("confirmed passphrase: exit %d, %q, prompts %q", code, errOut, prompts)
	}
	fb := keystore.NewFile(file, func() ([]byte, error) { return []byte("first passphrase"), nil })
	if v, err := fb.Get(context.Background(), "work/pat"); err != nil || v != secretCLIValue {
		t.Fatalf("the new file does not open with the confirmed passphrase: %v", err)
	}

	// An existing file is opened with one prompt: it checks the passphrase.
	if code, errOut, prompts = tty(secretCLIValue, "first passphrase"); code != 0 || len(prompts) != 2 {
		t.Fatalf("existing file: exit %d, %q, prompts %q", code, errOut, prompts)
	}

	// Off a terminal, with no passphrase in the environment: a clear error.
	file = filepath.Join(dir, "other.enc")
	code, _, errOut = secretCLI(t, env, secretCLIValue, "--config", filepath.Join(dir, "config.json"), "--store", "file", "--store-file", file, "secret", "set", "work/pat")
	if code != ExitFailure || !strings.Contains(errOut, "set "+keystore.EnvPassphrase) {
		t.Fatalf("no terminal, no %s: exit %d, %q", keystore.EnvPassphrase, code, errOut)
	}
	if _, err := os.Stat(file); !errors.Is(err, os.ErrNotExist) {
		t.Fatal("a secrets file was created with no passphrase")
	}

	// From the environment, a new file needs no confirmation.
	env[keystore.EnvPassphrase] = "env passphrase"
	if code, errOut, prompts = tty(secretCLIValue); code != 0 || len(prompts) != 1 {
		t.Fatalf("new file with %s: exit %d, %q, prompts %q", keystore.EnvPassphrase, code, errOut, prompts)
	}
}

// TestTUIFileStoreWaitsForTheDialog: for the interactive app, the file
// store waits for the passphrase dialog unless KEYTURN_FILE_PASSPHRASE gives
// it; commands keep the prompt.
func TestTUIFileStoreWaitsForTheDialog(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		tui, env bool
		locked   bool
	}{{tui: true, locked: true}, {tui: true, env: true}, {}} {
		env := map[string]string{}
		if tc.env {
			env[keystore.EnvPassphrase] = "from the environment"
		}
		a := newApp(IO{Getenv: func(k string) string { return env[k] }, InTerminal: true, ReadSecret: func(string) (string, error) { return "", io.EOF }})
		a.flags.config = filepath.Join(dir, "config.json")
		a.flags.store, a.flags.storeFile = keystore.KindFile, filepath.Join(dir, "secrets.enc")
		a.unlockInTUI = tc.tui
		mgr, err := a.manager(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if u := mgr.Vault().Unlocker(); (u != nil && u.Locked()) != tc.locked {
			t.Errorf("tui %v, env %v: store waits for a dialog = %v, want %v", tc.tui, tc.env, u != nil, tc.locked)
		}
		a.close()
	}
}
