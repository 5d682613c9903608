package account_test

import (
	"context"
	"strings"
	"testing"

	"keyturn/account"
	"keyturn/config"
	"keyturn/sandbox/mattermostsim"
)

// dropIndex removes index entries whose name starts with prefix, as a
// crash before a bulk run's batch was written leaves them; the store
// still holds the secrets. It returns the names dropped.
func (w *world) dropIndex(prefix string) []string {
	w.t.Helper()
	var dropped []string
	err := w.cfg.Update(func(c *config.Config) error {
		for _, m := range append([]config.SecretMeta(nil), c.Secrets...) {
			if strings.HasPrefix(m.Name, prefix) {
				c.RemoveSecret(m.Name)
				dropped = append(dropped, m.Name)
			}
		}
		return nil
	})
	if err != nil {
		w.t.Fatal(err)
	}
	return dropped
}

func heldCount(t *testing.T, w *world, kind string) (held, total int) {
	t.Helper()
	toks, err := w.mgr.Tokens(context.Background(), "mm", account.ListFilter{Kind: kind})
	if err != nil {
		t.Fatal(err)
	}
	for _, tk := range toks {
		if tk.Stored {
			held++
		}
	}
	return held, len(toks)
}

// Index entries lost in a crash during a bulk run are rebuilt by a resume
// from the store: the tokens are held again, with their fingerprints.
func TestRotateAllResumeRebuildsLostIndexEntries(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	w.sb.Mattermost.SeedCommands(mattermostsim.TeamName, 3)
	rep, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand})
	if err != nil || !rep.AllOK() {
		t.Fatalf("run: %v", err)
	}
	if len(w.dropIndex("mm/command/")) != rep.OK {
		t.Fatal("the run left no index entries to drop")
	}
	if held, _ := heldCount(t, w, account.KindCommand); held != 0 {
		t.Fatalf("%d held after dropping the index", held)
	}
	rep, err = w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand, Resume: true})
	if err != nil || rep.Skipped != len(rep.Items) {
		t.Fatalf("resume: skipped %d of %d, %v", rep.Skipped, len(rep.Items), err)
	}
	if held, total := heldCount(t, w, account.KindCommand); held != total {
		t.Fatalf("after the resume %d of %d commands are held; the store has them all", held, total)
	}
	c, _ := w.cfg.Load()
	for _, it := range rep.Items {
		meta, ok := c.Secret(it.Name)
		if !ok || meta.Fingerprint != it.Fingerprint || meta.Account != "mm" || meta.Kind != account.KindCommand {
			t.Fatalf("%s: rebuilt entry %+v", it.Name, meta)
		}
	}
}

// RepairIndex finds, where the store can list what it holds, the secrets
// of this config's accounts that the index lost, the credential included;
// a secret of an account this config does not have is left alone.
func TestRepairIndexFromAListingStore(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	iss, err := w.mgr.Create(ctx, "mm", "ci", false, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := w.store.Inner.Set(ctx, "other/pat/x", "a-token-of-another-config-0000"); err != nil {
		t.Fatal(err)
	}
	dropped := w.dropIndex("mm/")
	if len(dropped) != 2 {
		t.Fatalf("dropped %v", dropped)
	}
	added, err := w.mgr.RepairIndex(ctx, "")
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(added, ",") != "mm/credential,"+iss.Name {
		t.Fatalf("added %v, want the credential and %s", added, iss.Name)
	}
	st, err := w.mgr.Show(ctx, "mm")
	if err != nil || !st.SignedIn || st.Via != "session" {
		t.Fatalf("after the repair: %+v %v", st, err)
	}
	c, _ := w.cfg.Load()
	if m, ok := c.Secret(iss.Name); !ok || m.Fingerprint != iss.Fingerprint || m.ID == "" {
		t.Fatalf("rebuilt %+v", m)
	}
	if _, ok := c.Secret("other/pat/x"); ok {
		t.Fatal("a secret of an account this config lacks was indexed")
	}
}
