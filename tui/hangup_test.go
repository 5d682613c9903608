package tui

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"keyturn/sandbox/simnet"
)

// TestHangupQuitsPastTheQuitConfirmation: after SIGHUP nobody can answer
// "Quit with unsaved tokens?", so the hangup quits instead of leaving the
// process waiting on a dialog forever.
func TestHangupQuitsPastTheQuitConfirmation(t *testing.T) {
	store := failingStore()
	h := newHarness(t, harnessOpts{backend: store})
	h.signInMattermost()
	h.cursorTo("/oncall")
	store.Ops = []string{"set"}
	h.press("r", "y")
	h.says("Rotated, but NOT saved")
	if _, cmd := h.m.Update(keyMsg("ctrl+c")); cmd != nil {
		t.Fatal("ctrl+c quit with an unsaved token")
	}
	h.says("Quit with unsaved tokens?")
	if _, cmd := h.m.Update(signalMsg{syscall.SIGHUP}); !quits(cmd) {
		t.Fatalf("SIGHUP did not quit past the quit confirmation:\n%s", h.dump())
	}
}

// TestHangupWhileWaitingKeepsWaiting: a hangup while a quit waits for a
// regeneration is not a second ctrl+c: it keeps waiting, the token is
// stored, then keyturn quits.
func TestHangupWhileWaitingKeepsWaiting(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	regenInFlight(t, h)
	h.m.Update(keyMsg("ctrl+c"))
	if h.m.quitting == nil {
		t.Fatal("not waiting")
	}
	if _, cmd := h.m.Update(signalMsg{syscall.SIGHUP}); quits(cmd) {
		t.Fatal("SIGHUP forced the quit while a regeneration was on its way")
	}
	if len(h.m.forced) != 0 {
		t.Fatalf("forced: %v", h.m.forced)
	}
	if !h.pumpUntilQuit() {
		t.Fatalf("did not quit once the answer came:\n%s", h.dump())
	}
	toks := h.commandTokens()
	if v, err := h.mgr.Vault().Get(t.Context(), h.storedCommandName(t)); err != nil || v != toks[len(toks)-1] {
		t.Fatalf("the stored token is not the server's current one (%v)", err)
	}
}

// TestHangupQuitsEvenWhenTheAnswerCannotBeStored: after a hangup the
// NOT-saved token that arrives cannot be shown to anyone; keyturn quits
// rather than stay open for nobody.
func TestHangupQuitsEvenWhenTheAnswerCannotBeStored(t *testing.T) {
	store := failingStore()
	h := newHarness(t, harnessOpts{backend: store})
	regenInFlight(t, h, func() { store.Ops = []string{"set"} })
	if _, cmd := h.m.Update(signalMsg{syscall.SIGHUP}); quits(cmd) {
		t.Fatal("SIGHUP quit at once while a regeneration was on its way")
	}
	h.says("Waiting for the regeneration of mm command:")
	if !h.pumpUntilQuit() {
		t.Fatalf("stayed open after a hangup:\n%s", h.dump())
	}
}

// TestHangupDuringMFAActivationQuits: the backup codes that arrive after a
// hangup cannot be shown to anyone; keyturn quits once the answer is in.
func TestHangupDuringMFAActivationQuits(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	setup := bobMFASetup(t, h)
	h.sb.Env.Faults.Add(simnet.Rule{Path: "users.validateTotp", Method: "POST", Fault: simnet.Slow, Delay: 800 * time.Millisecond, Times: 1})
	h.typeText(simnet.TOTPCode(setup.Secret, h.sb.Env.Clock.Now()))
	_, cmd := h.m.Update(keyMsg("enter"))
	h.run(cmd)
	h.heldAtServer("the activation never reached the server")
	if _, cmd := h.m.Update(signalMsg{syscall.SIGHUP}); quits(cmd) {
		t.Fatal("SIGHUP quit at once while the activation was on its way")
	}
	if !h.pumpUntilQuit() {
		t.Fatalf("stayed open after a hangup:\n%s", h.dump())
	}
}

// TestQuitWaitFooterAndRepeatedQ: while a quit waits, the footer names
// the one key that acts (not the keys of the dialog underneath), and q
// pressed out of impatience does not force: only ctrl+c, as shown.
func TestQuitWaitFooterAndRepeatedQ(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	regenInFlight(t, h)
	h.m.Update(keyMsg("ctrl+c"))
	if h.m.quitting == nil {
		t.Fatal("not waiting")
	}
	footer := ansi.Strip(h.m.footerView())
	if !strings.Contains(footer, "ctrl+c quit now") || strings.Contains(footer, "esc") || strings.Contains(footer, "enter") {
		t.Fatalf("the footer while quitting says %q", footer)
	}
	if _, cmd := h.m.Update(keyMsg("q")); quits(cmd) || len(h.m.forced) != 0 {
		t.Fatal("a second q forced the quit")
	}
	if !h.pumpUntilQuit() {
		t.Fatalf("did not quit once the answer came:\n%s", h.dump())
	}
}

// TestDeclinedSignalQuitIsNotWhyKeyturnQuits: SIGTERM raises the quit
// confirmation, the person declines and later quits with q: keyturn was not
// stopped by the signal, so Run does not report it (no exit 130).
func TestDeclinedSignalQuitIsNotWhyKeyturnQuits(t *testing.T) {
	store := failingStore()
	h := newHarness(t, harnessOpts{backend: store})
	h.signInMattermost()
	h.cursorTo("/oncall")
	store.Ops = []string{"set"}
	h.press("r", "y")
	h.send(signalMsg{syscall.SIGTERM})
	h.says("Quit with unsaved tokens?")
	if h.m.quitSig != syscall.SIGTERM {
		t.Fatalf("quitSig: %v", h.m.quitSig)
	}
	h.press("n", "ctrl+c")
	h.says("Quit with unsaved tokens?")
	if _, cmd := h.m.Update(keyMsg("y")); !quits(cmd) {
		t.Fatal("y did not quit")
	}
	if h.m.quitSig != nil {
		t.Fatalf("a quit by key reports the declined %v", h.m.quitSig)
	}
}

// TestAbandonedQuitWaitIsNotReported: a quit that waited but stayed open on
// a NOT-saved token does not report that wait when keyturn later quits.
func TestAbandonedQuitWaitIsNotReported(t *testing.T) {
	store := failingStore()
	h := newHarness(t, harnessOpts{backend: store})
	regenInFlight(t, h, func() { store.Ops = []string{"set"} })
	h.m.Update(keyMsg("ctrl+c"))
	if h.pumpUntilQuit() {
		t.Fatal("quit with a token that is NOT saved")
	}
	if len(h.m.waited) != 0 {
		t.Fatalf("the abandoned wait is still reported: %v", h.m.waited)
	}
}

// TestHangupKeepsUnsavedBackupCodes: backup codes are shown only once, and
// after a hangup nobody can see them any more: keyturn saves them to the
// store, then quits, rather than lose them. The same when they arrive
// during the quit that the hangup started.
func TestHangupKeepsUnsavedBackupCodes(t *testing.T) {
	for _, during := range []bool{false, true} {
		h := newHarness(t, harnessOpts{})
		setup := bobMFASetup(t, h)
		if during {
			h.sb.Env.Faults.Add(simnet.Rule{Path: "users.validateTotp", Method: "POST", Fault: simnet.Slow, Delay: 800 * time.Millisecond, Times: 1})
		}
		h.typeText(simnet.TOTPCode(setup.Secret, h.sb.Env.Clock.Now()))
		_, cmd := h.m.Update(keyMsg("enter"))
		h.run(cmd)
		if during {
			h.heldAtServer("the activation never reached the server")
		} else {
			h.settle()
			h.says("Not saved: s saves them")
		}
		_, cmd = h.m.Update(signalMsg{syscall.SIGHUP})
		h.run(cmd)
		if !h.pumpUntilQuit() {
			t.Fatalf("during %v: stayed open after a hangup:\n%s", during, h.dump())
		}
		codes, err := h.mgr.Vault().Get(context.Background(), "rc-bob/backup-codes/totp")
		if err != nil || strings.Count(codes, "\n") < 1 {
			t.Fatalf("during %v: the backup codes are not in the store after the hangup: %v", during, err)
		}
	}
}
