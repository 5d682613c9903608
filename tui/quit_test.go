package tui

import (
	"strings"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"

	"keyturn/account"
	"keyturn/sandbox/simnet"
)

// regenInFlight starts regenerating /oncall with its answer held, and
// returns once the server has rotated the token (the answer is on its way).
// beforeSend, when set, runs just before the request is started.
func regenInFlight(t *testing.T, h *harness, beforeSend ...func()) {
	t.Helper()
	h.signInMattermost()
	h.cursorTo("/oncall")
	before := len(h.commandTokens())
	h.sb.Env.Faults.Add(simnet.Rule{Path: "/regen_token", Method: "PUT", Fault: simnet.Slow, Delay: 800 * time.Millisecond, Times: 1})
	h.press("r")
	for _, f := range beforeSend {
		f()
	}
	_, cmd := h.m.Update(keyMsg("y"))
	h.run(cmd)
	for deadline := time.Now().Add(10 * time.Second); len(h.commandTokens()) == before; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the regeneration never reached the server")
		}
	}
}

func (h *harness) commandTokens() []string {
	var out []string
	for _, e := range h.sb.Env.Ledger.Entries() {
		if e.Service == "mattermost" && e.Kind == "command" {
			out = append(out, e.Token)
		}
	}
	return out
}

// quits reports whether cmd, run now, quits the program.
func quits(cmd tea.Cmd) bool {
	if cmd == nil {
		return false
	}
	switch msg := cmd().(type) {
	case tea.QuitMsg:
		return true
	case tea.BatchMsg:
		for _, c := range msg {
			if quits(c) {
				return true
			}
		}
	}
	return false
}

// pumpUntilQuit delivers results until one of them quits the program, or
// until nothing is outstanding.
func (h *harness) pumpUntilQuit() bool {
	h.t.Helper()
	deadline := time.After(10 * time.Second)
	for {
		select {
		case msg := <-h.msgs:
			h.deliver(msg)
			if _, ok := msg.(tea.QuitMsg); ok {
				return true
			}
			h.mu.Lock()
			idle := h.inflight == 0
			h.mu.Unlock()
			if idle {
				return false
			}
		case <-deadline:
			return false
		}
	}
}

// TestQuitWaitsForARegenerationInFlight: ctrl+c, SIGINT, SIGTERM or SIGHUP
// while the server is answering a regeneration waits, says so, and quits
// once the new token is stored.
func TestQuitWaitsForARegenerationInFlight(t *testing.T) {
	for _, how := range []string{"ctrl+c", "SIGINT", "SIGTERM", "SIGHUP"} {
		t.Run(how, func(t *testing.T) {
			h := newHarness(t, harnessOpts{})
			regenInFlight(t, h)
			var cmd tea.Cmd
			switch how {
			case "SIGINT":
				_, cmd = h.m.Update(signalMsg{syscall.SIGINT})
			case "SIGTERM":
				_, cmd = h.m.Update(signalMsg{syscall.SIGTERM})
			case "SIGHUP":
				_, cmd = h.m.Update(signalMsg{syscall.SIGHUP})
			default:
				_, cmd = h.m.Update(keyMsg(how))
			}
			if quits(cmd) {
				t.Fatal(how + " quit at once while a regeneration was on its way")
			}
			h.says("Quitting…", "Waiting for the rotation of mm command:", "to answer and be stored",
				"ctrl+c again quits now: that token may then be lost")
			// Other keys do nothing meanwhile.
			_, cmd = h.m.Update(keyMsg("esc"))
			if cmd != nil || h.m.quitting == nil {
				t.Fatal("esc acted while quitting")
			}
			if !h.pumpUntilQuit() {
				t.Fatalf("did not quit once the answer came:\n%s", h.dump())
			}
			toks := h.commandTokens()
			name := h.storedCommandName(t)
			if v, err := h.mgr.Vault().Get(t.Context(), name); err != nil || v != toks[len(toks)-1] {
				t.Fatalf("the stored token is not the server's current one (%v)", err)
			}
			if len(h.m.forced) != 0 {
				t.Fatal("a quit that waited reports lost tokens")
			}
		})
	}
}

func (h *harness) storedCommandName(t *testing.T) string {
	t.Helper()
	entries, err := h.mgr.Vault().List(t.Context(), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Kind == account.KindCommand {
			return e.Name
		}
	}
	t.Fatal("no command token stored")
	return ""
}

// TestSecondCtrlCForcesQuitAndNamesWhatMayBeLost: quitting again while
// waiting quits at once; Run's error names the request and the recovery.
func TestSecondCtrlCForcesQuitAndNamesWhatMayBeLost(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	regenInFlight(t, h)
	h.m.Update(keyMsg("ctrl+c"))
	if h.m.quitting == nil {
		t.Fatal("not waiting")
	}
	_, cmd := h.m.Update(signalMsg{syscall.SIGINT})
	if !quits(cmd) {
		t.Fatal("a second interrupt did not quit")
	}
	if len(h.m.forced) != 1 {
		t.Fatalf("forced: %v", h.m.forced)
	}
	msg := (&ForcedQuitError{InFlight: h.m.forced}).Error()
	for _, want := range []string{"quit without waiting: the token from the rotation of mm command:", "may be lost", "'keyturn token fetch mm command:"} {
		if !strings.Contains(msg, want) {
			t.Fatalf("%q lacks %q", msg, want)
		}
	}
	h.settle()
}

// TestQuitWithNothingInFlightQuitsAtOnce: with no issuing request on its
// way, quitting does not wait (a listing in flight is just cancelled).
func TestQuitWithNothingInFlightQuitsAtOnce(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.sb.Env.Faults.SetLatency(time.Second)
	_, cmd := h.m.Update(keyMsg("ctrl+r"))
	h.run(cmd)
	_, cmd = h.m.Update(signalMsg{syscall.SIGTERM})
	if !quits(cmd) {
		t.Fatal("SIGTERM did not quit with nothing issuing in flight")
	}
	h.sb.Env.Faults.SetLatency(0)
	h.settle()
}

// TestQuitStopsWhenTheAnswerCannotBeStored: the answer a quit waited for
// could not be stored, so keyturn stays open with the token on screen.
func TestQuitStopsWhenTheAnswerCannotBeStored(t *testing.T) {
	store := failingStore()
	h := newHarness(t, harnessOpts{backend: store})
	regenInFlight(t, h, func() { store.Ops = []string{"set"} })
	h.m.Update(keyMsg("ctrl+c"))
	if h.m.quitting == nil {
		t.Fatal("not waiting")
	}
	if h.pumpUntilQuit() {
		t.Fatal("quit with a token that is NOT saved")
	}
	h.says("Not quitting: a token arrived that could NOT be saved", "NOT saved")
	if len(h.m.unsaved) != 1 {
		t.Fatalf("unsaved: %d", len(h.m.unsaved))
	}
}

// TestQuitDuringMFAActivationKeepsTheBackupCodes: ctrl+c while Rocket.Chat
// answers the activation waits for it, then stays open on the backup codes
// (shown only once) instead of quitting past them.
func TestQuitDuringMFAActivationKeepsTheBackupCodes(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	setup := bobMFASetup(t, h)
	h.sb.Env.Faults.Add(simnet.Rule{Path: "users.validateTotp", Method: "POST", Fault: simnet.Slow, Delay: 800 * time.Millisecond, Times: 1})
	h.typeText(simnet.TOTPCode(setup.Secret, h.sb.Env.Clock.Now()))
	_, cmd := h.m.Update(keyMsg("enter"))
	h.run(cmd)
	h.heldAtServer("the activation never reached the server")
	if _, cmd := h.m.Update(keyMsg("ctrl+c")); quits(cmd) {
		t.Fatal("ctrl+c quit at once while the activation was on its way")
	}
	h.says("Waiting for the MFA activation of rc-bob to answer and be stored")
	if h.pumpUntilQuit() {
		t.Fatal("quit past the backup codes")
	}
	h.says("Not quitting: the MFA activation answered with backup codes shown only once", "✓ MFA is active on rc-bob.", "Backup codes")
	// Asked now, quitting asks first.
	if _, cmd := h.m.Update(keyMsg("ctrl+c")); cmd != nil {
		t.Fatal("ctrl+c quit with the backup codes not saved")
	}
	h.says("Quit with MFA setup unfinished?")
}
