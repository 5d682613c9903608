package account_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/config"
	"keyturn/keystore"
	"keyturn/keystore/keystoretest"
	"keyturn/sandbox"
)

// passWorld is the pass store under a fault world: one operator's key and
// store, pushing to a bare remote.
type passWorld struct {
	op     *keystoretest.Operator
	remote string
}

// passFault breaks a working pass store just before the operation, and
// checks the outcome against the token the server issued.
type passFault struct {
	breakIt func(t *testing.T, w *faultWorld)
	check   func(t *testing.T, w *faultWorld, out string, err error, last string)
}

func init() { faultKinds = append(faultKinds, passFaults...) }

// passFaults are the pass store's own faults: gpg failing hands the token
// back; a push failing after the commit leaves it stored, "not synced".
var passFaults = []fault{
	{name: "pass store: gpg fails", pass: &passFault{
		breakIt: func(t *testing.T, w *faultWorld) {
			// A member whose key nobody imported: gpg refuses to encrypt.
			writeFile(t, filepath.Join(w.pass.op.Store, ".gpg-id"), w.pass.op.Fingerprint+"\nghost@keyturn.test\n")
		},
		check: func(t *testing.T, w *faultWorld, out string, err error, last string) {
			if out != outHanded {
				t.Fatalf("gpg failing must hand the token back, got %s: %v", out, err)
			}
			var ns *account.NotStoredError
			if !errors.As(err, &ns) || ns.Issued.Value != last {
				t.Fatal("the token handed back is not the one the server issued")
			}
			if msg := err.Error(); strings.Contains(msg, last) || !strings.Contains(msg, "recipient key missing") {
				t.Fatalf("the error holds the token or does not name the cause: %v", err)
			}
		}}},
	{name: "pass store: push fails after the commit", pass: &passFault{
		breakIt: func(t *testing.T, w *faultWorld) {
			if err := os.RemoveAll(w.pass.remote); err != nil {
				t.Fatal(err)
			}
		},
		check: func(t *testing.T, w *faultWorld, out string, err error, last string) {
			if out != outStored || !inStore(t, w, last) {
				t.Fatalf("the token must be stored, got %s: %v", out, err)
			}
			_, serr := w.mgr.Vault().Sync(context.Background())
			if !errors.Is(serr, keystore.ErrNotSynced) || !strings.Contains(serr.Error(), "not synced") {
				t.Fatalf("sync with the remote gone: %v", serr)
			}
			if st := w.pass.op.Run("", "git", "-C", w.pass.op.Store, "status", "--porcelain"); st != "" {
				t.Fatalf("stored but not committed: %s", st)
			}
		}}},
}

func writeFile(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o600); err != nil {
		t.Fatal(err)
	}
}

// newPassFaultWorld is newFaultWorld over a real pass store, synced once
// with its remote so that the remote is the upstream.
func newPassFaultWorld(t *testing.T) *faultWorld {
	sb, err := sandbox.Start(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	pw := &passWorld{op: keystoretest.NewOperator(t, "fm"), remote: keystoretest.BareRemote(t)}
	pw.op.Init(pw.remote, pw.op)
	p, err := keystore.NewPass(keystore.PassOptions{Getenv: pw.op.Getenv, Timeout: 20 * time.Second, SyncTimeout: 20 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	cf := config.Open(filepath.Join(t.TempDir(), "config.json"))
	st := &switchable{ok: p}
	mgr := account.New(cf, keystore.NewVault(p, cf), account.Options{Timeout: time.Second})
	return &faultWorld{sb: sb, mgr: mgr, store: st, pass: pw}
}
