package keystore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// KindPass is the team store: a pass-compatible directory of gpg files.
const KindPass = "pass"

// EnvPassDir is where pass (and this backend) finds the store.
const EnvPassDir = "PASSWORD_STORE_DIR"

// PassPrefix is the folder of the pass store that holds keyturn's secrets:
// secret NAME is the file keyturn/NAME.gpg, `pass show keyturn/NAME`.
const PassPrefix = "keyturn"

// DefaultPassSyncTimeout bounds a git fetch, rebase or push.
const DefaultPassSyncTimeout = 30 * time.Second

// passPromptTimeout bounds a call that may wait for the person at a
// pinentry on their own terminal (the CLI only).
const passPromptTimeout = 2 * time.Minute

// PassOptions configure NewPass.
type PassOptions struct {
	// Getenv reads the environment (PASSWORD_STORE_DIR, HOME, GNUPGHOME,
	// PATH…); nil means os.Getenv. Children get only what gpg and git need.
	Getenv func(string) string
	// Timeout bounds each store call (gpg and the git commit); 0 means
	// KEYTURN_KEYRING_TIMEOUT, else 5s. SyncTimeout bounds each git
	// command that talks to the remote; 0 means DefaultPassSyncTimeout.
	Timeout, SyncTimeout time.Duration
	// Prompt lets gpg-agent ask for a passphrase on the person's terminal
	// (the CLI on a terminal). Without it no pinentry may run (the TUI
	// owns the terminal; a script has none): a locked key is reported.
	Prompt bool
	// Personal names the secrets that are one person's own (their
	// sign-in credential): written in the store's folder like the
	// others, but kept out of git (.git/info/exclude), never shared.
	Personal func(name string) bool
}

// Pass is the team store: each secret is keyturn/NAME.gpg in a pass store
// (PASSWORD_STORE_DIR, else ~/.password-store), encrypted with gpg to the
// recipients of the nearest .gpg-id, and committed to git when the store
// is a git repository. pass and gopass read and write the same files.
type Pass struct {
	dir string
	o   PassOptions
	// mu keeps this process's writes and git commands one at a time.
	mu sync.Mutex
	// commitErr is the last commit that failed: the files are written and
	// the next commit (or sync) takes them along.
	commitErr error
}

// NewPass opens the pass store the environment names. Nothing is checked
// until the first call: each one names what is missing.
func NewPass(o PassOptions) (*Pass, error) {
	if o.Getenv == nil {
		o.Getenv = os.Getenv
	}
	if o.Timeout <= 0 {
		o.Timeout, _ = KeyringTimeout()
	}
	if o.SyncTimeout <= 0 {
		o.SyncTimeout = DefaultPassSyncTimeout
	}
	dir := o.Getenv(EnvPassDir)
	if dir == "" {
		home := o.Getenv("HOME")
		if home == "" {
			return nil, fmt.Errorf("pass store: neither %s nor HOME is set", EnvPassDir)
		}
		dir = filepath.Join(home, ".password-store")
	}
	return &Pass{dir: dir, o: o}, nil
}

// Name is "pass".
func (p *Pass) Name() string { return KindPass }

// Dir is the pass store's directory.
func (p *Pass) Dir() string { return p.dir }

// Shared marks a store others write to: names in it that this config's
// index lacks are a teammate's secrets, listed as such.
func (p *Pass) Shared() bool { return true }

func (p *Pass) file(name string) string {
	return filepath.Join(p.dir, PassPrefix, filepath.FromSlash(name)+".gpg")
}

func (p *Pass) fail(op, name, cause, hint string, err error) error {
	return &StoreError{Backend: KindPass, Op: op, Name: name, Cause: cause, Hint: hint, Err: err}
}

// Set encrypts value to the nearest .gpg-id's recipients, then commits it.
// A commit that fails does not undo the write: the file is there, and the
// next commit or sync takes it along.
func (p *Pass) Set(ctx context.Context, name, value string) error {
	if err := p.write(ctx, name, value); err != nil {
		return err
	}
	p.commitNow(ctx, "keyturn: store "+name)
	return nil
}

// SetUncommitted is Set without the commit: a batch commits once (Commit).
func (p *Pass) SetUncommitted(ctx context.Context, name, value string) error {
	return p.write(ctx, name, value)
}

// Commit records in git every keyturn file written or deleted since the
// last commit, as one commit.
func (p *Pass) Commit(ctx context.Context, message string) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.commit(ctx, message)
}

func (p *Pass) commitNow(ctx context.Context, message string) {
	p.mu.Lock()
	defer p.mu.Unlock()
	_ = p.commit(ctx, message)
}

func (p *Pass) write(ctx context.Context, name, value string) error {
	if err := ValidName(name); err != nil {
		return p.fail("set", name, "invalid name", "", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	file := p.file(name)
	recipients, idFile, err := p.recipients(filepath.Dir(file))
	if err != nil {
		cause, hint := err.Error(), "run `pass init KEYID…` with each member's key (gpg --list-secret-keys shows yours)"
		if _, lerr := lookPath("pass", p.o.Getenv("PATH")); lerr != nil {
			cause += ", and there is no pass to set it up"
			hint = "install pass (apt install pass), then " + hint
		}
		return p.fail("set", name, cause, hint, withKind(ErrUnavailable, err))
	}
	if err := os.MkdirAll(filepath.Dir(file), 0o700); err != nil {
		return p.fail("set", name, "cannot make its folder", "", withKind(ErrUnavailable, err))
	}
	tmp, err := os.CreateTemp(filepath.Dir(file), ".keyturn-*.tmp")
	if err != nil {
		return p.fail("set", name, "cannot write in the store", "", withKind(ErrUnavailable, err))
	}
	tmpName := tmp.Name()
	tmp.Close()
	defer os.Remove(tmpName) // gone once renamed; a failed write leaves nothing
	args := []string{"--status-fd", "2", "--encrypt", "--no-encrypt-to", "--compress-algo=none", "--output", tmpName}
	for _, r := range recipients {
		args = append(args, "--recipient", r)
	}
	// pass writes the value and a newline; Get drops that one newline.
	_, stderr, err := p.gpg(ctx, p.o.Timeout, strings.NewReader(value+"\n"), args...)
	if err != nil {
		cause, hint := explainEncrypt(stderr, err, idFile)
		return p.fail("set", name, cause, hint, withKind(ErrUnavailable, err))
	}
	if err := p.keepPersonal(name); err != nil {
		return p.fail("set", name, "cannot keep this personal secret out of git", "", withKind(ErrUnavailable, err))
	}
	if err := os.Rename(tmpName, file); err != nil {
		return p.fail("set", name, "cannot put the encrypted file in place", "", withKind(ErrUnavailable, err))
	}
	return nil
}

// recipients reads the nearest .gpg-id from dir up to the store's root,
// as pass does: one key a line, # comments and blank lines ignored.
func (p *Pass) recipients(dir string) ([]string, string, error) {
	root := filepath.Clean(p.dir)
	for d := filepath.Clean(dir); ; d = filepath.Dir(d) {
		idFile := filepath.Join(d, ".gpg-id")
		b, err := os.ReadFile(idFile)
		if err == nil {
			var ids []string
			for _, line := range strings.Split(string(b), "\n") {
				line, _, _ = strings.Cut(line, "#")
				if line = strings.TrimSpace(line); line != "" {
					ids = append(ids, line)
				}
			}
			if len(ids) == 0 {
				return nil, idFile, fmt.Errorf("%s names no key", idFile)
			}
			return ids, idFile, nil
		}
		if !errors.Is(err, fs.ErrNotExist) {
			return nil, idFile, err
		}
		if d == root || len(d) <= len(root) {
			return nil, "", fmt.Errorf("no .gpg-id in %s: the pass store is not set up", root)
		}
	}
}

// Get decrypts the secret. Without Prompt, no pinentry may run: a key
// whose passphrase the agent has not cached is reported, not asked for.
func (p *Pass) Get(ctx context.Context, name string) (string, error) {
	if err := ValidName(name); err != nil {
		return "", p.fail("get", name, "invalid name", "", err)
	}
	file := p.file(name)
	if _, err := os.Stat(file); errors.Is(err, fs.ErrNotExist) {
		return "", notFound(KindPass, "get", name)
	}
	timeout := p.o.Timeout
	if p.o.Prompt {
		timeout = max(timeout, passPromptTimeout)
	}
	out, stderr, err := p.gpg(ctx, timeout, nil, "--status-fd", "2", "--decrypt", file)
	if err != nil {
		cause, hint := explainDecrypt(stderr, err, p.o.Prompt)
		return "", p.fail("get", name, cause, hint, withKind(ErrUnavailable, err))
	}
	return strings.TrimSuffix(string(out), "\n"), nil
}

// Delete removes the secret's file and commits.
func (p *Pass) Delete(ctx context.Context, name string) error {
	if err := ValidName(name); err != nil {
		return p.fail("delete", name, "invalid name", "", err)
	}
	p.mu.Lock()
	defer p.mu.Unlock()
	err := os.Remove(p.file(name))
	if errors.Is(err, fs.ErrNotExist) {
		return notFound(KindPass, "delete", name)
	}
	if err != nil {
		return p.fail("delete", name, "cannot remove its file", "", withKind(ErrUnavailable, err))
	}
	_ = p.commit(ctx, "keyturn: delete "+name)
	return nil
}

// List names every keyturn secret in the store, a teammate's included.
func (p *Pass) List(ctx context.Context) ([]string, error) {
	root := filepath.Join(p.dir, PassPrefix)
	var names []string
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			if errors.Is(err, fs.ErrNotExist) && path == root {
				return filepath.SkipAll
			}
			return err
		}
		if d.IsDir() {
			if d.Name() == ".git" {
				return filepath.SkipDir
			}
			return nil
		}
		rel, err := filepath.Rel(root, path)
		if err != nil || !strings.HasSuffix(rel, ".gpg") || !d.Type().IsRegular() {
			return nil
		}
		if name := filepath.ToSlash(strings.TrimSuffix(rel, ".gpg")); ValidName(name) == nil {
			names = append(names, name)
		}
		return ctx.Err()
	})
	if err != nil {
		return nil, p.fail("list", "", "cannot read the store's folder", "", withKind(ErrUnavailable, err))
	}
	sort.Strings(names)
	return names, nil
}

// gpg runs gpg in batch mode with value (if any) on stdin.
func (p *Pass) gpg(ctx context.Context, timeout time.Duration, stdin io.Reader, args ...string) ([]byte, string, error) {
	base := []string{"--batch", "--yes", "--quiet", "--no-tty"}
	if !p.o.Prompt {
		base = append(base, "--pinentry-mode", "error")
	}
	return p.run(ctx, timeout, stdin, "gpg", append(base, args...)...)
}

// errNoProgram is wrapped when gpg or git is not installed.
var errNoProgram = errors.New("not installed")

// run runs one child with the environment childEnv gives, stdin (or
// nothing), bounded by timeout; it returns stdout and the end of stderr.
// The value only ever travels on stdin.
func (p *Pass) run(ctx context.Context, timeout time.Duration, stdin io.Reader, prog string, args ...string) ([]byte, string, error) {
	path, err := lookPath(prog, p.o.Getenv("PATH"))
	if err != nil {
		return nil, "", fmt.Errorf("%s: %w", prog, errNoProgram)
	}
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Dir = p.dir
	cmd.Env = p.childEnv()
	cmd.Stdin = stdin
	cmd.WaitDelay = time.Second
	detach(cmd)
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &limitedBuffer{b: &errb, n: 16 << 10}
	err = cmd.Run()
	stderr := strings.TrimSpace(errb.String())
	switch {
	case err == nil:
		return out.Bytes(), stderr, nil
	case ctx.Err() == context.DeadlineExceeded:
		return nil, stderr, fmt.Errorf("%s timed out after %s: %w", prog, timeout, context.DeadlineExceeded)
	case ctx.Err() != nil:
		return nil, stderr, fmt.Errorf("%s: %w", prog, ctx.Err())
	}
	return out.Bytes(), stderr, fmt.Errorf("%s: %w", prog, err)
}

// limitedBuffer keeps the first n bytes written to it.
type limitedBuffer struct {
	b *bytes.Buffer
	n int
}

func (l *limitedBuffer) Write(p []byte) (int, error) {
	if room := l.n - l.b.Len(); room > 0 {
		l.b.Write(p[:min(room, len(p))])
	}
	return len(p), nil
}

// passEnvKeep are the variables gpg, its agent and git need; nothing else
// of keyturn's environment (KEYTURN_*, tokens a user exported) reaches them.
var passEnvKeep = []string{"PATH", "HOME", "USER", "LOGNAME", "TMPDIR", "GNUPGHOME", "GPG_AGENT_INFO",
	"XDG_RUNTIME_DIR", "XDG_CONFIG_HOME", EnvPassDir, "SSH_AUTH_SOCK", "GIT_SSH", "GIT_SSH_COMMAND",
	"GIT_CONFIG_GLOBAL", "GIT_CONFIG_NOSYSTEM", "DISPLAY", "WAYLAND_DISPLAY", "DBUS_SESSION_BUS_ADDRESS",
	"SYSTEMROOT", "APPDATA", "LOCALAPPDATA", "USERPROFILE"}

// childEnv is passEnvKeep from the environment, English messages (which
// the causes are read from), and no prompt: git and ssh never ask on a
// terminal, and gpg gets GPG_TTY only when Prompt allows a pinentry there.
func (p *Pass) childEnv() []string {
	var env []string
	for _, k := range passEnvKeep {
		if v := p.o.Getenv(k); v != "" {
			env = append(env, k+"="+v)
		}
	}
	env = append(env, "LC_ALL=C", "LANGUAGE=C", "GIT_TERMINAL_PROMPT=0")
	if p.o.Prompt {
		for _, k := range []string{"GPG_TTY", "TERM"} {
			if v := p.o.Getenv(k); v != "" {
				env = append(env, k+"="+v)
			}
		}
	} else if p.o.Getenv("GIT_SSH_COMMAND") == "" {
		env = append(env, "GIT_SSH_COMMAND=ssh -o BatchMode=yes")
	}
	return env
}

// lookPath finds prog in the PATH the store was given (not necessarily
// this process's).
func lookPath(prog, pathEnv string) (string, error) {
	for _, dir := range filepath.SplitList(pathEnv) {
		if dir == "" {
			continue
		}
		for _, ext := range exeSuffixes {
			f := filepath.Join(dir, prog+ext)
			if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() && isExecutable(st) {
				return f, nil
			}
		}
	}
	return "", exec.ErrNotFound
}

// lastLine is the last line of a child's stderr (gpg's status lines
// aside), for an error message.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimSpace(s), "\n")
	for i := len(lines) - 1; i >= 0; i-- {
		if l := strings.TrimSpace(lines[i]); l != "" && !strings.HasPrefix(l, "[GNUPG:]") {
			return strings.TrimPrefix(l, "gpg: ")
		}
	}
	return ""
}

// holdsKey reports whether gpg's status lines say it found a secret key
// for the message (so a failure is a locked key, not a missing one).
func holdsKey(stderr string) bool { return strings.Contains(stderr, "[GNUPG:] KEY_CONSIDERED") }

// explainDecrypt names why gpg could not decrypt.
func explainDecrypt(stderr string, err error, prompt bool) (cause, hint string) {
	switch {
	case errors.Is(err, errNoProgram):
		return "no gpg", "install GnuPG (apt install gnupg), or use --store keyring or file"
	case errors.Is(err, context.DeadlineExceeded):
		return err.Error() + ": gpg-agent did not answer (it may be waiting for a passphrase at a pinentry nobody sees)",
			"unlock your key outside keyturn first (echo | gpg --clearsign >/dev/null), then try again"
	case errors.Is(err, context.Canceled):
		return "cancelled", ""
	case holdsKey(stderr) && strings.Contains(stderr, "No secret key"),
		strings.Contains(stderr, "No pinentry"), strings.Contains(stderr, "Inappropriate ioctl"),
		strings.Contains(stderr, "Operation cancelled"), strings.Contains(stderr, "problem with the agent"),
		strings.Contains(stderr, "Bad passphrase"):
		if prompt {
			return "agent locked: the key's passphrase was not given", "unlock your key (echo | gpg --clearsign >/dev/null) and try again"
		}
		return "agent locked: the key's passphrase is not cached and gpg-agent would ask for it on a terminal",
			"unlock it outside keyturn first (echo | gpg --clearsign >/dev/null caches it), or use a graphical pinentry or allow-loopback-pinentry"
	case strings.Contains(stderr, "No secret key"):
		return "no secret key: this secret was not encrypted to any key you hold",
			"ask a member to add your key to .gpg-id and re-encrypt (pass init KEYID…), then sync"
	}
	return "gpg could not decrypt it: " + lastLine(stderr), ""
}

// explainEncrypt names why gpg could not encrypt: gpg's status line tells
// a recipient's key missing from expired, revoked or untrusted.
func explainEncrypt(stderr string, err error, idFile string) (cause, hint string) {
	switch {
	case errors.Is(err, errNoProgram):
		return "no gpg", "install GnuPG (apt install gnupg), or use --store keyring or file"
	case errors.Is(err, context.DeadlineExceeded):
		return err.Error() + ": nothing was written", "check that gpg-agent is running (gpgconf --launch gpg-agent), then try again"
	case errors.Is(err, context.Canceled):
		return "cancelled; nothing was written", ""
	}
	reason, id := invalidRecipient(stderr)
	switch {
	case reason == "0" && strings.Contains(stderr, "[GNUPG:] KEYEXPIRED"):
		reason = "5"
	case reason == "0" && strings.Contains(stderr, "[GNUPG:] KEYREVOKED"):
		reason = "4"
	case reason == "0" && (strings.Contains(stderr, "No public key") || strings.Contains(stderr, "No name")):
		reason = "1"
	}
	switch reason {
	case "1":
		return fmt.Sprintf("recipient key missing: %s in %s is not in your keyring", id, idFile),
			"import it (gpg --import MEMBER.asc, or gpg --recv-keys " + id + ") and try again"
	case "5":
		return fmt.Sprintf("recipient key expired: %s in %s", id, idFile),
			"ask its owner to extend it and import it again, or take it out of .gpg-id (pass init)"
	case "4":
		return fmt.Sprintf("recipient key revoked: %s in %s", id, idFile), "take it out of .gpg-id (pass init) and re-encrypt"
	case "10":
		return fmt.Sprintf("recipient key not trusted: %s in %s", id, idFile),
			"check its fingerprint with its owner, then gpg --lsign-key " + id
	case "":
		return "gpg could not encrypt it: " + lastLine(stderr), ""
	}
	return fmt.Sprintf("recipient key unusable: %s in %s (%s)", id, idFile, lastLine(stderr)), ""
}

// invalidRecipient reads gpg's INV_RECP status line: the reason code
// (1 not found, 4 revoked, 5 expired, 10 not trusted…) and the recipient.
func invalidRecipient(stderr string) (reason, id string) {
	for _, line := range strings.Split(stderr, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "[GNUPG:] INV_RECP "); ok {
			reason, id, _ = strings.Cut(rest, " ")
			return reason, id
		}
	}
	return "", ""
}
