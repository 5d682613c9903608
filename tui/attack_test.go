package tui

import (
	"testing"
	"time"

	"keyturn/sandbox/simnet"
)

// TestMFAEscDuringAReplacingRequestKeepsTheSecret: Mattermost replaces an
// active TOTP secret as it makes the new one, so Esc once the request is
// sent must not drop the answer: the setup stays open and shows the new
// secret when it arrives, the only way the authenticator signs in again.
func TestMFAEscDuringAReplacingRequestKeepsTheSecret(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.press("m")
	h.says("Replace the secret?")
	h.sb.Env.Faults.Add(simnet.Rule{Path: "/mfa/generate", Method: "POST", Fault: simnet.Slow, Delay: time.Second, Times: 1})
	_, cmd := h.m.Update(keyMsg("y"))
	h.run(cmd)
	h.waitSlowHit()
	_, cmd = h.m.Update(keyMsg("esc"))
	h.run(cmd)
	h.settle()
	setup := h.mfaSetup()
	if setup.Secret == "" {
		t.Fatal("no secret shown")
	}
	h.says("Code from the app:")
}

// TestQuitDuringAReplacingMFARequestKeepsTheSecret: ctrl+c while the
// replacing request is on its way waits for it, then stays open on the
// new secret, saying why.
func TestQuitDuringAReplacingMFARequestKeepsTheSecret(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.press("m")
	h.sb.Env.Faults.Add(simnet.Rule{Path: "/mfa/generate", Method: "POST", Fault: simnet.Slow, Delay: 800 * time.Millisecond, Times: 1})
	_, cmd := h.m.Update(keyMsg("y"))
	h.run(cmd)
	h.waitSlowHit()
	if _, cmd := h.m.Update(keyMsg("ctrl+c")); quits(cmd) {
		t.Fatal("ctrl+c quit at once while the new secret was on its way")
	}
	h.says("Waiting for the new MFA secret of mm to answer")
	if h.pumpUntilQuit() {
		t.Fatal("quit past the new secret")
	}
	h.mfaSetup()
	h.says("Not quitting: the new MFA secret has already replaced the old one")
}

// waitSlowHit waits until a request held by a Slow fault reached the server.
func (h *harness) waitSlowHit() {
	h.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); h.sb.Env.Faults.Hits()[simnet.Slow] == 0; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			h.t.Fatal("the request never reached the server")
		}
	}
}
