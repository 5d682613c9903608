package tui

import (
	"context"
	"slices"
	"strings"
	"testing"
	"time"

	"charm.land/bubbles/v2/key"

	"keyturn/account"
	"keyturn/config"
	"keyturn/sandbox/capillarysim"
	"keyturn/sandbox/mattermostsim"
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
	h.says("! MFA not confirmed")
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

// Issue 16 item 2: a sign-in that succeeds clears the banner of the one
// that failed before it.
func TestSignInSuccessClearsTheFailureBanner(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.sb.Env.Faults.Add(simnet.Rule{Path: "users/login", Fault: simnet.HTMLBody, Times: 1})
	h.selectAccount(mmAcct)
	h.press("enter")
	h.typeText(mattermostsim.AdminPassword)
	h.press("enter")
	// The failure stays in the sign-in dialog, in keyturn's words.
	h.says("The server's answer is not its API's")
	if h.m.topDialog() != nil {
		h.press("esc")
	}
	h.press("s")
	h.typeText(mattermostsim.AdminPassword)
	h.press("enter")
	h.typeText(h.mattermostCode())
	h.press("enter")
	h.contains("● Signed in")
	h.lacks("Sign-in to mm failed", "esc dismisses", "not its API's")
}

// Issue 16 item 2: an error replaces the status line it contradicts, and
// the session that is not stored offers no revoke.
func TestRevokedCapillarySessionIsNotOfferedAgain(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInCapillary()
	h.rowOf("session", isRow(rowSession))
	h.says("x revoke")
	h.press("x", "y")
	h.says("Revoked the Capillary session", "no session token stored")
	h.lacks("x revoke", "x ends the session")
	h.press("x")
	h.lacks("Revoke session token?", "Could not revoke")
	h.says("No session token is stored")
	// A failure after a success: the success no longer stands above it.
	h.m.setStatus("Revoked the Capillary session")
	h.sb.Env.Faults.Add(simnet.Rule{Path: "token/regenerate", Fault: simnet.RateLimit})
	h.press("r", "y")
	h.says("Could not")
	h.lacks("Revoked the Capillary session")
}

// Issue 16 item 2: the question "Quit during a rotation?" goes away when
// the rotation ends: it no longer says what is true.
func TestQuitQuestionGoesWhenTheRotationEnds(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.cursorTo("/deploy")
	h.sb.Env.Faults.Add(simnet.Rule{Path: "regen_token", Fault: simnet.Slow, Delay: 300 * time.Millisecond})
	h.press("R")
	h.pressAsync("y")
	d := h.bulkDialog()
	h.pumpUntil("the first count", func() bool { return d.run.prog.Total > 0 })
	from := len(h.ledgerOf("command"))
	h.waitFor("requests in flight", func() bool { return len(h.ledgerOf("command")) > from })
	h.pressAsync("ctrl+c")
	h.says("Quit during a rotation?")
	h.settle()
	h.lacks("Quit during a rotation?")
	h.says("Rotation finished")
}

// Issue 16 item 3: a key that breaks something (rotates, revokes, deletes)
// never means something harmless on another screen or dialog.
func TestDestructiveAndHarmlessKeysDiffer(t *testing.T) {
	k := defaultKeys()
	destructive := map[string]key.Binding{"rotate": k.Rotate, "rotate all": k.RotateAll, "revoke": k.Revoke,
		"delete": k.Delete, "remove": k.Remove, "sign out": k.SignOut, "disable MFA": k.MFAOff}
	harmless := map[string]key.Binding{"reveal": k.Reveal, "hide": k.Hide, "copy": k.Copy, "open": k.Open, "fetch": k.Fetch,
		"refresh": k.Refresh, "show URI": k.URI, "filter": k.Filter, "vault": k.Vault, "help": k.Help, "save again": k.Retry,
		"save": k.Save, "deliver again": k.Deliver, "history": k.History, "all tokens": k.Overview}
	for dn, d := range destructive {
		for hn, h := range harmless {
			for _, dk := range d.Keys() {
				if slices.Contains(h.Keys(), dk) {
					t.Errorf("%q both does %s and %s", dk, dn, hn)
				}
			}
		}
	}
}

// Issue 16 item 3: every rotation asks first, the same way: Capillary's
// session too.
func TestEveryRotationIsConfirmedTheSameWay(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.rowOf("command", tokenRow(account.KindCommand))
	h.press("r")
	h.says("Rotate slash-command token?", "y Rotate", "n Cancel")
	h.press("n", "esc")
	h.signInCapillary()
	h.rowOf("session", isRow(rowSession))
	before := len(h.ledgerOf(capillarysim.KindToken))
	h.press("r")
	h.says("Rotate session token?", "y Rotate", "n Cancel")
	h.press("n")
	if n := len(h.ledgerOf(capillarysim.KindToken)); n != before {
		t.Fatalf("the session was rotated before the confirmation: %d → %d", before, n)
	}
	h.press("r", "y")
	h.says("New session token")
	// In the result dialog r rotates nothing and reveals nothing; space
	// reveals.
	h.says("space reveal")
	h.lacks("r reveal")
	h.press("r")
	h.says("••••")
	h.press("space")
	h.lacks("••••")
	h.says("space hide")
}

// helpText is the help dialog's text, opened and closed again.
func (h *harness) helpText() string {
	h.t.Helper()
	h.press("?")
	if _, ok := h.m.topDialog().(*helpDialog); !ok {
		h.t.Fatalf("? opened no help:\n%s", h.dump())
	}
	s := h.flat()
	h.press("esc")
	return s
}

// Issue 16 item 4: the help lists what acts on the screen and row: not
// sign-in on a signed-in account, not Capillary's auto-regeneration on
// Mattermost, not Rocket.Chat's m while its TOTP is active; the filter's
// footer offers no q (q is typed); g and G move every list.
func TestHelpAndFooterOfferOnlyWhatActs(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.press("/")
	h.lacks("q quit")
	h.press("q")
	if h.quits != 0 || h.m.accounts.filter.Value() != "q" {
		t.Fatalf("q in the filter: quits %d, filter %q", h.quits, h.m.accounts.filter.Value())
	}
	h.press("esc")
	h.signInMattermost()
	help := h.helpText()
	for _, bad := range []string{"s sign in", "t auto-rotate"} {
		if strings.Contains(strings.ReplaceAll(help, "s sign in again", ""), bad) {
			t.Errorf("a signed-in Mattermost account's help offers %q:\n%s", bad, help)
		}
	}
	if !strings.Contains(help, "g top") || !strings.Contains(help, "G bottom") {
		t.Errorf("the account screen's help lacks g/G:\n%s", help)
	}
	h.press("G")
	if h.m.acct.nav.index() != h.m.acct.nav.len()-1 {
		t.Fatalf("G left the cursor on row %d of %d", h.m.acct.nav.index(), h.m.acct.nav.len())
	}
	h.press("g")
	if h.m.acct.nav.index() != 0 {
		t.Fatalf("g left the cursor on row %d", h.m.acct.nav.index())
	}
	h.press("esc")
	h.signInRocketChat()
	h.rowOf("MFA", isRow(rowMFA))
	h.contains("✓ active")
	h.lacks("m MFA")
	if help := h.helpText(); strings.Contains(help, "m set up MFA") || !strings.Contains(help, "M disable MFA") {
		t.Errorf("Rocket.Chat with TOTP active: help should offer M, not m:\n%s", help)
	}
	h.press("esc", "v")
	h.press("G")
	if n := h.m.vault.rows.len(); n < 2 || h.m.vault.rows.index() != n-1 {
		t.Fatalf("G in the vault: row %d of %d", h.m.vault.rows.index(), n)
	}
}

// Issue 16 item 8: a token created above the cursor does not move the
// cursor to another token: the next r rotates what was selected.
func TestCursorStaysOnItsTokenWhenTheListChanges(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.rowOf("webhook", tokenRow(account.KindWebhook))
	want, _ := h.m.acct.selected()
	h.press("n")
	h.typeText("inserted above")
	h.press("enter")
	h.says("New user access token")
	h.press("enter")
	got, ok := h.m.acct.selected()
	if !ok || got.tok == nil || got.tok.Ref != want.tok.Ref {
		t.Fatalf("the cursor moved from %v to %+v:\n%s", want.tok.Ref, got.tok, h.dump())
	}
	h.press("r")
	h.says("Rotate outgoing-webhook token?", want.tok.Label)
	h.press("n")
	// The accounts list and the vault keep theirs too.
	h.press("esc")
	h.selectAccount(rcAcct)
	if _, err := h.mgr.Add(context.Background(), config.Account{Name: "aaa-first", Service: account.Mattermost, URL: h.sb.MattermostURL, User: "x"}); err != nil {
		t.Fatal(err)
	}
	h.press("ctrl+r")
	if a, _ := h.m.accounts.selected(); a.Name != rcAcct {
		t.Fatalf("an account added before rc moved the cursor to %s", a.Name)
	}
}

// Issue 16 item 11: y right after m, while the screen already knows MFA is
// active, answers the replace question instead of being dropped.
func TestMFAYesRightAfterMIsNotDropped(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.contains("✓ active")
	h.pressAsync("m")
	h.pressAsync("y")
	h.settle()
	h.mfaSetup()
	h.lacks("Replace the secret?")
}

// Issue 16 item 11: u's hint says what u does now; the backup codes offer
// "save" until saved and nothing once they are.
func TestMFAHintsFollowTheState(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.press("m", "y")
	h.mfaSetup()
	h.says("u show URI")
	h.press("u")
	h.says("u hide URI")
	h.lacks("u show URI")
	h.press("esc", "y", "esc")

	setup := bobMFASetup(t, h)
	h.typeText(simnet.TOTPCode(setup.Secret, h.sb.Env.Clock.Now()))
	h.press("enter")
	h.says("Backup codes", "s save")
	h.lacks("s save again")
	h.press("s")
	h.says("✓ Saved to")
	h.lacks("s save")
}

// Issue 16 item 11: a token's title names its team once, without a second
// pair of brackets.
func TestTokenTitleNamesItsTeamPlainly(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.cursorTo("/oncall")
	h.press("r")
	h.says("slash command /oncall (On call) in team ops")
	h.lacks(") (team ops)")
}

// Issue 16 item 11: a code the server refuses, which may be one already
// used, says to wait for the next.
func TestRefusedCodeSaysToWaitForTheNext(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	used := h.mattermostCode()
	h.press("o", "y", "s")
	h.typeText(mattermostsim.AdminPassword)
	h.press("enter")
	h.typeText(used)
	h.press("enter")
	h.says("did not accept that code", "A code works once: if you just used this one, wait for the next")
}

// The unconfirmed secret's note keeps its indent when it wraps at 80×24.
func TestUnconfirmedMFANoteWrapsIndented(t *testing.T) {
	h := newHarness(t, harnessOpts{w: 80, h: 24})
	h.signInMattermost()
	h.press("m", "y", "esc", "y")
	lines := strings.Split(h.screen(), "\n")
	for i, l := range lines {
		if strings.Contains(l, "Replaced just now") && i+1 < len(lines) {
			indent := func(s string) int { return len(s) - len(strings.TrimLeft(s, " ")) }
			if next := lines[i+1]; strings.TrimSpace(next) == "" || indent(next) != indent(l) {
				t.Fatalf("the note's second line is indented %d, its first %d:\n%s", indent(next), indent(l), h.dump())
			}
			return
		}
	}
	t.Fatalf("no note:\n%s", h.dump())
}
