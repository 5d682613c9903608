package keystore_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"keyturn/config"
	"keyturn/keystore"
	"keyturn/keystore/keystoretest"
)

// passFor opens the pass store as op, with a timeout generous enough for a
// loaded CI machine, and env overriding op's environment.
func passFor(t *testing.T, op *keystoretest.Operator, env map[string]string) *keystore.Pass {
	t.Helper()
	p, err := keystore.NewPass(keystore.PassOptions{Timeout: 20 * time.Second, SyncTimeout: 20 * time.Second, Getenv: func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return op.Getenv(k)
	}})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func commits(op *keystoretest.Operator) int {
	out, err := op.Try("", "git", "-C", op.Store, "rev-list", "--count", "HEAD")
	if err != nil {
		return 0
	}
	n := 0
	for _, c := range strings.TrimSpace(out) {
		n = n*10 + int(c-'0')
	}
	return n
}

// causeOf is a *StoreError's cause, failing the test for other errors.
func causeOf(t *testing.T, err error) string {
	t.Helper()
	var se *keystore.StoreError
	if !errors.As(err, &se) {
		t.Fatalf("want a *StoreError, got %T: %v", err, err)
	}
	return se.Cause + " | " + se.Hint
}

// TestPassWritesWhatPassReads: a secret is keyturn/NAME.gpg, encrypted to
// the .gpg-id, committed, and pass shows exactly the value; what a
// teammate adds with pass is read and listed.
func TestPassWritesWhatPassReads(t *testing.T) {
	a := keystoretest.NewOperator(t, "alice")
	a.Init("", a)
	p := passFor(t, a, nil)
	ctx := context.Background()
	before := commits(a)
	const name, value = "mm/command/abc%20x", "tok-0123456789abcdefghij"
	if err := p.Set(ctx, name, value); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(a.Store, "keyturn", "mm", "command", "abc%20x.gpg")); err != nil {
		t.Fatal(err)
	}
	if got := strings.TrimSuffix(a.Run("", "pass", "show", "keyturn/"+name), "\n"); got != value {
		t.Fatalf("pass show gave %q", got)
	}
	if got := commits(a); got != before+1 {
		t.Fatalf("%d commits after one write, want %d", got, before+1)
	}
	if got, err := p.Get(ctx, name); err != nil || got != value {
		t.Fatalf("Get = %q, %v", got, err)
	}
	// A value ending in a newline comes back whole.
	if err := p.Set(ctx, "x/multi", "line1\nline2\n"); err != nil {
		t.Fatal(err)
	}
	if got, _ := p.Get(ctx, "x/multi"); got != "line1\nline2\n" {
		t.Fatalf("multi-line value came back as %q", got)
	}
	// A teammate's secret, added with pass itself.
	a.Run("from-pass\n", "pass", "insert", "-m", "keyturn/team/shared")
	if got, err := p.Get(ctx, "team/shared"); err != nil || got != "from-pass" {
		t.Fatalf("Get of a pass-inserted secret = %q, %v", got, err)
	}
	names, err := p.List(ctx)
	if err != nil || strings.Join(names, ",") != "mm/command/abc%20x,team/shared,x/multi" {
		t.Fatalf("List = %v, %v", names, err)
	}
	if _, err := p.Get(ctx, "nope/nope"); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("Get of an absent secret: %v", err)
	}
	n := commits(a)
	if err := p.Delete(ctx, name); err != nil {
		t.Fatal(err)
	}
	if _, err := p.Get(ctx, name); !errors.Is(err, keystore.ErrNotFound) || commits(a) != n+1 {
		t.Fatalf("after Delete: %v, %d commits (want %d)", err, commits(a), n+1)
	}
	if err := p.Delete(ctx, name); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("second Delete: %v", err)
	}
}

// TestPassBatchCommitsOnce: a bulk run's batch is one commit, made on Flush.
func TestPassBatchCommitsOnce(t *testing.T) {
	a := keystoretest.NewOperator(t, "bat")
	a.Init("", a)
	p := passFor(t, a, nil)
	v := keystore.NewVault(p, config.Open(filepath.Join(t.TempDir(), "config.json")))
	ctx := context.Background()
	before := commits(a)
	b := v.Batch()
	for _, n := range []string{"mm/command/a", "mm/command/b", "mm/command/c"} {
		if err := b.Put(ctx, config.SecretMeta{Name: n, Account: "mm", Kind: "command"}, "value-of-"+n); err != nil {
			t.Fatal(err)
		}
	}
	if got := commits(a); got != before {
		t.Fatalf("%d commits before Flush, want %d", got, before)
	}
	if err := b.Flush(ctx); err != nil {
		t.Fatal(err)
	}
	if got := commits(a); got != before+1 {
		t.Fatalf("%d commits after Flush, want %d", got, before+1)
	}
	if got, _ := p.Get(ctx, "mm/command/b"); got != "value-of-mm/command/b" {
		t.Fatalf("batched value: %q", got)
	}
}

// TestPassNamedCauses: each way the pass store fails names its cause and
// the way out, and a failed write leaves no file behind.
func TestPassNamedCauses(t *testing.T) {
	a := keystoretest.NewOperator(t, "cau")
	ctx := context.Background()

	// No .gpg-id: the store is not set up.
	p := passFor(t, a, nil)
	err := p.Set(ctx, "x/y", "v")
	mustCause(t, causeOf(t, err), "no .gpg-id", "pass init")
	// …and no pass to set it up with.
	err = passFor(t, a, map[string]string{"PATH": t.TempDir()}).Set(ctx, "x/y", "v")
	mustCause(t, causeOf(t, err), "no .gpg-id", "no pass to set it up", "apt install pass")
	a.Init("", a)

	// No gpg on the PATH.
	err = passFor(t, a, map[string]string{"PATH": t.TempDir()}).Set(ctx, "x/y", "v")
	mustCause(t, causeOf(t, err), "no gpg", "install GnuPG")
	_, err = passFor(t, a, map[string]string{"PATH": t.TempDir()}).Get(ctx, "x/none")
	if !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("absent secret with no gpg: %v", err)
	}

	// A recipient whose key is not in the keyring.
	sub := filepath.Join(a.Store, "keyturn", "team")
	if err := os.MkdirAll(sub, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(sub, ".gpg-id"), []byte(a.Fingerprint+"\n# the new member\nghost@keyturn.test\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	err = p.Set(ctx, "team/x", "v")
	mustCause(t, causeOf(t, err), "recipient key missing: ghost@keyturn.test", "gpg --import")
	if ents, _ := os.ReadDir(sub); len(ents) != 1 {
		t.Fatalf("a failed write left files: %v", ents)
	}

	// An expired recipient key.
	old := a.GenKey("old", "1d", "--faked-system-time", "20200101T000000")
	if err := os.WriteFile(filepath.Join(sub, ".gpg-id"), []byte(old+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustCause(t, causeOf(t, p.Set(ctx, "team/x", "v")), "recipient key expired: "+old)

	// A teammate's key imported but never checked (signed).
	b := keystoretest.NewOperator(t, "cbo")
	a.Run(b.Run("", "gpg", "--batch", "--armor", "--export", b.Fingerprint), "gpg", "--batch", "--import")
	if err := os.WriteFile(filepath.Join(sub, ".gpg-id"), []byte(b.Fingerprint+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mustCause(t, causeOf(t, p.Set(ctx, "team/x", "v")), "recipient key not trusted", "--lsign-key")

	// A secret encrypted to someone else only: no secret key.
	a.Run("", "gpg", "--batch", "--yes", "--quick-lsign-key", b.Fingerprint)
	if err := p.Set(ctx, "team/x", "for-bob-only"); err != nil {
		t.Fatal(err)
	}
	_, err = p.Get(ctx, "team/x")
	mustCause(t, causeOf(t, err), "no secret key", ".gpg-id")

	// A key with a passphrase the agent has not cached: never a pinentry.
	c := keystoretest.NewOperator(t, "clk")
	c.Run("%echo\nKey-Type: eddsa\nKey-Curve: ed25519\nSubkey-Type: ecdh\nSubkey-Curve: cv25519\nName-Real: L\nName-Email: locked@keyturn.test\nPassphrase: sesame\nExpire-Date: 0\n%commit\n", "gpg", "--batch", "--gen-key")
	c.Run("", "pass", "init", "locked@keyturn.test")
	pc := passFor(t, c, nil)
	if err := pc.Set(ctx, "x/locked", "v"); err != nil {
		t.Fatal(err)
	}
	_, err = pc.Get(ctx, "x/locked")
	mustCause(t, causeOf(t, err), "agent locked", "gpg --clearsign")
}

func mustCause(t *testing.T, got string, want ...string) {
	t.Helper()
	for _, w := range want {
		if !strings.Contains(got, w) {
			t.Fatalf("cause %q lacks %q", got, w)
		}
	}
}

// TestPassTimeoutAndChildEnvironment: a gpg that hangs is given up on at
// the timeout; gpg gets the value on stdin, never in its arguments, and
// none of keyturn's environment but what it needs.
func TestPassTimeoutAndChildEnvironment(t *testing.T) {
	a := keystoretest.NewOperator(t, "env")
	a.Init("", a)
	bin := t.TempDir()
	dump := filepath.Join(t.TempDir(), "seen")
	shim := "#!/bin/sh\n{ echo \"ARGS: $*\"; env; } > " + dump + "\ncat >/dev/null\nsleep 5\n"
	if err := os.WriteFile(filepath.Join(bin, "gpg"), []byte(shim), 0o700); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PATH": bin + ":" + os.Getenv("PATH"), "KEYTURN_FILE_PASSPHRASE": "do-not-pass", "AWS_SECRET_ACCESS_KEY": "nope"}
	p, err := keystore.NewPass(keystore.PassOptions{Timeout: 300 * time.Millisecond, Getenv: func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return a.Getenv(k)
	}})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	err = p.Set(context.Background(), "x/slow", "the-secret-value-123456")
	if took := time.Since(start); took > 3*time.Second {
		t.Fatalf("Set took %s with a 300ms timeout", took)
	}
	mustCause(t, causeOf(t, err), "timed out after 300ms", "nothing was written")
	if !errors.Is(err, keystore.ErrUnavailable) || strings.Contains(err.Error(), "the-secret-value") {
		t.Fatalf("timeout error: %v", err)
	}
	seen, err := os.ReadFile(dump)
	if err != nil {
		t.Fatal(err)
	}
	for _, bad := range []string{"the-secret-value", "KEYTURN_", "AWS_SECRET", "do-not-pass"} {
		if strings.Contains(string(seen), bad) {
			t.Fatalf("gpg saw %q in its arguments or environment:\n%s", bad, seen)
		}
	}
	for _, want := range []string{"GNUPGHOME=" + a.GNUPGHome, "HOME=" + a.Home, "--pinentry-mode error"} {
		if !strings.Contains(string(seen), want) {
			t.Fatalf("gpg did not get %q:\n%s", want, seen)
		}
	}
	if _, err := os.Stat(filepath.Join(a.Store, "keyturn", "x", "slow.gpg")); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("a timed-out write left the secret's file: %v", err)
	}
}

// TestPassSyncSharesAndKeepsBothSidesOfAConflict: two members share a
// store through a bare remote. A secret one adds reaches the other; a
// secret both change is kept twice, never overwritten; an unreachable
// remote leaves the secret stored and committed, "not synced".
func TestPassSyncSharesAndKeepsBothSidesOfAConflict(t *testing.T) {
	ctx := context.Background()
	remote := keystoretest.BareRemote(t)
	a := keystoretest.NewOperator(t, "sya")
	b := keystoretest.NewOperator(t, "syb")
	a.Trust(b)
	b.Trust(a)
	a.Init(remote, a, b)
	pa := passFor(t, a, nil)
	if err := pa.Set(ctx, "mm/command/c1", "first-from-alice"); err != nil {
		t.Fatal(err)
	}
	if rep, err := pa.Sync(ctx); err != nil || len(rep.Conflicts) != 0 {
		t.Fatalf("first sync: %+v, %v", rep, err)
	}
	b.Clone(remote)
	pb := passFor(t, b, nil)
	if got, err := pb.Get(ctx, "mm/command/c1"); err != nil || got != "first-from-alice" {
		t.Fatalf("bob reads %q, %v", got, err)
	}

	// Both rotate the same token; alice syncs first.
	if err := pa.Set(ctx, "mm/command/c1", "second-from-alice"); err != nil {
		t.Fatal(err)
	}
	if err := pb.Set(ctx, "mm/command/c1", "second-from-bob"); err != nil {
		t.Fatal(err)
	}
	if err := pb.Set(ctx, "mm/command/c2", "only-bob"); err != nil {
		t.Fatal(err)
	}
	if _, err := pa.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	rep, err := pb.Sync(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(rep.Conflicts) != 1 || rep.Conflicts[0].Name != "mm/command/c1" || !strings.HasPrefix(rep.Conflicts[0].Theirs, "mm/command/c1.conflict-") {
		t.Fatalf("conflicts: %+v", rep.Conflicts)
	}
	theirs := rep.Conflicts[0].Theirs
	for _, p := range []*keystore.Pass{pb, pa} {
		if p == pa {
			if _, err := pa.Sync(ctx); err != nil {
				t.Fatal(err)
			}
		}
		for name, want := range map[string]string{"mm/command/c1": "second-from-bob", theirs: "second-from-alice", "mm/command/c2": "only-bob"} {
			if got, err := p.Get(ctx, name); err != nil || got != want {
				t.Fatalf("%s after the conflict: %q, %v; want %q", name, got, err, want)
			}
		}
	}

	// The remote goes away: stored and committed, not synced.
	if err := os.Rename(remote, remote+".gone"); err != nil {
		t.Fatal(err)
	}
	n := commits(a)
	if err := pa.Set(ctx, "mm/command/c3", "offline"); err != nil {
		t.Fatal(err)
	}
	_, err = pa.Sync(ctx)
	if !errors.Is(err, keystore.ErrNotSynced) || !strings.Contains(err.Error(), "not synced") || !strings.Contains(err.Error(), "remote unreachable") {
		t.Fatalf("sync to a missing remote: %v", err)
	}
	if got, _ := pa.Get(ctx, "mm/command/c3"); got != "offline" || commits(a) != n+1 {
		t.Fatalf("after a failed sync: %q, %d commits (want %d)", got, commits(a), n+1)
	}
	// Back again: it goes out.
	if err := os.Rename(remote+".gone", remote); err != nil {
		t.Fatal(err)
	}
	if _, err := pa.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := pb.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got, _ := pb.Get(ctx, "mm/command/c3"); got != "offline" {
		t.Fatalf("bob reads %q once the remote is back", got)
	}
}

// TestPassSyncWithoutGit: a store that is no git repository has nothing to
// sync with, and says how to make it one.
func TestPassSyncWithoutGit(t *testing.T) {
	a := keystoretest.NewOperator(t, "ngt")
	a.Run("", "pass", "init", a.Fingerprint)
	_, err := passFor(t, a, nil).Sync(context.Background())
	if !errors.Is(err, keystore.ErrNoSync) || !strings.Contains(err.Error(), "pass git init") {
		t.Fatalf("sync without git: %v", err)
	}
}

// TestPassSyncBeforeAnySecret: a new team store with no keyturn secret yet
// syncs (found by the fault matrix: the commit's pathspec matched nothing).
func TestPassSyncBeforeAnySecret(t *testing.T) {
	a := keystoretest.NewOperator(t, "emp")
	a.Init(keystoretest.BareRemote(t), a)
	if _, err := passFor(t, a, nil).Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
}

// TestChoosePass: --store pass is chosen and remembered like the others.
func TestChoosePass(t *testing.T) {
	for _, c := range []struct {
		flag, env string
		cfg       *config.Config
	}{{"pass", "", nil}, {"", "PASS", nil}, {"", "", &config.Config{Store: "pass"}}} {
		if k, err := keystore.Choose(c.flag, c.env, c.cfg); err != nil || k != keystore.KindPass {
			t.Fatalf("Choose(%q, %q, %+v) = %q, %v", c.flag, c.env, c.cfg, k, err)
		}
	}
	if _, err := keystore.Choose("gopass", "", nil); err == nil || !strings.Contains(err.Error(), "keyring, file or pass") {
		t.Fatalf("an unknown store: %v", err)
	}
}

// TestPassKeepsPersonalSecretsOutOfGit: a personal secret (a sign-in
// credential) is stored and read like the others, but never committed.
func TestPassKeepsPersonalSecretsOutOfGit(t *testing.T) {
	a := keystoretest.NewOperator(t, "per")
	a.Init(keystoretest.BareRemote(t), a)
	p, err := keystore.NewPass(keystore.PassOptions{Getenv: a.Getenv, Timeout: 20 * time.Second,
		Personal: func(n string) bool { return strings.HasSuffix(n, "/credential") }})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	before := commits(a)
	for i := 0; i < 2; i++ {
		if err := p.Set(ctx, "mm/credential", "my-own-session"); err != nil {
			t.Fatal(err)
		}
	}
	if err := p.Set(ctx, "mm/command/x", "shared"); err != nil {
		t.Fatal(err)
	}
	if got, err := p.Get(ctx, "mm/credential"); err != nil || got != "my-own-session" {
		t.Fatalf("Get = %q, %v", got, err)
	}
	tracked := a.Run("", "git", "-C", a.Store, "ls-files", "keyturn")
	if strings.TrimSpace(tracked) != "keyturn/mm/command/x.gpg" || commits(a) != before+1 {
		t.Fatalf("tracked %q after %d commits (want %d)", tracked, commits(a), before+1)
	}
	if st := a.Run("", "git", "-C", a.Store, "status", "--porcelain"); st != "" {
		t.Fatalf("git status: %q", st)
	}
	if ex, _ := os.ReadFile(filepath.Join(a.Store, ".git", "info", "exclude")); strings.Count(string(ex), "/keyturn/mm/credential.gpg") != 1 {
		t.Fatalf("exclude:\n%s", ex)
	}
	if _, err := p.Sync(ctx); err != nil {
		t.Fatal(err)
	}
}
