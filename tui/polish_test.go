package tui

import (
	"testing"
	"time"

	"keyturn/sandbox/simnet"
)

// Issue 16 item 1: a replaced MFA secret left without a code stays on the
// row, across a reload, with the key that finishes the setup, until a code
// activates it.
func TestReplacedMFASecretWarnsOnTheRowUntilActivated(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.press("m", "y")
	h.mfaSetup()
	h.press("esc", "y")
	h.says("replaced, not confirmed", "m finishes the setup")
	h.lacks("✓ active")
	// Leaving and coming back: the warning is the account's, not the dialog's.
	h.press("esc")
	h.selectAccount(mmAcct)
	h.press("enter")
	h.says("replaced, not confirmed", "m finish MFA setup")
	// m resumes without asking again whether to replace: it is replaced.
	h.press("m")
	h.lacks("Replace the secret?")
	setup := h.mfaSetup()
	h.typeText(simnet.TOTPCode(setup.Secret, h.sb.Env.Clock.Now().Add(30*time.Second)))
	h.press("enter")
	h.says("✓ MFA is active on mm.")
	h.press("enter")
	h.contains("✓ active")
	h.lacks("not confirmed", "finishes the setup")
}
