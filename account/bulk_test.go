package account_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/config"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/rocketchatsim"
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
	if total < 43 || rep.Unknown != 1 || rep.OK != total-1 || rep.AllOK() || calls != total+1 {
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
	// Resuming sends nothing again: done ones are skipped, and the lost one
	// is read back from the server, which shows command tokens.
	rep, err = w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand, Resume: true})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Skipped != total-1 || rep.Unknown != 0 || rep.OK != 1 || !rep.AllOK() {
		t.Fatalf("resume: skipped %d unknown %d ok %d", rep.Skipped, rep.Unknown, rep.OK)
	}
	if got := len(w.issuedTokens("mattermost", "command")) - before; got != total {
		t.Fatalf("resume rotated again: %d", got)
	}
	issued := map[string]bool{}
	for _, tok := range w.issuedTokens("mattermost", "command")[before:] {
		issued[tok] = true
	}
	for _, it := range rep.Items {
		if it.Status != account.BulkOK {
			continue
		}
		if it.Note == "" || !issued[w.stored(it.Name)] {
			t.Fatalf("the lost answer's token must be stored, with a note: %+v", it)
		}
	}
	// Nothing is left for a fresh run to trip on.
	if _, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand}); err != nil {
		t.Fatalf("a fresh run after the resume: %v", err)
	}
}

// A run killed before its "sent" and "done" events reached the disk
// leaves only its plan. Resuming rotates nothing twice: a token the server
// changed is read back, and what no plan mentions is rotated now.
func TestRotateAllResumesFromThePlanAlone(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	w.sb.Mattermost.SeedCommands(mattermostsim.TeamName, 6)
	for _, kind := range []string{account.KindCommand, account.KindWebhook} {
		rep, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: kind, Parallel: 2})
		if err != nil || !rep.AllOK() || rep.OK < 2 {
			t.Fatalf("%s: first run: %+v %v", kind, rep, err)
		}
		rotated := rep.OK

		// What a crash leaves: the plan, the "done" of one ref only, and (for
		// commands) another's 429 refusal, after which it was sent again and
		// applied.
		journals, _ := filepath.Glob(filepath.Join(filepath.Dir(w.cfg.Path), "journal", "mm."+kind+"-*.jsonl"))
		if len(journals) != 1 {
			t.Fatalf("%s: journals %v", kind, journals)
		}
		raw, err := os.ReadFile(journals[0])
		if err != nil {
			t.Fatal(err)
		}
		var kept []string
		var doneRef, plannedRef string
		for _, line := range strings.SplitAfter(string(raw), "\n") {
			var e struct{ Ref, Event string }
			_ = json.Unmarshal([]byte(line), &e)
			switch {
			case e.Event == "planned":
				kept = append(kept, line)
				plannedRef = e.Ref
			case e.Event == "done" && doneRef == "":
				kept = append(kept, line)
				doneRef = e.Ref
			}
		}
		if kind == account.KindCommand { // the webhooks keep an unsettled plan this way
			if plannedRef == doneRef {
				t.Fatalf("%s: want the 429 on another ref than the done one", kind)
			}
			kept = append(kept, `{"ref":"`+plannedRef+`","event":"failed","error":"rate limited","time":"2026-11-23T10:00:00Z"}`+"\n")
		}
		if err := os.WriteFile(journals[0], []byte(strings.Join(kept, "")), 0o600); err != nil {
			t.Fatal(err)
		}
		added := 0
		if kind == account.KindCommand {
			added = len(w.sb.Mattermost.SeedCommands(mattermostsim.TeamName, 2)) // after the crash: in no plan
		}

		if _, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: kind}); !errors.Is(err, account.ErrInterruptedRun) {
			t.Fatalf("%s: a fresh run over an unsettled plan: want ErrInterruptedRun, got %v", kind, err)
		}
		mark := len(w.sb.Env.Ledger.Entries())
		rep, err = w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: kind, Resume: true})
		if err != nil {
			t.Fatal(err)
		}
		readBack := 0
		for _, it := range rep.Items {
			if it.Note != "" {
				readBack++
			}
		}
		if !rep.AllOK() || rep.Skipped != 1 || rep.OK != rotated-1+added || readBack != rotated-1 {
			t.Fatalf("%s: resume: ok %d skipped %d failed %d unknown %d, %d read back; want %d read back, %d rotated",
				kind, rep.OK, rep.Skipped, rep.Failed, rep.Unknown, readBack, rotated-1, added)
		}
		if got := len(w.sb.Env.Ledger.Entries()) - mark; got != added {
			t.Fatalf("%s: the resume issued %d tokens, want %d (only what no plan mentions)", kind, got, added)
		}
		// The store holds the token the server holds.
		listed, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: kind})
		if err != nil {
			t.Fatal(err)
		}
		for _, tk := range listed {
			if !tk.Stored {
				t.Fatalf("%s: %s not stored after the resume", kind, tk.RefString)
			}
		}
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

func TestRotateAllStoppedMidwayLosesNothing(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	w.sb.Mattermost.SeedCommands(mattermostsim.TeamName, 10)
	before := len(w.issuedTokens("mattermost", "command"))
	w.sb.Env.Faults.Add(simnet.Rule{Path: "/regen_token", Fault: simnet.Slow, Delay: 300 * time.Millisecond})
	ctx, cancel := context.WithTimeout(context.Background(), 150*time.Millisecond)
	defer cancel()
	var first account.BulkProgress
	calls := 0
	rep, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand, Parallel: 2,
		Progress: func(p account.BulkProgress) {
			if calls == 0 {
				first = p
			}
			calls++
		}})
	if err != nil {
		t.Fatal(err)
	}
	if first.Total != len(rep.Items) || first.Done+first.Failed+first.Unknown != 0 {
		t.Fatalf("the first progress call comes before any request: %+v", first)
	}
	issued := w.issuedTokens("mattermost", "command")[before:]
	if len(issued) == 0 || rep.OK != len(issued) {
		t.Fatalf("the requests in flight when the run stopped must finish and be stored: %d issued, %d ok", len(issued), rep.OK)
	}
	for _, it := range rep.Items {
		if it.Status == account.BulkOK && w.stored(it.Name) == "" {
			t.Fatalf("%s not stored", it.Ref)
		}
	}
	if rep.Failed != len(rep.Items)-rep.OK {
		t.Fatalf("the rest are not started: %d failed of %d", rep.Failed, len(rep.Items))
	}
	// Resuming finishes the rest without touching the done ones.
	rep2, err := w.mgr.RotateAll(context.Background(), "mm", account.BulkOptions{Kind: account.KindCommand, Resume: true,
		Progress: func(p account.BulkProgress) {
			if p.Done+p.Failed+p.Unknown == 0 && p.Skipped != rep.OK {
				t.Errorf("resume progress starts with %d skipped, want %d", p.Skipped, rep.OK)
			}
		}})
	if err != nil || rep2.Skipped != rep.OK || rep2.OK != len(rep.Items)-rep.OK {
		t.Fatalf("resume: %+v %v", rep2, err)
	}
}

func TestRotateAllInterruptedRunErrorNamesRefAndJournal(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	w.sb.Env.Faults.Add(simnet.Rule{Path: "/regen_token", Fault: simnet.DropAfterApply, Times: 1})
	if _, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand}); err != nil {
		t.Fatal(err)
	}
	_, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand})
	var ir *account.InterruptedRunError
	if !errors.As(err, &ir) || !errors.Is(err, account.ErrInterruptedRun) || ir.Ref == "" || ir.Journal == "" {
		t.Fatalf("err = %v", err)
	}
	// Other kinds are not held back.
	if _, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindWebhook}); err != nil {
		t.Fatalf("webhooks: %v", err)
	}
}

func TestRotateAllCarriesChallengesAndUnsavedTokens(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.add(config.Account{Name: "rc", Service: account.RocketChat, URL: w.sb.RocketChatURL, User: "carol"})
	if _, err := w.mgr.Login(ctx, account.LoginRequest{Account: "rc", Password: rocketchatsim.CarolPassword}); err != nil {
		t.Fatal(err)
	}
	for _, n := range []string{"a", "b"} {
		if _, err := w.mgr.Create(ctx, "rc", n, false, &account.Answer{Method: "password", Code: rocketchatsim.CarolPassword}); err != nil {
			t.Fatal(err)
		}
	}
	// A fresh session forgets the passed second factor.
	if _, err := w.mgr.Login(ctx, account.LoginRequest{Account: "rc", Password: rocketchatsim.CarolPassword}); err != nil {
		t.Fatal(err)
	}
	rep, err := w.mgr.RotateAll(ctx, "rc", account.BulkOptions{Kind: account.KindPAT})
	if err != nil {
		t.Fatal(err)
	}
	for _, it := range rep.Items {
		if it.Status == account.BulkFailed && it.Challenge == nil {
			t.Fatalf("%s failed without its challenge: %s", it.Ref, it.Error)
		}
	}
	w.store.Ops = []string{"set"}
	rep, err = w.mgr.RotateAll(ctx, "rc", account.BulkOptions{Kind: account.KindPAT, Resume: true, Answer: &account.Answer{Method: "password", Code: rocketchatsim.CarolPassword}})
	if err != nil {
		t.Fatal(err)
	}
	w.store.Ops = []string{"none"}
	saved := 0
	for _, it := range rep.Items {
		if it.Value != "" {
			if it.Issued == nil || it.Issued.Value != it.Value {
				t.Fatal("an unsaved item must carry its Issued for RetryStore")
			}
			if err := w.mgr.RetryStore(ctx, it.Issued); err != nil {
				t.Fatal(err)
			}
			saved++
		}
	}
	if saved == 0 {
		t.Fatal("no token came back unsaved")
	}
}

// A run that cannot open its journal starts nothing that outlives it: no
// goroutine keeps flushing the index behind the caller's back.
func TestRotateAllWithoutAJournalLeavesNoGoroutine(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	// The journal cannot be opened: a dangling link where it goes, which
	// keyturn does not follow.
	if _, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand}); err != nil {
		t.Fatal(err)
	}
	journals, _ := filepath.Glob(filepath.Join(filepath.Dir(w.cfg.Path), "journal", "mm.command-*.jsonl"))
	if len(journals) != 1 {
		t.Fatalf("journals %v", journals)
	}
	if err := os.Remove(journals[0]); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(t.TempDir(), "gone", "x"), journals[0]); err != nil {
		t.Fatal(err)
	}
	if _, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand}); err == nil {
		t.Fatal("want an error when the journal cannot be opened")
	}
	deadline := time.Now().Add(2 * time.Second)
	for {
		buf := make([]byte, 1<<20)
		stacks := string(buf[:runtime.Stack(buf, true)])
		if !strings.Contains(stacks, "account.(*Manager).RotateAll.func") {
			return
		}
		if time.Now().After(deadline) {
			t.Fatal("a goroutine of the failed run is still running")
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// A personal access token's value is shown only once, so a lost answer
// stays unknown on resume, and the token is not sent again.
func TestRotateAllResumeKeepsAnUnshownTokenUnknown(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.add(config.Account{Name: "rc", Service: account.RocketChat, URL: w.sb.RocketChatURL, User: "carol"})
	if _, err := w.mgr.Login(ctx, account.LoginRequest{Account: "rc", Password: rocketchatsim.CarolPassword}); err != nil {
		t.Fatal(err)
	}
	ans := &account.Answer{Method: "password", Code: rocketchatsim.CarolPassword}
	for _, n := range []string{"a", "b", "c"} {
		if _, err := w.mgr.Create(ctx, "rc", n, false, ans); err != nil {
			t.Fatal(err)
		}
	}
	w.sb.Env.Faults.Add(simnet.Rule{Path: "users.regeneratePersonalAccessToken", Fault: simnet.DropAfterApply, Times: 1})
	rep, err := w.mgr.RotateAll(ctx, "rc", account.BulkOptions{Kind: account.KindPAT, Answer: ans})
	if err != nil || rep.Unknown != 1 || rep.OK != len(rep.Items)-1 {
		t.Fatalf("first run: %+v %v", rep, err)
	}
	mark := len(w.sb.Env.Ledger.Entries())
	rep, err = w.mgr.RotateAll(ctx, "rc", account.BulkOptions{Kind: account.KindPAT, Resume: true, Answer: ans})
	if err != nil || rep.Unknown != 1 || rep.Skipped != len(rep.Items)-1 || rep.OK != 0 {
		t.Fatalf("resume: %+v %v", rep, err)
	}
	if got := len(w.sb.Env.Ledger.Entries()) - mark; got != 0 {
		t.Fatalf("the resume issued %d tokens", got)
	}
}

// A listed token may carry the server's current value (for a resumed bulk
// run): printing it must not show that.
func TestTokenPrintsWithoutItsValue(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	toks, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	if err != nil || len(toks) == 0 {
		t.Fatal(err)
	}
	iss, err := w.mgr.Fetch(ctx, "mm", toks[0].Ref)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"%v", "%+v", "%s"} {
		if strings.Contains(fmt.Sprintf(f, toks[0]), iss.Value) || strings.Contains(fmt.Sprintf(f, toks), iss.Value) {
			t.Fatalf("%s shows the token's value", f)
		}
	}
}
