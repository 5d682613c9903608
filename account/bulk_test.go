package account_test

import (
	"context"
	"errors"
	"testing"

	"keyturn/account"
	mattermostsim "keyturn/sandbox/mattermost"
	"keyturn/sandbox/simnet"
)

func TestRotateAllStoresEachAndResumesWithoutRepeats(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	w.sb.Mattermost.SeedCommands(mattermostsim.TeamName, 40)
	before := len(w.issuedTokens("mattermost", "command"))

	// One request is applied and its answer lost; two are refused with 429.
	w.sb.Env.Faults.Add(simnet.Rule{Path: "/regen_token", Fault: simnet.DropAfterApply, Times: 1})
	w.sb.Env.Faults.Add(simnet.Rule{Path: "/regen_token", Fault: simnet.RateLimit, Times: 2, RetryAfter: 1})
	var calls int
	rep, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand, Parallel: 8,
		Progress: func(account.BulkProgress) { calls++ }})
	if err != nil {
		t.Fatal(err)
	}
	total := len(rep.Items)
	if total < 43 || rep.Unknown != 1 || rep.OK != total-1 || rep.AllOK() || calls != total {
		t.Fatalf("report: ok %d failed %d unknown %d of %d (progress %d)", rep.OK, rep.Failed, rep.Unknown, total, calls)
	}
	ledger := w.issuedTokens("mattermost", "command")
	if got := len(ledger) - before; got != total {
		t.Fatalf("the server rotated %d tokens for %d commands: none may be rotated twice", got, total)
	}
	for _, it := range rep.Items {
		if it.Status == account.BulkOK && w.stored(it.Name) == "" {
			t.Fatalf("%s not stored", it.Ref)
		}
	}
	// The batched index entries were written by the end of the run.
	listed, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	if err != nil {
		t.Fatal(err)
	}
	indexed := 0
	for _, tk := range listed {
		if tk.Stored {
			indexed++
		}
	}
	if indexed != rep.OK {
		t.Fatalf("%d tokens in the index after the run, %d rotated", indexed, rep.OK)
	}

	// A fresh run refuses while the journal shows a request with no answer.
	if _, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand}); !errors.Is(err, account.ErrInterruptedRun) {
		t.Fatalf("want ErrInterruptedRun, got %v", err)
	}
	// Resuming sends nothing again: done ones are skipped, the lost one stays unknown.
	rep, err = w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Skipped != total-1 || rep.Unknown != 1 || rep.OK != 0 {
		t.Fatalf("resume: skipped %d unknown %d ok %d", rep.Skipped, rep.Unknown, rep.OK)
	}
	if got := len(w.issuedTokens("mattermost", "command")) - before; got != total {
		t.Fatalf("resume rotated again: %d", got)
	}
}

func TestRotateAllStoreFailureHandsTokensBack(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	before := len(w.issuedTokens("mattermost", "webhook"))
	w.store.Ops = []string{"set"}
	rep, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindWebhook})
	if err != nil {
		t.Fatal(err)
	}
	ledger := w.issuedTokens("mattermost", "webhook")[before:]
	if len(ledger) != len(rep.Items) || len(ledger) == 0 {
		t.Fatalf("%d issued for %d webhooks", len(ledger), len(rep.Items))
	}
	held := map[string]bool{}
	for _, it := range rep.Items {
		if it.Status != account.BulkFailed || it.Stored || it.Value == "" {
			t.Fatalf("item %+v: want failed with the token handed back", it.Ref)
		}
		held[it.Value] = true
	}
	for _, tok := range ledger {
		if !held[tok] {
			t.Fatal("a token the server issued was neither stored nor handed back")
		}
	}
}
