package account_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/keystore"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/simnet"
)

// Two keyturn processes (two Managers over one config and one store) never
// rotate the same account at once: the second waits for the first, or,
// when tired of waiting, says who holds the account and what it is doing.
func TestIssuingOperationsTakeTheAccountsLock(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	w.sb.Mattermost.SeedCommands(mattermostsim.TeamName, 4)
	toks, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	if err != nil || len(toks) == 0 {
		t.Fatal(err)
	}
	ref := toks[0].Ref
	vault := keystore.NewVault(w.store, w.cfg)
	impatient := account.New(w.cfg, vault, account.Options{Timeout: 5 * time.Second, LockWait: 100 * time.Millisecond})
	patient := account.New(w.cfg, vault, account.Options{Timeout: 5 * time.Second})

	w.sb.Env.Faults.Add(simnet.Rule{Path: "/regen_token", Fault: simnet.Slow, Delay: 150 * time.Millisecond})
	done := make(chan error, 1)
	go func() {
		_, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand, Parallel: 1})
		done <- err
	}()
	// Wait until the run holds the lock (its first request is out).
	for deadline := time.Now().Add(300 * time.Millisecond); !lockHeld(w) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	before := len(w.issuedTokens("mattermost", "command"))
	_, err = impatient.Rotate(ctx, "mm", ref, nil)
	if err == nil || !strings.Contains(err.Error(), fmt.Sprintf("pid %d", os.Getpid())) || !strings.Contains(err.Error(), "rotating") {
		t.Fatalf("a second rotation while the account is held: want an error naming the holder, got %v", err)
	}
	if _, err := impatient.Fetch(ctx, "mm", ref); err == nil {
		t.Fatal("a fetch while the account is held must wait or refuse too")
	}
	// A patient one waits for the run to end, then rotates: the token it
	// stores is the one the server holds last.
	iss, err := patient.Rotate(ctx, "mm", ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	issued := w.issuedTokens("mattermost", "command")
	if len(issued)-before < 1 || issued[len(issued)-1] != iss.Value || w.stored(iss.Name) != iss.Value {
		t.Fatal("the rotation that waited must come last and its token be the stored one")
	}
	if lockHeld(w) {
		t.Fatal("the lock outlived the operations")
	}
}

// lockHeld reports whether a keyturn operation says it holds an account.
func lockHeld(w *world) bool {
	owners, _ := filepath.Glob(filepath.Join(filepath.Dir(w.cfg.Path), "locks", "*.owner"))
	return len(owners) > 0
}

// A run stopped by a keyturn that named journals the old way is still
// held back and resumed from that journal.
func TestRotateAllReadsAJournalNamedTheOldWay(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	toks, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	if err != nil || len(toks) < 2 {
		t.Fatal(err)
	}
	legacy := filepath.Join(filepath.Dir(w.cfg.Path), "journal", "mm.command.jsonl")
	if err := os.MkdirAll(filepath.Dir(legacy), 0o700); err != nil {
		t.Fatal(err)
	}
	line := `{"ref":"` + toks[0].RefString + `","event":"sent","time":"2026-11-23T10:00:00Z"}` + "\n"
	if err := os.WriteFile(legacy, []byte(line), 0o600); err != nil {
		t.Fatal(err)
	}
	var ir *account.InterruptedRunError
	if _, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand}); !errors.As(err, &ir) || ir.Journal != legacy {
		t.Fatalf("a fresh run over the old journal: want it named, got %v", err)
	}
	rep, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand, Resume: true})
	if err != nil || rep.Unknown != 1 || rep.OK != len(rep.Items)-1 {
		t.Fatalf("resume: unknown %d ok %d of %d, %v", rep.Unknown, rep.OK, len(rep.Items), err)
	}
}

// MFA changes and removing the account wait for the account's lock like
// the issuing operations: two MFA setups at once would each show a secret
// of which only the last made signs in, and a removal under a sign-in or
// rotation would leave a credential for an account that is gone.
func TestMFAChangesAndRemoveTakeTheAccountsLock(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	w.sb.Mattermost.SeedCommands(mattermostsim.TeamName, 4)
	impatient := account.New(w.cfg, keystore.NewVault(w.store, w.cfg), account.Options{Timeout: 5 * time.Second, LockWait: 100 * time.Millisecond})

	w.sb.Env.Faults.Add(simnet.Rule{Path: "/regen_token", Fault: simnet.Slow, Delay: 400 * time.Millisecond})
	done := make(chan error, 1)
	go func() {
		_, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand, Parallel: 1})
		done <- err
	}()
	for deadline := time.Now().Add(time.Second); !lockHeld(w) && time.Now().Before(deadline); {
		time.Sleep(5 * time.Millisecond)
	}
	busy := func(what string, err error) {
		t.Helper()
		if err == nil || !strings.Contains(err.Error(), "account mm is busy") {
			t.Errorf("%s while the account is held: want the busy error, got %v", what, err)
		}
	}
	_, err := impatient.BeginMFA(ctx, "mm", true, nil)
	busy("mfa setup --replace", err)
	_, err = impatient.ActivateMFA(ctx, "mm", "123456", nil)
	busy("mfa activate", err)
	busy("mfa disable", impatient.DisableMFA(ctx, "mm", ""))
	busy("account remove", impatient.Remove(ctx, "mm"))
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if _, err := w.mgr.Show(ctx, "mm"); err != nil {
		t.Fatalf("the account is gone after a refused removal: %v", err)
	}
}

// A config file in a directory where another user created keyturn's locks/
// or journal/ first (a config under /tmp, say): keyturn refuses to lock or
// journal there, before any request, rather than let them hold the account
// or swap the journal.
func TestLocksAndJournalsOnlyInAPrivateDirectory(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows guards directories with ACLs, not modes")
	}
	for _, sub := range []string{"locks", "journal"} {
		t.Run(sub, func(t *testing.T) {
			w := newWorld(t)
			w.mattermostSignedIn()
			ctx := context.Background()
			w.sb.Mattermost.SeedCommands(mattermostsim.TeamName, 1)
			dir := filepath.Join(filepath.Dir(w.cfg.Path), sub)
			if err := os.MkdirAll(dir, 0o700); err != nil {
				t.Fatal(err)
			}
			if err := os.Chmod(dir, 0o777); err != nil {
				t.Fatal(err)
			}
			before := len(w.issuedTokens("mattermost", "command"))
			_, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand, Parallel: 1})
			if err == nil || !strings.Contains(err.Error(), "can be written by other users") {
				t.Fatalf("rotate --all with a world-writable %s/: %v, want a refusal", sub, err)
			}
			if n := len(w.issuedTokens("mattermost", "command")); n != before {
				t.Fatalf("%d tokens rotated before the refusal", n-before)
			}
		})
	}
}

// With the file store and a passphrase typed by the person, the passphrase
// is asked before the account is taken: another process must not wait for
// someone typing while being told this one "has been rotating every token".
func TestFileStorePassphraseIsAskedBeforeTheAccountIsTaken(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	file := filepath.Join(t.TempDir(), "secrets.enc")
	const pass = "file store passphrase"
	asked := 0
	heldWhenAsked := false
	ask := func() ([]byte, error) {
		asked++
		heldWhenAsked = heldWhenAsked || lockHeld(w)
		return []byte(pass), nil
	}
	w.mgr = account.New(w.cfg, keystore.NewVault(keystore.NewFile(file, ask), w.cfg), account.Options{Timeout: 5 * time.Second})
	w.mattermostSignedIn()
	w.sb.Mattermost.SeedCommands(mattermostsim.TeamName, 2)

	// A new keyturn process: the passphrase is not known yet.
	asked = 0
	fresh := account.New(w.cfg, keystore.NewVault(keystore.NewFile(file, ask), w.cfg), account.Options{Timeout: 5 * time.Second})
	rep, err := fresh.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand, Parallel: 1})
	if err != nil || !rep.AllOK() {
		t.Fatalf("rotate --all: %v %+v", err, rep)
	}
	if asked != 1 {
		t.Fatalf("the passphrase was asked %d times, want once", asked)
	}
	if heldWhenAsked {
		t.Fatal("the passphrase was asked while keyturn held the account")
	}
}
