package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/keystore"
	"keyturn/keystore/keystoretest"
)

// operatorWorld is a keyturn of op's own (config, HOME, GNUPGHOME, pass
// store) over the sandbox of w, with the real pass store.
func operatorWorld(t *testing.T, w *world, op *keystoretest.Operator) *world {
	t.Helper()
	dir := t.TempDir()
	ow := &world{t: t, sb: w.sb, dir: dir, cfg: filepath.Join(dir, "config.json"), env: op.Env()}
	ow.env[keystore.EnvStore] = keystore.KindPass
	return ow
}

// TestTwoOperatorsShareThePassStore is the CI test: two operators
// (two GNUPGHOME and HOME, both keys in .gpg-id) share a pass store through
// a bare git remote. A rotates a token and syncs; B syncs and reads exactly
// the token the sandbox issued. Then both rotate the same token: the sync
// reports the conflict and both tokens are kept.
func TestTwoOperatorsShareThePassStore(t *testing.T) {
	w := newWorld(t)
	remote := keystoretest.BareRemote(t)
	opA := keystoretest.NewOperator(t, "opa")
	opB := keystoretest.NewOperator(t, "opb")
	opA.Trust(opB)
	opB.Trust(opA)
	opA.Init(remote, opA, opB)
	a := operatorWorld(t, w, opA)
	b := operatorWorld(t, w, opB)

	// A signs in and rotates a slash-command token, syncing.
	a.mattermostAdmin("mm")
	cmd := firstOf(t, a.tokens("mm", "--kind", "command"), account.KindCommand)
	name := "mm/command/" + cmd.ID
	r := a.run("", "token", "rotate", "mm", cmd.RefString, "--sync")
	a.want(r, 0, "A rotates with --sync")
	first := w.lastIssued("mattermost", "command")
	if _, err := os.Stat(filepath.Join(opA.Store, "keyturn", "mm", "command", cmd.ID+".gpg")); err != nil {
		t.Fatalf("the token is not in A's pass store: %v", err)
	}

	// B joins (clones) and syncs: secret get returns exactly that token.
	opB.Clone(remote)
	b.want(b.run("", "store", "sync"), 0, "B syncs")
	r = b.run("", "secret", "get", name)
	b.want(r, 0, "B reads A's token")
	if r.out != first {
		t.Fatal("B's secret get is not the token the sandbox issued to A")
	}
	if got := strings.TrimSuffix(opB.Run("", "pass", "show", "keyturn/"+name), "\n"); got != first {
		t.Fatal("pass show, as B, is not the token the sandbox issued")
	}
	// A's sign-in credential is A's own: never shared.
	b.want(b.run("", "secret", "get", "mm/credential"), 1, "B reads A's credential")
	credA := opA.Run("", "pass", "show", "keyturn/mm/credential")
	r = b.run("", "secret", "list")
	b.want(r, 0, "B lists")
	mustContain(t, "B's list", r.out, name, "yes (not indexed here)", "mm", "command")

	// A bulk run with --sync: one commit per batch, not per token, and B
	// reads every token the sandbox issued.
	before := strings.TrimSpace(opA.Run("", "git", "-C", opA.Store, "rev-list", "--count", "HEAD"))
	r = a.run("", "token", "rotate", "mm", "--all", "--kind", "command", "--sync", "--json")
	a.want(r, 0, "A rotates every command with --sync")
	rep := decodeJSON[bulkJSON](t, r.out)
	after := strings.TrimSpace(opA.Run("", "git", "-C", opA.Store, "rev-list", "--count", "HEAD"))
	var nb, na int
	fmt.Sscan(before, &nb)
	fmt.Sscan(after, &na)
	if rep.OK < 3 || na-nb >= rep.OK {
		t.Fatalf("%d tokens rotated in %d commits: want fewer commits than tokens", rep.OK, na-nb)
	}
	b.want(b.run("", "store", "sync"), 0, "B syncs the bulk run")
	issued := map[string]bool{}
	for _, e := range w.ledger("mattermost", "command") {
		issued[e.Token] = true
	}
	for _, it := range rep.Tokens {
		r := b.run("", "secret", "get", it.Name)
		b.want(r, 0, "B reads "+it.Name)
		if !issued[r.out] || r.out == first || it.Fingerprint == "" || !strings.HasSuffix(r.out, it.Fingerprint) {
			t.Fatalf("B's %s is not a token the bulk run had the sandbox issue", it.Name)
		}
	}
	cmd.RefString = rep.Tokens[0].Ref
	name = rep.Tokens[0].Name

	// Both rotate the same token before syncing. (B's sign-in code is the
	// next one: the server takes each code once.)
	w.sb.Env.Clock.Advance(30 * time.Second)
	b.mattermostAdmin("mm")
	a.want(a.run("", "token", "rotate", "mm", cmd.RefString), 0, "A rotates again")
	fromA := w.lastIssued("mattermost", "command")
	b.want(b.run("", "token", "rotate", "mm", cmd.RefString), 0, "B rotates the same token")
	fromB := w.lastIssued("mattermost", "command")
	if fromA == fromB {
		t.Fatal("the sandbox issued one token for two rotations")
	}
	a.want(a.run("", "store", "sync"), 0, "A syncs first")
	r = b.run("", "store", "sync")
	b.want(r, 1, "B's sync meets the conflict")
	mustContain(t, "B's conflict report", r.err, "conflict on "+name, "both kept", name+".conflict-")
	theirs := ""
	for _, f := range strings.Fields(r.err) {
		if strings.HasPrefix(f, name+".conflict-") {
			theirs = strings.TrimRight(f, ".,")
			break
		}
	}
	// Nothing lost: both tokens the server issued are in both stores,
	// and each still signs in as themselves.
	a.want(a.run("", "store", "sync"), 0, "A syncs after the conflict")
	if opA.Run("", "pass", "show", "keyturn/mm/credential") != credA {
		t.Fatal("B's sign-in replaced A's credential")
	}
	for _, op := range []*world{a, b} {
		for n, want := range map[string]string{name: fromB, theirs: fromA} {
			r := op.run("", "secret", "get", n)
			op.want(r, 0, "get "+n)
			if r.out != want {
				t.Fatalf("%s holds another token than the one the sandbox issued", n)
			}
		}
	}
}

// TestPassStoreNotSynced: a rotation whose push fails (the remote is gone)
// is stored and committed, exits 0, and says "not synced"; store sync
// then exits 1 saying so.
func TestPassStoreNotSynced(t *testing.T) {
	w := newWorld(t)
	remote := keystoretest.BareRemote(t)
	op := keystoretest.NewOperator(t, "ons")
	op.Init(remote, op)
	a := operatorWorld(t, w, op)
	a.mattermostAdmin("mm")
	if err := os.RemoveAll(remote); err != nil {
		t.Fatal(err)
	}
	cmd := firstOf(t, a.tokens("mm", "--kind", "command"), account.KindCommand)
	r := a.run("", "token", "rotate", "mm", cmd.RefString, "--sync")
	a.want(r, 0, "rotate with the remote gone")
	mustContain(t, "rotate's warning", r.err, "not synced", "remote unreachable", "keyturn store sync")
	if v, err := op.Try("", "pass", "show", "keyturn/mm/command/"+cmd.ID); err != nil || strings.TrimSuffix(v, "\n") != w.lastIssued("mattermost", "command") {
		t.Fatalf("the rotated token is not in the pass store: %v", err)
	}
	if st := op.Run("", "git", "-C", op.Store, "status", "--porcelain"); st != "" {
		t.Fatalf("left uncommitted: %s", st)
	}
	r = a.run("", "store", "sync")
	a.want(r, 1, "store sync with the remote gone")
	mustContain(t, "sync's error", r.err, "not synced")

	// A store that is no git repository: --sync is a usage error.
	os.RemoveAll(filepath.Join(op.Store, ".git"))
	a.want(a.run("", "token", "rotate", "mm", cmd.RefString, "--sync"), 2, "--sync without git")
}

// TestPassStoreNeverPromptsForTheTUI: the interactive app's store never
// lets gpg-agent ask on the terminal it draws on: a key whose passphrase
// is not cached is reported, with the way out.
func TestPassStoreNeverPromptsForTheTUI(t *testing.T) {
	op := keystoretest.NewOperator(t, "tui")
	op.Run("Key-Type: eddsa\nKey-Curve: ed25519\nSubkey-Type: ecdh\nSubkey-Curve: cv25519\nName-Real: L\nName-Email: locked@keyturn.test\nPassphrase: sesame\nExpire-Date: 0\n%commit\n", "gpg", "--batch", "--gen-key")
	op.Run("", "pass", "init", "locked@keyturn.test")
	op.Run("a-token-value\n", "pass", "insert", "-m", "keyturn/team/x")
	env := op.Env()
	env[keystore.EnvStore] = keystore.KindPass
	env["GPG_TTY"] = "/dev/tty"
	app := newApp(IO{InTerminal: true, OutTerminal: true, Getenv: func(k string) string { return env[k] }})
	app.flags.config = filepath.Join(t.TempDir(), "config.json")
	app.unlockInTUI = true
	defer app.close()
	m, err := app.manager(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	_, err = m.Vault().Get(context.Background(), "team/x")
	if err == nil || !strings.Contains(err.Error(), "agent locked: the key's passphrase is not cached and gpg-agent would ask for it on a terminal") || !strings.Contains(err.Error(), "gpg --clearsign") {
		t.Fatalf("reading with a locked key in the TUI: %v", err)
	}
}

// TestSyncNeedsASharedStore: store sync and --sync on a store that is not
// shared say so, and --sync rotates nothing then.
func TestSyncNeedsASharedStore(t *testing.T) {
	w := newWorld(t)
	r := w.run("", "store", "sync")
	w.want(r, 1, "store sync over memory")
	mustContain(t, "store sync over memory", r.err, "not shared", "--store pass")
	w.mattermostAdmin("mm")
	cmd := firstOf(t, w.tokens("mm", "--kind", "command"), account.KindCommand)
	n := len(w.ledger("mattermost", "command"))
	r = w.run("", "token", "rotate", "mm", cmd.RefString, "--sync")
	w.want(r, 2, "--sync over memory")
	if len(w.ledger("mattermost", "command")) != n {
		t.Fatal("--sync over a store that cannot sync still rotated")
	}
}
