package tui

import (
	"errors"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
	"keyturn/keystore"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/simnet"
)

// TestAccountProblemIsWrappedNotCut: at 80 columns the account screen's
// problem line (here the store's, as when the secrets file stays closed)
// used to be cut after its first line, dropping what to do; it wraps.
func TestAccountProblemIsWrappedNotCut(t *testing.T) {
	store := failingStore()
	h := newHarness(t, harnessOpts{backend: store, w: 80, h: 24})
	h.signInMattermost()
	store.Err = errors.New("the secrets file /home/someone/.local/share/keyturn/secrets.enc is closed: its passphrase was not given; restart keyturn to be asked again, or set " + keystore.EnvPassphrase)
	store.Ops = []string{"get"}
	h.press("ctrl+r")
	h.says("is closed: its passphrase was not given; restart keyturn to be asked again, or set " + keystore.EnvPassphrase)
}

// TestClosedStoreBannerMatchesWhatSigningInDoes: with the secrets file left
// closed, signing in works and shows its credential NOT saved; the banner
// used to say that signing in fails.
func TestClosedStoreBannerMatchesWhatSigningInDoes(t *testing.T) {
	h, _ := lockedHarness(t, filepath.Join(t.TempDir(), "secrets.enc"))
	h.press("esc")
	h.says("The secrets file stays closed", "Accounts signed in before cannot be used",
		"a sign-in or a token a server issues now is kept only in this window (NOT saved)")
	h.lacks("Signing in, and using a signed-in account, fail")
	h.press("esc")
	h.selectAccount(mmAcct)
	h.press("enter")
	h.typeText(mattermostsim.AdminPassword)
	h.press("enter")
	h.typeText(h.mattermostCode())
	h.press("enter")
	h.says("Signed in, but NOT saved", "This window holds the only copy")
}

// TestEscOnACreateInFlightSaysSavedAt80Columns: Esc while the server is
// issuing a user access token; the token is stored anyway and the status
// says so. At 80 columns the line used to be cut inside the token's name,
// before the words "it is saved".
func TestEscOnACreateInFlightSaysSavedAt80Columns(t *testing.T) {
	h := newHarness(t, harnessOpts{w: 80, h: 24})
	h.signInMattermost()
	h.sb.Env.Faults.Add(simnet.Rule{Method: "POST", Path: "/tokens", Fault: simnet.Slow, Delay: 500 * time.Millisecond, Times: 1})
	h.press("n")
	h.typeText("clumsy bot")
	_, cmd := h.m.Update(keyMsg("enter"))
	h.run(cmd)
	h.heldAtServer("the creation never reached the server")
	_, cmd = h.m.Update(keyMsg("esc"))
	h.run(cmd)
	h.settle()
	status := strings.Split(ansi.Strip(h.m.footerView()), "\n")[0]
	if !strings.Contains(status, "saved") {
		t.Fatalf("the status line does not say the token is saved: %q", status)
	}
}

// replaceMFAInFlight asks Mattermost to replace the admin's active MFA
// secret with its answer held, and returns once the server has it.
func replaceMFAInFlight(t *testing.T, h *harness) {
	t.Helper()
	h.signInMattermost()
	h.press("m")
	h.says("Replace the secret?")
	h.sb.Env.Faults.Add(simnet.Rule{Method: "POST", Path: "/mfa/generate", Fault: simnet.Slow, Delay: 500 * time.Millisecond, Times: 1})
	_, cmd := h.m.Update(keyMsg("y"))
	h.run(cmd)
	h.heldAtServer("the replacement never reached the server")
}

// TestEscWhileReplacingMFAShowsTheNewSecret: the server replaces an active
// MFA secret as soon as it gets the request. Esc then used to close the
// dialog and drop the answer: the authenticator app's entry was dead and
// the new secret never shown. Now the answer is still shown.
func TestEscWhileReplacingMFAShowsTheNewSecret(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	replaceMFAInFlight(t, h)
	_, cmd := h.m.Update(keyMsg("esc"))
	h.run(cmd)
	h.settle()
	setup := h.mfaSetup()
	if setup.Secret == mattermostsim.AdminTOTPSecret {
		t.Fatal("the secret was not replaced")
	}
	h.contains(account.GroupSecret(setup.Secret))
}

// TestQuitWhileReplacingMFAWaitsAndStaysOnTheSecret: quitting while the
// replacement is on its way waits for it, then stays open on the new
// secret, saying why.
func TestQuitWhileReplacingMFAWaitsAndStaysOnTheSecret(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	replaceMFAInFlight(t, h)
	if _, cmd := h.m.Update(keyMsg("ctrl+c")); quits(cmd) {
		t.Fatal("ctrl+c quit at once while the server was replacing the MFA secret")
	}
	h.says("Waiting for the new MFA secret of mm")
	if h.pumpUntilQuit() {
		t.Fatal("quit past the new MFA secret")
	}
	h.says("Not quitting: the MFA secret of mm is already replaced")
	h.mfaSetup()
}

// TestLeavingAnAccountWhileItLoadsSaysNothing: Esc while the account screen
// is still reading the account cancels the read; its result used to be
// taken for a sign-in that had gone through ("Cancelled too late: the
// server signed in to mm"), though nobody was signing in.
func TestLeavingAnAccountWhileItLoadsSaysNothing(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.press("esc")
	h.selectAccount(mmAcct)
	_, open := h.m.Update(keyMsg("enter"))
	// The read finishes, and its answer is on its way back to Update, when
	// the person leaves.
	done := runNow(open)
	_, back := h.m.Update(keyMsg("esc"))
	for _, msg := range done {
		_, cmd := h.m.Update(msg)
		h.run(cmd)
	}
	h.run(back)
	h.settle()
	h.lacks("Cancelled too late", "signed in to "+mmAcct+"; the session is saved")
}

// runNow runs cmd and the commands of its batches synchronously, and returns
// the messages they produced (spinner ticks left out).
func runNow(cmd tea.Cmd) []tea.Msg {
	if cmd == nil {
		return nil
	}
	switch msg := cmd().(type) {
	case tea.BatchMsg:
		var out []tea.Msg
		for _, c := range msg {
			out = append(out, runNow(c)...)
		}
		return out
	case spinner.TickMsg, nil:
		return nil
	default:
		return []tea.Msg{msg}
	}
}
