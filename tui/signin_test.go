package tui

import (
	"context"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/config"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/simnet"
)

// signInMattermost signs in to the Mattermost account through the dialogs.
func (h *harness) signInMattermost() {
	h.t.Helper()
	h.selectAccount(mmAcct)
	h.press("enter")
	h.typeText(mattermostsim.AdminPassword)
	h.press("enter")
	h.typeText(h.mattermostCode())
	h.press("enter")
	h.contains("● Signed in")
}

func (h *harness) signInRocketChat() {
	h.t.Helper()
	h.selectAccount(rcAcct)
	h.press("enter")
	h.typeText("alice-rocket-pw-1")
	h.press("enter")
	h.typeText(h.code("rocketchat alice TOTP"))
	h.press("enter")
	h.contains("● Signed in")
}

func (h *harness) signInCapillary() {
	h.t.Helper()
	h.selectAccount(capAcct)
	h.press("enter", "enter") // no password: a one-time code
	h.typeText(h.code("Capillary OTP"))
	h.press("enter")
	h.typeText(h.code("Capillary MFA OTP"))
	h.press("enter")
	h.contains("● Signed in")
}

func TestSignInMattermostWithMFA(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.selectAccount(mmAcct)
	h.press("enter")
	h.contains("Sign in · mm", "Signing in as admin", "Password:")
	h.typeText(mattermostsim.AdminPassword)
	// The password is masked.
	h.lacks(mattermostsim.AdminPassword)
	h.contains("•••••••")
	h.press("enter")
	h.contains("Mattermost asks for a code from the authenticator app.", "Code:")
	h.lacks("Method:") // only one method
	// Letters are not part of a code.
	h.typeText("abc")
	h.lacks("abc")
	// A wrong code keeps the dialog open with the server's message.
	h.typeText("000000")
	h.press("enter")
	h.contains("Mattermost asks for a code", "✗ The server did not accept that", "Try again with the code now shown")
	h.typeText(h.mattermostCode())
	h.press("enter")
	h.lacks("Sign in · mm")
	h.contains("Accounts › mm", "● Signed in with a session", "Signed in to mm",
		"Multi-factor authentication", "✓ active", "Slash commands · team ops", "/deploy", "Outgoing webhooks · team ops", "CI events")
	h.press("esc")
	h.contains("● signed in · just now", "1 signed in")
}

// A wrong password stays in the dialog (TestSignInWrongPasswordStaysInTheDialog
// tries again); esc then leaves it, the account still signed out.
func TestSignInWrongPasswordSaysSoInTheDialog(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.selectAccount(mmAcct)
	h.press("enter")
	h.typeText("wrong")
	h.press("enter")
	h.contains("Sign in · mm", "✗ The server did not accept the user name or password.")
	s := h.screen()
	if !strings.Contains(s, "401") && !strings.Contains(strings.ToLower(s), "invalid") {
		t.Fatalf("the dialog does not carry the server's words:\n%s", s)
	}
	h.lacks("wrong")
	h.press("esc")
	h.lacks("Sign in · mm", "did not accept")
	h.contains("Not signed in")
}

// TestSignInEscKeepsTheSessionTheServerOpened: Esc closes the sign-in at
// once, but the request, already sent, runs to its answer: the session the
// server opened is stored, and the status says so.
func TestSignInEscKeepsTheSessionTheServerOpened(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	if _, err := h.mgr.Add(context.Background(), config.Account{Name: "mm-alice", Service: account.Mattermost, URL: h.sb.MattermostURL, User: mattermostsim.AliceUsername}); err != nil {
		t.Fatal(err)
	}
	h.press("ctrl+r")
	h.sb.Env.Faults.Add(simnet.Rule{Path: "/users/login", Fault: simnet.Slow, Delay: time.Second})
	h.selectAccount("mm-alice")
	h.press("enter")
	h.typeText(mattermostsim.AlicePassword)
	// Submit without waiting: the request is in flight.
	_, cmd := h.m.Update(keyMsg("enter"))
	h.run(cmd)
	h.contains("Signing in…", "esc cancels")
	for deadline := time.Now().Add(10 * time.Second); len(h.sessions()) == 0; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the sign-in never reached the server")
		}
	}
	_, cmd = h.m.Update(keyMsg("esc"))
	h.run(cmd)
	// The dialog closes at once.
	h.lacks("Sign in · mm-alice", "Signing in…")
	h.settleAll()
	h.says("Cancelled too late: the server signed in to mm-alice; the session is saved")
	st, err := h.mgr.Show(context.Background(), "mm-alice")
	if err != nil || !st.SignedIn {
		t.Fatalf("not signed in after the server opened a session: %v", err)
	}
	if len(h.m.ops) != 0 {
		t.Fatalf("operations left: %v", h.m.ops)
	}
}

func (h *harness) sessions() []string {
	var out []string
	for _, e := range h.sb.Env.Ledger.Entries() {
		if e.Service == "mattermost" && e.Kind == "session" {
			out = append(out, e.Token)
		}
	}
	return out
}

func TestChallengeEscCancelsSignIn(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.selectAccount(capAcct)
	h.press("enter", "enter")
	h.contains("Capillary asks for the one-time code (OTP).", "A code was sent to mobile 919999000002.", "It expires in")
	h.press("esc")
	h.lacks("Capillary asks")
	h.contains("Cancelled", "Not signed in")
	// The waiting sign-in was forgotten: nothing pending.
	if p, err := h.mgr.Pending(h.m.ctx, capAcct); err != nil || p != nil {
		t.Fatalf("pending after esc: %+v, %v", p, err)
	}
}

func TestCapillaryOTPResendAndMFAStep(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.selectAccount(capAcct)
	h.press("enter")
	h.says("leave it empty and press enter to get a one-time code")
	h.press("enter")
	h.contains("ctrl+r send a new code")
	first := h.code("Capillary OTP")
	h.press("ctrl+r")
	h.contains("A new code was sent.")
	// A wrong code keeps the dialog with the server's words.
	h.typeText("111111")
	h.press("enter")
	h.contains("✗ The server did not accept that", "Capillary asks for the one-time code")
	_ = first
	h.typeText(h.code("Capillary OTP"))
	h.press("enter")
	h.contains("Capillary asks for the MFA", "Step done.", "MFA one-time code", "MFA password", "tab switches")
	h.typeText(h.code("Capillary MFA OTP"))
	h.press("enter")
	h.contains("● Signed in with a key", "Session", "expires in", "auto-rotate on")
}

func TestRocketChatSignInOffersOnlyTheLoginMethod(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.selectAccount(rcAcct)
	h.press("enter")
	h.typeText("alice-rocket-pw-1")
	h.press("enter")
	h.contains("Rocket.Chat asks for a code from the authenticator app.")
	h.lacks("Method:")
	h.typeText(h.code("rocketchat alice TOTP"))
	h.press("enter")
	h.contains("● Signed in")
}

func TestRocketChatPasswordFallbackIsExplained(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	f := &flow{title: "New token · rc", label: "Creating…", acct: rcAcct}
	h.m.apply(h.m.flowResult(f, &account.Challenge{Account: rcAcct, Service: account.RocketChat, Step: "2fa",
		Method: methodPassword, Methods: []string{methodPassword}, IsPassword: true}, nil))
	h.says("Rocket.Chat asks for the account password (as the second factor).",
		"type your account password as the code", "SHA-256", "Password:")
	h.typeText("s3cret?")
	h.lacks("s3cret")
	h.contains("•••••••")
}

func TestLockedChallengeSaysSo(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	f := &flow{title: "Sign in · mm", label: "Signing in…", acct: mmAcct}
	h.m.apply(h.m.flowResult(f, &account.Challenge{Account: mmAcct, Service: account.Mattermost, Step: "mfa",
		Method: methodTOTP, Methods: []string{methodTOTP}, Locked: true, Message: "Too many attempts"}, nil))
	h.says("Too many wrong answers", "Too many attempts", "wait a few minutes")
	h.typeText("123456")
	h.lacks("123456")
}

// settleAll is settle for a test that also waits out slow server handlers.
func (h *harness) settleAll() { h.settle() }
