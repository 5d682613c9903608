package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
	mattermostsim "keyturn/sandbox/mattermost"
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
		h.t.Fatalf("no dialog:\n%s", h.screen())
	}
	text := ansi.Strip(d.view(h.m, h.m.width-2, h.m.height-2))
	text = strings.NewReplacer("│", " ", "╭", " ", "╮", " ", "╰", " ", "╯", " ", "─", " ").Replace(text)
	flat := strings.Join(strings.Fields(text), " ")
	for _, w := range want {
		if !strings.Contains(flat, strings.Join(strings.Fields(w), " ")) {
			h.t.Fatalf("the dialog does not say %q:\n%s", w, h.screen())
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
			h.t.Fatalf("waited in vain for %s; screen:\n%s", what, h.screen())
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

func (h *harness) bulkDialog() *bulkDialog {
	h.t.Helper()
	d, ok := h.m.topDialog().(*bulkDialog)
	if !ok {
		h.t.Fatalf("no rotate-all dialog on top:\n%s", h.screen())
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
		"Esc stops the run: nothing more is sent.",
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
	if d.cursor != n-1 {
		t.Fatalf("G put the cursor on %d of %d", d.cursor, n)
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

func TestRotateAllEscStopsAndResumes(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.sb.Mattermost.SeedCommands(mattermostsim.TeamName, 13)
	h.signInMattermost()
	h.cursorTo("/deploy")
	h.sb.Env.Faults.Add(simnet.Rule{Path: "regen_token", Fault: simnet.Slow, Delay: 400 * time.Millisecond})
	h.press("R")
	h.pressAsync("y")
	d := h.bulkDialog()
	h.pumpUntil("the first tokens", func() bool { return d.run.prog.Done >= 1 })

	// Quitting now asks first.
	h.pressAsync("ctrl+c")
	h.says("Quit during a rotation?", "Quitting stops it: nothing more is sent")
	h.pressAsync("n")

	h.pressAsync("esc")
	h.dialogSays("Stopping: nothing more is sent; waiting for the requests in flight")
	h.settle()
	h.dialogSays("Stopped · Slash commands · team ops", "Stopped: nothing more was sent. R resumes the run, skipping those done.", "not started")
	c := countItems(d.run.items)
	if c.notStarted == 0 || c.ok == 0 || c.ok+c.unknown+c.notStarted != len(d.run.items) {
		t.Fatalf("after esc: %+v of %d", c, len(d.run.items))
	}
	h.says("✓ "+itoa(c.ok)+" rotated", "– "+itoa(c.notStarted)+" not started")
	// Nothing the server issued is silently lost: it is saved, or the
	// report says the request went unanswered.
	reported := map[string]string{}
	for _, it := range d.run.items {
		reported[strings.TrimPrefix(it.Ref, "command:")] = outcomeWord(it)
	}
	for id := range h.rotations("command") {
		if w := reported[id]; w != "rotated" && w != "unknown" {
			t.Fatalf("command %s was rotated on the server but reported %q", id, w)
		}
	}
	// A not-started one says it keeps its old value.
	for i, it := range d.run.items {
		if notStarted(it) {
			for d.cursor != i {
				h.press("down")
			}
			break
		}
	}
	h.dialogSays("Not started: the run was stopped before this token. It keeps its old value.")

	// R resumes: the rest are rotated, none twice.
	h.sb.Env.Faults.Clear()
	h.press("R")
	h.dialogSays("Rotated · Slash commands · team ops")
	h.lacks("not started")
	// The report covers both attempts: the tokens the first one rotated
	// still say so (the resumed run skipped them).
	c2 := countItems(d.run.items)
	if c2.notStarted != 0 || c2.skipped != 0 || c2.ok+c2.unknown != len(d.run.items) || c2.unknown != c.unknown {
		t.Fatalf("after resuming: %+v", c2)
	}
	h.dialogSays("✓ " + itoa(c2.ok) + " rotated")
	for id, k := range h.rotations("command") {
		if k != 1 {
			t.Fatalf("command %s rotated %d times", id, k)
		}
	}
	h.press("esc")
	h.lacks("Rotated ·")
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
		"only in this window: select each, c copies it", "The only copy: c copies it, r reveals it. keyturn cannot save it again from here.",
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
	// r reveals the selected one, c copies it.
	sel, _ := d.selected()
	h.press("r")
	h.contains(sel.Value)
	h.press("r")
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
			for d.cursor != i {
				h.press("down")
			}
		}
	}
	h.dialogSays("keyturn does not send it again: check the integration, or regenerate this token on its own", "no answer came back", "the server may have rotated the token")
	h.press("enter")
	h.lacks("Rotated ·")

	// A fresh run is refused until the interrupted one is finished.
	before := h.rotations("command")
	h.press("R", "y")
	h.dialogSays("Resume the interrupted rotation?",
		"A previous rotation run of mm stopped with a request sent and no answer ("+lost.Ref+").",
		"Resuming finishes it: tokens that run rotated are skipped",
		"a token sent with no answer is reported as unknown, never sent again.",
		"To start over instead, delete", "y Resume")
	// n leaves everything as it was.
	h.press("n")
	h.says("Nothing was rotated")
	h.press("R", "y")
	h.says("Resume the interrupted rotation?")
	h.press("y")
	d = h.bulkDialog()
	h.says("Rotated · Slash commands · team ops", "already done", "? 1 unknown")
	c := countItems(d.run.items)
	if c.unknown != 1 || c.skipped != len(d.run.items)-1 || c.ok != 0 {
		t.Fatalf("resumed: %+v", c)
	}
	after := h.rotations("command")
	for id, k := range after {
		if k != before[id] {
			t.Fatalf("resuming rotated command %s again", id)
		}
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

func TestBulkChallengeReadsAccountsWords(t *testing.T) {
	for _, tc := range []*account.Challenge{
		{Account: "rc", Service: account.RocketChat, Step: "2fa", Method: methodTOTP},
		{Account: "rc", Service: account.RocketChat, Step: "2fa", Method: methodEmail, CodeSent: true, SentTo: "alice"},
		{Account: "rc", Service: account.RocketChat, Step: "2fa", Method: methodTOTP, Invalid: true, Message: "TOTP Invalid"},
		{Account: "rc", Service: account.RocketChat, Step: "2fa", Method: methodPassword},
		{Account: "rc", Service: account.RocketChat, Step: "2fa", Method: methodEmail, Locked: true},
	} {
		rep := &account.BulkReport{Items: []account.BulkItem{{Ref: "pat:a", Status: account.BulkOK}, {Ref: "pat:b", Status: account.BulkFailed, Error: tc.Error()}}}
		got := bulkChallenge("rc", account.RocketChat, rep)
		if got == nil {
			t.Fatalf("%q: not recognised", tc.Error())
		}
		if got.Locked != tc.Locked || got.Invalid != tc.Invalid || got.CodeSent != tc.CodeSent || got.SentTo != tc.SentTo || got.Message != tc.Message {
			t.Fatalf("%q: read as %+v", tc.Error(), got)
		}
		if !tc.Locked && got.Method != tc.Method {
			t.Fatalf("%q: method %s", tc.Error(), got.Method)
		}
	}
	rep := &account.BulkReport{Items: []account.BulkItem{{Ref: "pat:a", Status: account.BulkFailed, Error: "rocketchat: 403 Forbidden"}}}
	if bulkChallenge("rc", account.RocketChat, rep) != nil {
		t.Fatal("an ordinary failure read as a challenge")
	}
	if bulkChallenge("mm", account.Mattermost, rep) != nil {
		t.Fatal("Mattermost batches have no challenge")
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
