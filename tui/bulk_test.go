package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/simnet"
)

// Rotate all (R on a token section), driven through Update and View over
// the sandbox.

// pressAsync sends a key without waiting for the commands it starts.
func (h *harness) pressAsync(k string) {
	h.t.Helper()
	_, cmd := h.m.Update(keyMsg(k))
	h.run(cmd)
}

// dialogSays checks for sentences in the top dialog alone, however they
// wrap (the screen behind it would interleave with its lines).
func (h *harness) dialogSays(want ...string) {
	h.t.Helper()
	d := h.m.topDialog()
	if d == nil {
		h.t.Fatalf("no dialog:\n%s", h.dump())
	}
	text := ansi.Strip(d.view(h.m, h.m.width-2, h.m.height-2))
	text = strings.NewReplacer("│", " ", "╭", " ", "╮", " ", "╰", " ", "╯", " ", "─", " ").Replace(text)
	flat := strings.Join(strings.Fields(text), " ")
	for _, w := range want {
		if !strings.Contains(flat, strings.Join(strings.Fields(w), " ")) {
			h.t.Fatalf("the dialog does not say %q:\n%s", w, h.dump())
		}
	}
}

// pumpUntil delivers messages one at a time until cond holds.
func (h *harness) pumpUntil(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.After(20 * time.Second)
	for !cond() {
		select {
		case msg := <-h.msgs:
			h.deliver(msg)
		case <-deadline:
			h.t.Fatalf("waited in vain for %s; screen:\n%s", what, h.dump())
		}
	}
}

// issuedByID counts the ledger's entries for each id of a kind.
func (h *harness) issuedByID(kind string) map[string]int {
	out := map[string]int{}
	for _, e := range h.ledgerOf(kind) {
		out[e.ID]++
	}
	return out
}

func sameCounts(a, b map[string]int) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if b[k] != v {
			return false
		}
	}
	return true
}

// rotations counts how often the server issued a token for each id of a
// kind after its seed (the sandbox records its seeds in the ledger too);
// ids never rotated are left out.
func (h *harness) rotations(kind string) map[string]int {
	out := map[string]int{}
	for _, e := range h.ledgerOf(kind) {
		out[e.ID]++
	}
	for id, n := range out {
		if n == 1 {
			delete(out, id)
		} else {
			out[id] = n - 1
		}
	}
	return out
}

// waitFor polls cond without delivering messages: what the workers do
// meanwhile stays in the queue.
func (h *harness) waitFor(what string, cond func() bool) {
	h.t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			h.t.Fatalf("waited in vain for %s; screen:\n%s", what, h.dump())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// nothingLost checks that every token the server issued for a kind since
// the ledger held from entries is in the store under its item's name, or
// in the report as NOT saved; it returns how many there were.
func (h *harness) nothingLost(kind string, from int, items []account.BulkItem) int {
	h.t.Helper()
	held := map[string]string{}
	for _, it := range items {
		switch {
		case it.Value != "":
			held[it.Value] = "NOT saved in the report"
		case it.Name != "":
			if v, err := h.mgr.Vault().Get(context.Background(), it.Name); err == nil {
				held[v] = "stored"
			}
		}
	}
	issued := h.ledgerOf(kind)[from:]
	for _, e := range issued {
		if held[e.Token] == "" {
			h.t.Fatalf("the server issued a token for %s %s that is neither stored nor in the report", kind, e.ID)
		}
	}
	return len(issued)
}

func (h *harness) bulkDialog() *bulkDialog {
	h.t.Helper()
	d, ok := h.m.topDialog().(*bulkDialog)
	if !ok {
		h.t.Fatalf("no rotate-all dialog on top:\n%s", h.dump())
	}
	return d
}

func TestRotateAllSlashCommandsConfirmProgressReport(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.sb.Mattermost.SeedCommands(mattermostsim.TeamName, 9)
	h.signInMattermost()
	n := 0
	for _, tk := range h.m.acct.tokens {
		if tk.Kind == account.KindCommand && tk.Team == mattermostsim.TeamName {
			n++
		}
	}
	if n < 10 {
		t.Fatalf("only %d slash commands listed", n)
	}
	// R on the MFA row says what it needs.
	h.press("R")
	h.says("R rotates every token of a section: move to one of its tokens first")
	h.cursorTo("/deploy")
	h.says("Slash commands · team ops R rotates all " + itoa(n))
	h.press("R")
	h.dialogSays("Rotate all "+itoa(n)+" slash-command tokens?",
		"Mattermost replaces the tokens of these "+itoa(n)+" slash commands (team ops) at once, 4 at a time.",
		"Every integration using these "+itoa(n)+" slash-command tokens must get its new token",
		"Esc stops the run: nothing more is sent; the requests already sent finish and are saved.",
		"y Rotate all "+itoa(n), "n Cancel")
	// n cancels: nothing is sent.
	h.press("n")
	h.lacks("Rotate all " + itoa(n) + " slash-command tokens?")
	if got := len(h.rotations("command")); got != 0 {
		t.Fatalf("a cancelled confirm rotated %d tokens", got)
	}

	// Each request takes a while, so the progress can be watched.
	h.sb.Env.Faults.Add(simnet.Rule{Path: "regen_token", Fault: simnet.Slow, Delay: 150 * time.Millisecond})
	h.press("R")
	h.pressAsync("y")
	d := h.bulkDialog()
	h.dialogSays("Rotate all · Slash commands · team ops", "Rotating "+itoa(n)+" slash-command tokens of mm (team ops), 4 at a time.",
		"Each new token is saved the moment it arrives.", "Listing the tokens…", "esc stops: nothing more is sent")
	h.pumpUntil("some progress", func() bool { return d.run.prog.Done >= 2 })
	p := d.run.prog
	if p.Total != n {
		t.Fatalf("progress total %d, want %d", p.Total, n)
	}
	h.says("✓ "+itoa(p.Done)+" done", "✗ 0 failed", "? 0 unknown", itoa(n-p.Done)+" remaining", "Last: /")
	h.contains("█", "░")
	h.settle()

	// The report: every one rotated and saved.
	h.says("Rotated · Slash commands · team ops", "✓ "+itoa(n)+" rotated")
	h.lacks("NOT saved", "failed", "unknown", "not started")
	for id, k := range h.rotations("command") {
		if k != 1 {
			t.Fatalf("command %s rotated %d times", id, k)
		}
	}
	if got := len(h.rotations("command")); got != n {
		t.Fatalf("%d commands rotated, want %d", got, n)
	}
	for _, it := range d.run.items {
		v, err := h.mgr.Vault().Get(context.Background(), it.Name)
		if err != nil || v == "" || !strings.HasSuffix(v, it.Fingerprint) {
			t.Fatalf("%s: not in the store (%v)", it.Ref, err)
		}
		// No value is on screen.
		h.lacks(v)
	}
	// The details of the selected token; the list scrolls.
	h.says("Rotated and saved as mm/command/")
	h.press("G")
	if d.rows.index() != n-1 {
		t.Fatalf("G put the cursor on %d of %d", d.rows.index(), n)
	}
	last := d.run.items[n-1]
	h.says("Rotated and saved as " + last.Name)
	h.press("g")
	h.press("enter")
	h.lacks("Rotated · Slash commands")
	if h.m.bulk != nil {
		t.Fatal("the run is still held after its report closed")
	}
	// The account screen now shows them saved.
	h.cursorTo("/deploy")
	h.contains("✓ saved …")
	h.lacks("/deploy (Deploy)       p1s8w5n6x… · created 26h ago  not held by keyturn")
}

// Esc stops sending, but the requests already sent finish and are stored:
// nothing the server issued is lost, and none turns unknown for the stop.
func TestRotateAllEscLetsRequestsInFlightFinishAndResumes(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.sb.Mattermost.SeedCommands(mattermostsim.TeamName, 13)
	h.signInMattermost()
	h.cursorTo("/deploy")
	from := len(h.ledgerOf("command"))
	// The server applies each request at once and holds its answer back.
	h.sb.Env.Faults.Add(simnet.Rule{Path: "regen_token", Fault: simnet.Slow, Delay: 600 * time.Millisecond})
	h.press("R")
	h.pressAsync("y")
	d := h.bulkDialog()
	// The first count comes before any answer.
	h.pumpUntil("the first count", func() bool { return d.run.prog.Total > 0 })
	if p := d.run.prog; p.Done+p.Failed+p.Unknown != 0 {
		t.Fatalf("the first count came after an answer: %+v", p)
	}
	h.dialogSays("Waiting for the first answers…", "0 done", itoa(d.run.prog.Total)+" remaining")
	// Requests are in flight: the server rotated tokens whose answers have
	// not come back.
	h.waitFor("requests in flight", func() bool { return len(h.ledgerOf("command")) > from })

	// Quitting now asks first.
	h.pressAsync("ctrl+c")
	h.says("Quit during a rotation?", "Quitting stops it: nothing more is sent")
	h.pressAsync("n")

	h.pressAsync("esc")
	inFlight := len(h.ledgerOf("command")) - from
	h.dialogSays("Stopping: nothing more is sent; waiting for the requests in flight")
	h.settle()
	h.dialogSays("Stopped · Slash commands · team ops", "Stopped: nothing more was sent. R resumes the run, skipping those done.", "not started")
	h.lacks("unknown")
	c := countItems(d.run.items)
	if c.unknown != 0 || c.notSaved != 0 || c.failed != 0 || c.notStarted == 0 || c.ok+c.notStarted != len(d.run.items) {
		t.Fatalf("after esc: %+v of %d", c, len(d.run.items))
	}
	// The requests in flight when Esc was pressed finished and were saved.
	if c.ok < inFlight {
		t.Fatalf("%d requests were in flight at esc, %d tokens rotated", inFlight, c.ok)
	}
	h.says("✓ "+itoa(c.ok)+" rotated", "– "+itoa(c.notStarted)+" not started")
	// Every token the server issued is stored.
	if n := h.nothingLost("command", from, d.run.items); n != c.ok {
		t.Fatalf("the server issued %d tokens, the report says %d rotated", n, c.ok)
	}
	// A not-started one says it keeps its old value.
	for i, it := range d.run.items {
		if notStarted(it) {
			for d.rows.index() != i {
				h.press("down")
			}
			break
		}
	}
	h.dialogSays("Not started: the run was stopped before this token. It keeps its old value.")

	// R resumes: the rest are rotated, none twice. The count starts with
	// the tokens the stopped run settled.
	h.sb.Env.Faults.Clear()
	h.press("R")
	h.dialogSays("Rotated · Slash commands · team ops")
	h.lacks("not started", "unknown")
	// The report covers both attempts: the tokens the first one rotated
	// still say so (the resumed run skipped them).
	c2 := countItems(d.run.items)
	if c2.ok != len(d.run.items) {
		t.Fatalf("after resuming: %+v", c2)
	}
	h.dialogSays("✓ " + itoa(c2.ok) + " rotated")
	for id, k := range h.rotations("command") {
		if k != 1 {
			t.Fatalf("command %s rotated %d times", id, k)
		}
	}
	if n := h.nothingLost("command", from, d.run.items); n != len(d.run.items) {
		t.Fatalf("the server issued %d tokens for %d commands", n, len(d.run.items))
	}
	h.press("esc")
	h.lacks("Rotated ·")
}

// The progress of a resumed run counts what the stopped one settled.
func TestRotateAllResumeCountsWhatTheStoppedRunSettled(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.sb.Mattermost.SeedCommands(mattermostsim.TeamName, 13)
	h.signInMattermost()
	h.cursorTo("/deploy")
	h.sb.Env.Faults.Add(simnet.Rule{Path: "regen_token", Fault: simnet.Slow, Delay: 300 * time.Millisecond})
	h.press("R")
	h.pressAsync("y")
	d := h.bulkDialog()
	h.pumpUntil("the first tokens", func() bool { return d.run.prog.Done >= 1 })
	h.pressAsync("esc")
	h.settle()
	done := countItems(d.run.items).ok
	h.pressAsync("R")
	h.pumpUntil("the resumed run's first count", func() bool { return d.run.prog.Total > 0 })
	p := d.run.prog
	if p.Skipped != done {
		t.Fatalf("the resumed run skips %d, the stopped one rotated %d", p.Skipped, done)
	}
	h.dialogSays("Resuming the rotation of the", itoa(done)+" settled before", itoa(p.Total-p.Skipped-p.Done-p.Failed-p.Unknown)+" remaining")
	h.settle()
	h.dialogSays("Rotated · Slash commands · team ops", "✓ "+itoa(len(d.run.items))+" rotated")
}

func TestRotateAllNotSavedAsksBeforeLeavingAndQuitting(t *testing.T) {
	store := failingStore()
	h := newHarness(t, harnessOpts{backend: store})
	h.signInMattermost()
	h.cursorTo("CI events")
	h.press("R")
	h.dialogSays("Rotate all 2 outgoing-webhook tokens?", "Every service receiving these 2 outgoing webhooks must check its new token")
	store.Ops = []string{"set"}
	h.press("y")
	d := h.bulkDialog()
	h.dialogSays("Rotated · Outgoing webhooks · team ops", "✗ 2 NOT saved", "✗ 2 tokens NOT saved",
		"only in this window: s saves it again, c copies it", "The only copy: c copies it, space reveals it. Fix the store and save it again (s).",
		"was issued but NOT saved", "failing on purpose")
	if len(h.m.unsaved) != 2 {
		t.Fatalf("unsaved: %d", len(h.m.unsaved))
	}
	var values []string
	for _, it := range d.run.items {
		if it.Value == "" {
			t.Fatalf("%s: no value handed back", it.Ref)
		}
		values = append(values, it.Value)
		// Masked until asked.
		h.lacks(it.Value)
	}
	// space reveals the selected one, c copies it.
	sel, _ := d.selected()
	h.press("space")
	h.contains(sel.Value)
	h.press("space")
	h.lacks(sel.Value)
	h.press("c")
	if len(h.clip) != 1 || h.clip[0] != sel.Value {
		t.Fatalf("clipboard got %d items", len(h.clip))
	}
	h.says("Copied to the clipboard")
	h.press("down")
	sel2, _ := d.selected()
	h.press("c")
	if len(h.clip) != 2 || h.clip[1] != sel2.Value || sel2.Value == sel.Value {
		t.Fatal("c did not copy the second token")
	}
	// Every token the server issued is in the report.
	for _, e := range h.ledgerOf("webhook")[2:] {
		found := false
		for _, v := range values {
			found = found || v == e.Token
		}
		if !found {
			t.Fatal("a token the server issued is neither saved nor in the report")
		}
	}

	// Closing asks first.
	h.press("esc")
	h.dialogSays("2 tokens are NOT saved anywhere. Closing loses them for good. Close anyway? y/n")
	h.press("n")
	h.lacks("Close anyway")
	// Quitting asks first, naming them.
	_, cmd := h.m.Update(keyMsg("ctrl+c"))
	if cmd != nil {
		t.Fatal("ctrl+c quit with unsaved tokens")
	}
	h.dialogSays("Quit with unsaved tokens?", "2 tokens were issued but NOT saved: "+h.m.unsaved[0].Name, "from their result dialog or the rotation report", "y Quit anyway")
	h.press("n")
	h.says("✗ 2 tokens NOT saved")
	// Discarding is explicit.
	h.press("enter", "y")
	h.says("2 tokens were discarded: never saved")
	if len(h.m.unsaved) != 0 {
		t.Fatalf("still unsaved: %d", len(h.m.unsaved))
	}
	_, cmd = h.m.Update(keyMsg("q"))
	if cmd == nil {
		t.Fatal("q did not quit once the tokens were discarded")
	}
}

// s saves a NOT saved token again once the store works: it then shows as
// saved and is no longer held as unsaved.
func TestRotateAllSaveAgainOnceTheStoreRecovers(t *testing.T) {
	store := failingStore()
	h := newHarness(t, harnessOpts{backend: store})
	h.signInMattermost()
	h.cursorTo("CI events")
	from := len(h.ledgerOf("webhook"))
	store.Ops = []string{"set"}
	h.press("R", "y")
	d := h.bulkDialog()
	h.dialogSays("✗ 2 NOT saved", "✗ 2 tokens NOT saved")
	h.contains("s save •")
	sel, _ := d.selected()
	// While the store still fails, s leaves it NOT saved and says so.
	h.press("s")
	h.dialogSays("Still NOT saved.", "✗ 2 NOT saved", "failing on purpose")
	if len(h.m.unsaved) != 2 {
		t.Fatalf("unsaved: %d", len(h.m.unsaved))
	}
	// The store recovers: s saves the selected one.
	store.Ops = []string{"none"}
	h.press("s")
	h.dialogSays("Saved.", "✓ 1 rotated", "✗ 1 NOT saved", "✗ 1 token NOT saved", "Rotated and saved as "+sel.Name)
	if v, err := h.mgr.Vault().Get(context.Background(), sel.Name); err != nil || v != sel.Value {
		t.Fatalf("%s is not in the store (%v)", sel.Name, err)
	}
	if len(h.m.unsaved) != 1 || h.m.unsaved[0].Name == sel.Name {
		t.Fatalf("the saved token is still held as unsaved: %d", len(h.m.unsaved))
	}
	if it, _ := d.selected(); it.Value != "" || outcomeWord(it) != "rotated" {
		t.Fatalf("the saved token still reads %q", outcomeWord(it))
	}
	// The other one too.
	h.press("down", "s")
	h.dialogSays("✓ 2 rotated")
	h.lacks("NOT saved")
	if len(h.m.unsaved) != 0 {
		t.Fatalf("unsaved: %d", len(h.m.unsaved))
	}
	if n := h.nothingLost("webhook", from, d.run.items); n != 2 {
		t.Fatalf("the server issued %d tokens", n)
	}
	// Nothing is left to lose: closing does not ask, and q quits at once.
	h.press("esc")
	h.lacks("Rotated ·", "Close anyway")
	if h.m.bulk != nil {
		t.Fatal("the run is still held after its report closed")
	}
	if _, cmd := h.m.Update(keyMsg("q")); cmd == nil {
		t.Fatal("q did not quit once the tokens were saved")
	}
}

// A store that fails for a while during a run: the tokens handed back are
// registered as they arrive, before the run ends.
func TestRotateAllRegistersUnsavedTokensAsTheyArrive(t *testing.T) {
	store := failingStore()
	h := newHarness(t, harnessOpts{backend: store})
	h.sb.Mattermost.SeedCommands(mattermostsim.TeamName, 5)
	h.signInMattermost()
	h.cursorTo("/deploy")
	store.Ops = []string{"set"}
	h.sb.Env.Faults.Add(simnet.Rule{Path: "regen_token", Fault: simnet.Slow, Delay: 300 * time.Millisecond})
	h.press("R")
	h.pressAsync("y")
	d := h.bulkDialog()
	h.pumpUntil("a token handed back", func() bool { return len(h.m.unsaved) > 0 })
	if d.phase != bulkRunning {
		t.Fatal("the run had ended; this test wants the progress")
	}
	h.pressAsync("ctrl+c")
	h.dialogSays("Quit with unsaved tokens?", "issued but NOT saved", "keyturn is rotating the")
	h.pressAsync("n")
	h.settle()
	c := countItems(d.run.items)
	if c.notSaved != len(d.run.items) || len(h.m.unsaved) != c.notSaved {
		t.Fatalf("counts %+v, unsaved %d", c, len(h.m.unsaved))
	}
}

func TestRotateAllInterruptedRunOffersResume(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.cursorTo("/deploy")
	// One request is applied and its answer lost.
	h.sb.Env.Faults.Add(simnet.Rule{Path: "regen_token", Fault: simnet.DropAfterApply, Times: 1})
	h.press("R", "y")
	d := h.bulkDialog()
	h.dialogSays("? 1 unknown")
	var lost account.BulkItem
	for i, it := range d.run.items {
		if it.Status == account.BulkUnknown {
			lost = it
			for d.rows.index() != i {
				h.press("down")
			}
		}
	}
	h.dialogSays("keyturn does not send it again: check the integration, or rotate this token on its own", "no answer came back", "the server may have rotated the token")
	h.press("enter")
	h.lacks("Rotated ·")

	// A fresh run is refused until the interrupted one is finished.
	before := h.rotations("command")
	h.press("R", "y")
	h.dialogSays("Resume the interrupted rotation?",
		"A previous rotation run of mm stopped with a request sent and no answer ("+lost.Ref+").",
		"Resuming finishes it: tokens that run rotated are skipped",
		"a token sent with no answer is never sent again: read back from the server if it shows it",
		"To start over instead, delete", "y Resume")
	// n leaves everything as it was.
	h.press("n")
	h.says("Nothing was rotated")
	h.press("R", "y")
	h.says("Resume the interrupted rotation?")
	h.press("y")
	d = h.bulkDialog()
	h.says("Rotated · Slash commands · team ops", "already done", "✓ 1 rotated")
	c := countItems(d.run.items)
	if c.unknown != 0 || c.skipped != len(d.run.items)-1 || c.ok != 1 {
		t.Fatalf("resumed: %+v", c)
	}
	// The lost answer's token was read back from the server, not sent again.
	for i, it := range d.run.items {
		if it.Ref == lost.Ref {
			for d.rows.index() != i {
				h.press("down")
			}
		}
	}
	h.dialogSays("Rotated by the stopped run, whose answer was lost; saved the token the server holds now.")
	after := h.rotations("command")
	for id, k := range after {
		if k != before[id] {
			t.Fatalf("resuming rotated command %s again", id)
		}
	}

	// The resumed run finished it: a fresh run is no longer held back, and
	// rotates every one again.
	h.press("enter")
	h.lacks("Rotated ·")
	h.press("R", "y")
	h.lacks("Resume the interrupted rotation?")
	d = h.bulkDialog()
	h.says("Rotated · Slash commands · team ops", "✓ "+itoa(len(d.run.items))+" rotated")
	h.lacks("already done", "unknown")
	for id, k := range h.rotations("command") {
		if k != after[id]+1 {
			t.Fatalf("the fresh run rotated command %s %d times", id, k-after[id])
		}
	}
	if got := len(h.rotations("command")); got != len(d.run.items) {
		t.Fatalf("%d commands rotated of %d", got, len(d.run.items))
	}
}

func TestRotateAllRocketChatAsksOnceForTheBatch(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInRocketChat()
	ctx := context.Background()
	// Two more PATs; creating them answers the second factor, which the
	// server then remembers for 30 minutes: let them pass.
	for _, name := range []string{"bulk-a", "bulk-b"} {
		ans := &account.Answer{Method: methodTOTP, Code: h.code("rocketchat alice TOTP")}
		if _, err := h.mgr.Create(ctx, rcAcct, name, false, ans); err != nil {
			t.Fatal(err)
		}
	}
	h.sb.Env.Clock.Advance(31 * time.Minute)
	h.press("ctrl+r")
	h.cursorTo("bulk-a")
	before := h.issuedByID("pat")
	h.press("R")
	h.dialogSays("Rotate all 3 personal access tokens?", "Rocket.Chat replaces these 3 personal access tokens at once",
		"Every script or integration using these 3 personal access tokens stops working until it gets its new token.",
		"If Rocket.Chat asks for a second factor, keyturn asks once for the whole batch.")
	h.press("y")
	// The first attempt is refused for a second factor: one question for all.
	h.dialogSays("Rotate all · rc", "Rocket.Chat asks for a code from the authenticator app.",
		"One answer covers the whole batch of 3 personal access tokens", "Method:", "authenticator app", "email code")
	if got := h.issuedByID("pat"); !sameCounts(got, before) {
		t.Fatalf("the server issued PATs before the answer: %v, was %v", got, before)
	}
	// A wrong code asks again, with the server's words.
	h.typeText("000000")
	h.press("enter")
	h.says("Rocket.Chat asks for a code from the authenticator app.", "✗")
	h.lacks("Rotated ·")
	// The right one rotates the batch.
	h.typeText(h.code("rocketchat alice TOTP"))
	h.press("enter")
	d := h.bulkDialog()
	h.says("Rotated · Personal access tokens", "✓ 3 rotated")
	h.lacks("failed", "NOT saved")
	for _, it := range d.run.items {
		if v, err := h.mgr.Vault().Get(ctx, it.Name); err != nil || v == "" {
			t.Fatalf("%s not stored: %v", it.Ref, err)
		}
	}
	after := h.issuedByID("pat")
	for _, name := range []string{"seeded-ci", "bulk-a", "bulk-b"} {
		if after[name] != before[name]+1 {
			t.Fatalf("PAT %s issued %d times by the run", name, after[name]-before[name])
		}
	}
}

func TestRotateAllRocketChatAnswerByEmail(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInRocketChat()
	h.cursorTo("seeded-ci")
	h.press("R", "y")
	h.says("Rocket.Chat asks for a code from the authenticator app.")
	// tab asks Rocket.Chat to email a code (account.SendEmailCode).
	mails := len(h.sb.RocketChat.Outbox())
	h.press("tab")
	h.says("Rocket.Chat asks for the code sent by email.", "A code was sent to alice", "Switched to email code.")
	if len(h.sb.RocketChat.Outbox()) != mails+1 {
		t.Fatal("no email was sent")
	}
	h.typeText(h.sb.RocketChat.LastEmailCode("alice"))
	h.press("enter")
	h.says("Rotated · Personal access tokens", "✓ 1 rotated")
	// No pending sign-in was left behind.
	if st, err := h.mgr.Show(context.Background(), rcAcct); err != nil || st.Pending != "" {
		t.Fatalf("pending %q (%v)", st.Pending, err)
	}
}

func TestRotateAllRocketChatEscAtTheQuestionShowsTheReport(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInRocketChat()
	h.cursorTo("seeded-ci")
	h.press("R", "y")
	h.says("Rocket.Chat asks for a code from the authenticator app.")
	before := h.issuedByID("pat")
	h.press("esc")
	h.dialogSays("Rotated · Personal access tokens", "✓ 0 rotated", "✗ 1 failed", "needs a code from the authenticator app")
	if got := h.issuedByID("pat"); !sameCounts(got, before) {
		t.Fatal("a PAT was rotated without an answer")
	}
}

func TestBulkChallengeIsTheItemsOwn(t *testing.T) {
	ch := &account.Challenge{Account: "rc", Service: account.RocketChat, Step: "2fa", Method: methodEmail,
		Methods: []string{methodTOTP, methodEmail}, CodeSent: true, SentTo: "alice"}
	rep := &account.BulkReport{Items: []account.BulkItem{
		{Ref: "pat:a", Status: account.BulkOK},
		{Ref: "pat:b", Status: account.BulkFailed, Error: "rocketchat: 403 Forbidden"},
		{Ref: "pat:c", Status: account.BulkFailed, Error: ch.Error(), Challenge: ch},
	}}
	if got := bulkChallenge(account.RocketChat, rep); got != ch {
		t.Fatalf("got %+v", got)
	}
	// Words alone are not a challenge.
	rep.Items[2].Challenge = nil
	if bulkChallenge(account.RocketChat, rep) != nil {
		t.Fatal("a failure read as a challenge from its words")
	}
	rep.Items[2].Challenge = ch
	if bulkChallenge(account.Mattermost, rep) != nil {
		t.Fatal("Mattermost batches take no answer")
	}
}

// When the run with the answer cannot even start, the first attempt's
// report stands, with the error.
func TestRotateAllRocketChatRetryFailingKeepsTheReport(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInRocketChat()
	h.cursorTo("seeded-ci")
	h.press("R", "y")
	h.says("Rocket.Chat asks for a code from the authenticator app.")
	h.sb.Env.Faults.Add(simnet.Rule{Path: "users.getPersonalAccessTokens", Fault: simnet.ErrorAfterApply, Times: 1})
	h.typeText(h.code("rocketchat alice TOTP"))
	h.press("enter")
	h.dialogSays("Rotated · Personal access tokens", "✗ 1 failed", "The run ended with an error:", "500")
	if h.m.bulk == nil {
		t.Fatal("the run was dropped")
	}
	h.press("enter")
	if h.m.bulk != nil {
		t.Fatal("the run is still held after its report closed")
	}
}

// A server that remembers no passed second factor: after the first token
// the run asks a code for each token in turn, counting those left, and
// ends with all rotated.
func TestRotateAllRocketChatCodePerToken(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInRocketChat()
	ctx := context.Background()
	for _, name := range []string{"bulk-a", "bulk-b"} {
		ans := &account.Answer{Method: methodTOTP, Code: h.code("rocketchat alice TOTP")}
		if _, err := h.mgr.Create(ctx, rcAcct, name, false, ans); err != nil {
			t.Fatal(err)
		}
	}
	h.sb.RocketChat.SetForgetsSecondFactor(true)
	h.sb.Env.Clock.Advance(31 * time.Minute)
	h.press("ctrl+r")
	h.cursorTo("bulk-a")
	h.press("R", "y")
	h.dialogSays("One answer covers the whole batch of 3 personal access tokens")
	h.typeText(h.code("rocketchat alice TOTP"))
	h.press("enter")
	h.dialogSays("does not remember a passed second factor, so each token needs its own code: 2 personal access tokens are left")
	h.sb.Env.Clock.Advance(30 * time.Second)
	h.typeText(h.code("rocketchat alice TOTP"))
	h.press("enter")
	h.dialogSays("each token needs its own code: 1 personal access token is left")
	h.sb.Env.Clock.Advance(30 * time.Second)
	h.typeText(h.code("rocketchat alice TOTP"))
	h.press("enter")
	h.says("Rotated · Personal access tokens", "✓ 3 rotated")
	h.lacks("failed")
}
