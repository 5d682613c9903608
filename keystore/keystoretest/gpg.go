package keystoretest

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// NeedPassTools skips the test when gpg, git or pass is missing, or fails
// it under CI (CI installs them: .ci/run).
func NeedPassTools(t testing.TB) {
	t.Helper()
	for _, prog := range []string{"gpg", "gpgconf", "git", "pass"} {
		if _, err := exec.LookPath(prog); err != nil {
			if os.Getenv("CI") != "" {
				t.Fatalf("%s is not installed (CI installs pass, gnupg and git)", prog)
			}
			t.Skipf("%s is not installed", prog)
		}
	}
}

// Operator is one person of a team sharing a pass store: a HOME and a
// GNUPGHOME of their own, a key with no passphrase (none ever asked), and
// a pass store at Store once Init or Clone has made it.
type Operator struct {
	t           testing.TB
	Name        string
	Home        string // HOME, with Store inside
	GNUPGHome   string
	Store       string // PASSWORD_STORE_DIR
	Fingerprint string
}

// NewOperator makes an operator under a short /tmp directory (gpg-agent's
// socket path has a length limit) and kills their agent when the test ends.
func NewOperator(t testing.TB, name string) *Operator {
	t.Helper()
	NeedPassTools(t)
	root, err := os.MkdirTemp("/tmp", "kt"+name)
	if err != nil {
		t.Fatal(err)
	}
	o := &Operator{t: t, Name: name, Home: root, GNUPGHome: filepath.Join(root, "g"), Store: filepath.Join(root, "store")}
	if err := os.Mkdir(o.GNUPGHome, 0o700); err != nil {
		t.Fatal(err)
	}
	gitconfig := fmt.Sprintf("[user]\n\tname = %s\n\temail = %s\n[init]\n\tdefaultBranch = main\n", name, o.Email(name))
	if err := os.WriteFile(filepath.Join(root, ".gitconfig"), []byte(gitconfig), 0o600); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		o.Run("", "gpgconf", "--kill", "gpg-agent")
		os.RemoveAll(root)
	})
	o.Fingerprint = o.GenKey(name, "")
	return o
}

// Email is the operator's key's address.
func (o *Operator) Email(name string) string { return name + "@keyturn.test" }

// GenKey makes a key for name with no passphrase; expire is gpg's
// Expire-Date ("" never). extra are more gpg options (--faked-system-time).
func (o *Operator) GenKey(name, expire string, extra ...string) string {
	o.t.Helper()
	if expire == "" {
		expire = "0"
	}
	spec := fmt.Sprintf("%%no-protection\nKey-Type: eddsa\nKey-Curve: ed25519\nSubkey-Type: ecdh\nSubkey-Curve: cv25519\nName-Real: %s\nName-Email: %s\nExpire-Date: %s\n%%commit\n",
		name, o.Email(name), expire)
	o.Run(spec, "gpg", append(append([]string{"--batch"}, extra...), "--gen-key")...)
	out := o.Run("", "gpg", "--batch", "--with-colons", "--list-keys", o.Email(name))
	for _, line := range strings.Split(out, "\n") {
		if f := strings.Split(line, ":"); len(f) > 9 && f[0] == "fpr" {
			return f[9]
		}
	}
	o.t.Fatalf("no fingerprint for %s in %q", name, out)
	return ""
}

// Env is the operator's environment: what keyturn, gpg, git and pass see.
func (o *Operator) Env() map[string]string {
	return map[string]string{"HOME": o.Home, "GNUPGHOME": o.GNUPGHome, "PASSWORD_STORE_DIR": o.Store,
		"PATH": os.Getenv("PATH"), "GIT_CONFIG_NOSYSTEM": "1"}
}

// Getenv reads Env.
func (o *Operator) Getenv(k string) string { return o.Env()[k] }

// Run runs a program as the operator and returns its stdout; a failure
// fails the test.
func (o *Operator) Run(stdin, prog string, args ...string) string {
	o.t.Helper()
	out, err := o.Try(stdin, prog, args...)
	if err != nil {
		o.t.Fatalf("%s %s: %v", prog, strings.Join(args, " "), err)
	}
	return out
}

// Try is Run that returns the failure (with stderr) instead.
func (o *Operator) Try(stdin, prog string, args ...string) (string, error) {
	cmd := exec.Command(prog, args...)
	for k, v := range o.Env() {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	cmd.Env = append(cmd.Env, "LC_ALL=C")
	cmd.Dir = o.Home
	cmd.Stdin = strings.NewReader(stdin)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return out.String(), fmt.Errorf("%w: %s", err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

// Trust imports other's public key and signs it locally, as a member does
// after checking a new member's fingerprint.
func (o *Operator) Trust(other *Operator) {
	o.t.Helper()
	pub := other.Run("", "gpg", "--batch", "--armor", "--export", other.Fingerprint)
	o.Run(pub, "gpg", "--batch", "--import")
	o.Run("", "gpg", "--batch", "--yes", "--quick-lsign-key", other.Fingerprint)
}

// Init makes the operator's pass store for these members' keys, a git
// repository (pass git init) that pushes to remote if given.
func (o *Operator) Init(remote string, members ...*Operator) {
	o.t.Helper()
	args := []string{"init"}
	for _, m := range members {
		args = append(args, m.Fingerprint)
	}
	o.Run("", "pass", args...)
	o.Run("", "pass", "git", "init")
	if remote != "" {
		o.Run("", "pass", "git", "remote", "add", "origin", remote)
	}
}

// Clone makes the operator's store a clone of remote (how a member joins).
func (o *Operator) Clone(remote string) {
	o.t.Helper()
	o.Run("", "git", "clone", "-q", remote, o.Store)
}

// BareRemote makes an empty bare git repository for a team to share.
func BareRemote(t testing.TB) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), "team.git")
	if out, err := exec.Command("git", "init", "-q", "--bare", "--initial-branch=main", dir).CombinedOutput(); err != nil {
		t.Fatalf("git init --bare: %v: %s", err, out)
	}
	return dir
}
