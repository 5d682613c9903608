package account_test

import (
	"context"
	"testing"

	"keyturn/account"
	"keyturn/config"
	"keyturn/sandbox/rocketchatsim"
)

// A token the store refused is not "done": a resume reads slash-command
// and webhook tokens back from the server and stores them, and reports
// the others as NOT saved.
func TestRotateAllResumeDoesNotCallAnUnsavedTokenStored(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	w.store.Ops = []string{"set"}
	rep, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand})
	if err != nil || len(rep.Items) == 0 {
		t.Fatalf("first run: %+v %v", rep, err)
	}
	handed := map[string]string{}
	for _, it := range rep.Items {
		if it.Value == "" || !it.NotSaved {
			t.Fatalf("%s: want the unsaved token handed back and marked NotSaved (status %s, stored %v)", it.Ref, it.Status, it.Stored)
		}
		handed[it.Ref] = it.Value
	}
	w.store.Ops = []string{"none"}
	mark := len(w.sb.Env.Ledger.Entries())
	rep, err = w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.OK != len(rep.Items) || rep.Skipped != 0 || !rep.AllOK() {
		t.Fatalf("resume: ok %d skipped %d failed %d of %d; want every command read back", rep.OK, rep.Skipped, rep.Failed, len(rep.Items))
	}
	for _, it := range rep.Items {
		if !it.Stored || w.stored(it.Name) != handed[it.Ref] {
			t.Fatalf("%s: the token the server holds must be stored on resume", it.Ref)
		}
	}
	if got := len(w.sb.Env.Ledger.Entries()) - mark; got != 0 {
		t.Fatalf("the resume issued %d tokens", got)
	}

	// Rocket.Chat shows a PAT only once: the resume cannot read it back.
	w.add(config.Account{Name: "rc", Service: account.RocketChat, URL: w.sb.RocketChatURL, User: "carol"})
	if _, err := w.mgr.Login(ctx, account.LoginRequest{Account: "rc", Password: rocketchatsim.CarolPassword}); err != nil {
		t.Fatal(err)
	}
	ans := &account.Answer{Method: "password", Code: rocketchatsim.CarolPassword}
	if _, err := w.mgr.Create(ctx, "rc", "a", false, ans); err != nil {
		t.Fatal(err)
	}
	w.store.Ops = []string{"set"}
	if rep, err = w.mgr.RotateAll(ctx, "rc", account.BulkOptions{Kind: account.KindPAT, Answer: ans}); err != nil || rep.Failed != 1 {
		t.Fatalf("first run: failed %d, %v", rep.Failed, err)
	}
	unsavedPAT := rep.Items[0].Issued
	w.store.Ops = []string{"none"}
	rep, err = w.mgr.RotateAll(ctx, "rc", account.BulkOptions{Kind: account.KindPAT, Resume: true, Answer: ans})
	if err != nil {
		t.Fatal(err)
	}
	it := rep.Items[0]
	if it.Stored || !it.NotSaved || it.Status != account.BulkFailed || rep.AllOK() || rep.Skipped != 0 {
		t.Fatalf("resume of an unsaved PAT: status %s stored %v not saved %v; want failed, NOT saved", it.Status, it.Stored, it.NotSaved)
	}
	// Saved since: a resume finds it in the store.
	if err := w.mgr.RetryStore(ctx, unsavedPAT); err != nil {
		t.Fatal(err)
	}
	rep, err = w.mgr.RotateAll(ctx, "rc", account.BulkOptions{Kind: account.KindPAT, Resume: true, Answer: ans})
	if err != nil || !rep.AllOK() || rep.Skipped != 1 || !rep.Items[0].Stored {
		t.Fatalf("resume after the PAT was saved: skipped %d failed %d, %v", rep.Skipped, rep.Failed, err)
	}
}
