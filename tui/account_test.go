package tui

import (
	"context"
	"keyturn/sandbox/mattermostsim"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/keystore"
	"keyturn/keystore/keystoretest"
	"keyturn/sandbox/simnet"
)

// cursorTo moves the account screen's cursor to the first row whose text
// contains s.
func (h *harness) cursorTo(s string) {
	h.t.Helper()
	for i := 0; i < 40; i++ {
		if i == 1 {
			h.press("g") // not on the row already: search from the top
		}
		for _, l := range strings.Split(h.screen(), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "›") && strings.Contains(l, s) {
				return
			}
		}
		h.press("down")
	}
	h.t.Fatalf("no row with %q:\n%s", s, h.dump())
}

func TestRotateSlashCommandShowsWhereSaved(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.cursorTo("/deploy")
	h.contains("not held by keyturn")
	h.press("r")
	h.says("Rotate slash-command token?",
		"Mattermost replaces the token of the slash command /deploy (Deploy) in team ops at once.",
		"The integration that checks this slash command's token must get the new one",
		"y Rotate", "n Cancel")
	h.press("y")
	h.says("New slash-command token", "slash command /deploy (Deploy) in team ops", "Token: ••••", "✓ Saved to the memory store")
	iss := h.m.topDialog().(*resultDialog).iss
	h.says("as " + iss.Name)
	if !strings.HasPrefix(iss.Name, "mm/command/") {
		t.Fatalf("saved as %s", iss.Name)
	}
	// Masked until space.
	h.lacks(iss.Value)
	h.press("space")
	h.contains(iss.Value)
	h.press("space")
	h.lacks(iss.Value)
	// c copies through OSC 52.
	h.press("c")
	if len(h.clip) != 1 || h.clip[0] != iss.Value {
		t.Fatalf("clipboard got %d items", len(h.clip))
	}
	h.says("Copied to the clipboard")
	h.press("enter")
	h.lacks("New slash-command token")
	h.contains("✓ saved …" + iss.Fingerprint)
	// What the server handed out is what keyturn stored.
	got, err := h.mgr.Vault().Get(context.Background(), iss.Name)
	if err != nil || got != iss.Value {
		t.Fatalf("stored value differs (err %v)", err)
	}
}

func TestRotateCancelledAtTheConfirm(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.cursorTo("CI events")
	h.press("r")
	h.says("Rotate outgoing-webhook token?", "The service receiving this webhook must check the new token")
	h.press("esc")
	h.lacks("Rotate outgoing-webhook token?")
	for _, e := range h.ledgerOf("webhook") {
		_ = e
	}
	if n := len(h.ledgerOf("webhook")); n != 2 {
		t.Fatalf("the server issued webhook tokens after a cancelled confirm: %d", n)
	}
}

func (h *harness) ledgerOf(kind string) []simnet.Issued {
	var out []simnet.Issued
	for _, e := range h.sb.Env.Ledger.Entries() {
		if e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

// failingStore is a store that works until fail is called.
func failingStore() *keystoretest.Failing {
	return &keystoretest.Failing{Inner: keystore.NewMemory(), Ops: []string{"none"}}
}

func TestRotateNotSavedAsksBeforeLeavingAndQuitting(t *testing.T) {
	store := failingStore()
	h := newHarness(t, harnessOpts{backend: store})
	h.signInMattermost()
	h.cursorTo("/oncall")
	store.Ops = []string{"set"}
	h.press("r", "y")
	d, ok := h.m.topDialog().(*resultDialog)
	if !ok {
		t.Fatalf("no result dialog:\n%s", h.dump())
	}
	h.says("Rotated, but NOT saved", "✗ NOT saved", "failing on purpose",
		"This window holds the only copy. Copy it (c), or fix the store and save it again (s).")
	// The token is masked even now, until asked.
	h.lacks(d.iss.Value)
	if len(h.m.unsaved) != 1 {
		t.Fatalf("unsaved: %d", len(h.m.unsaved))
	}
	// Leaving asks first.
	h.press("esc")
	h.says("The token is NOT saved anywhere. Closing loses it for good. Close anyway? y/n")
	h.press("n")
	h.says("✗ NOT saved")
	// Quitting asks first too.
	_, cmd := h.m.Update(keyMsg("ctrl+c"))
	if cmd != nil {
		t.Fatal("ctrl+c quit with an unsaved token")
	}
	h.says("Quit with unsaved tokens?", "issued but NOT saved: "+d.iss.Name, "y Quit anyway")
	h.press("n")
	// Saving again while the store still fails: still NOT saved.
	h.press("s")
	h.says("Still NOT saved.")
	// The store recovers; save again.
	store.Ops = []string{"none"}
	h.press("s")
	h.says("✓ Saved to the failing store as "+d.iss.Name, "Saved.")
	if len(h.m.unsaved) != 0 {
		t.Fatalf("still unsaved: %d", len(h.m.unsaved))
	}
	h.press("esc")
	h.lacks("Close anyway")
	h.contains("✓ saved …" + d.iss.Fingerprint)
	_, cmd = h.m.Update(keyMsg("q"))
	if cmd == nil {
		t.Fatal("q did not quit once everything was saved")
	}
}

func TestDiscardingAnUnsavedTokenIsExplicit(t *testing.T) {
	store := failingStore()
	h := newHarness(t, harnessOpts{backend: store})
	h.signInMattermost()
	h.cursorTo("/status")
	store.Ops = []string{"set"}
	h.press("r", "y")
	name := h.m.topDialog().(*resultDialog).iss.Name
	h.press("c")
	h.press("esc", "y")
	h.lacks("NOT saved")
	h.says(name + " was discarded: it was never saved")
	if len(h.m.unsaved) != 0 {
		t.Fatal("a discarded token is still listed as unsaved")
	}
}

func TestSignInNotStoredShowsTheCredential(t *testing.T) {
	store := failingStore()
	h := newHarness(t, harnessOpts{backend: store})
	store.Ops = []string{"set"}
	h.selectAccount(mmAcct)
	h.press("enter")
	h.typeText("Admin-Passw0rd!")
	h.press("enter")
	h.typeText(h.mattermostCode())
	h.press("enter")
	h.says("Signed in, but NOT saved", "sign-in credential", "✗ NOT saved")
	h.press("s")
	h.says("Still NOT saved.")
	store.Ops = []string{"none"}
	h.press("s")
	h.says("Saved.")
	if st, _ := h.mgr.Show(context.Background(), mmAcct); st == nil || !st.SignedIn {
		t.Fatal("the credential saved again must sign the account in")
	}
}

func TestUserTokenCreateRotateRevoke(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	// A server without in-place rotation (before 11.10): create, revoke.
	h.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.OlderServer = true })
	h.signInMattermost()
	h.press("n")
	h.says("A new Mattermost user access token for admin", "Description:")
	h.press("enter")
	h.says("✗ Type a description first.")
	h.typeText("CI deploys")
	h.press("enter")
	h.says("New user access token", `user access token "CI deploys"`, "✓ Saved to the memory store")
	first := h.m.topDialog().(*resultDialog).iss
	h.press("enter")
	h.cursorTo("CI deploys")
	h.contains("✓ saved …" + first.Fingerprint)
	h.press("r")
	// Not yet known how this server rotates: the dialog says both ways.
	h.says("otherwise keyturn creates a new token, saves it, checks that it works, then revokes the old one.")
	h.press("y")
	second := h.m.topDialog().(*resultDialog).iss
	if second.Name == first.Name {
		t.Fatal("rotation kept the old token's name")
	}
	h.says("old token "+strings.TrimPrefix(first.Ref, "user-token:")+" revoked", "✓ Saved")
	h.press("enter")
	h.cursorTo("CI deploys")
	h.press("x")
	h.says("Revoke user access token?", "Anything using it is refused from then on.", "keyturn also deletes its stored copy.")
	h.press("y")
	h.says(`Revoked user access token "CI deploys"`, "none · n creates one")
	if _, err := h.mgr.Vault().Get(context.Background(), second.Name); err == nil {
		t.Fatal("the revoked token's copy is still stored")
	}
}

func TestRocketChatPATThroughTwoFactor(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInRocketChat()
	h.contains("Personal access tokens", "seeded-ci", "Two-factor authentication (TOTP)")
	h.press("n")
	// Any name the server takes is fine, unless its store name would be
	// too long.
	h.typeText("ci bot")
	h.lacks("Too long")
	h.typeText(strings.Repeat("é", 40))
	h.says("Too long: the name becomes part of the secret's name")
	for range 40 + 4 {
		h.press("backspace")
	}
	h.typeText("-bot")
	h.press("tab", "space")
	h.contains("[x] bypass two-factor")
	h.press("space", "enter")
	// The server wants a second factor for this call.
	h.says("New token · rc", "Rocket.Chat asks for a code from the authenticator app.", "Method:", "authenticator app", "email code")
	h.typeText("000000")
	h.press("enter")
	h.says("✗ The server did not accept that")
	// Switch to an email code.
	h.press("tab")
	h.says("Rocket.Chat asks for the code sent by email.", "A code was sent", "Switched to email code.")
	h.typeText(h.code("rocketchat alice email"))
	h.press("enter")
	h.says("New personal access token", `personal access token "ci-bot"`, "✓ Saved to the memory store (gone when keyturn exits) as rc/pat/ci-bot")
	h.press("enter")
	h.contains("ci-bot")
	// The email detour left no pending sign-in behind.
	st, err := h.mgr.Show(context.Background(), rcAcct)
	if err != nil || st.Pending != "" {
		t.Fatalf("pending %q (%v)", st.Pending, err)
	}
	// Regenerating it goes through the same challenge.
	h.cursorTo("ci-bot")
	h.press("r")
	h.says("Rocket.Chat replaces the personal access token \"ci-bot\" at once.", "Every script or integration using it stops working")
	h.press("y")
	// Rocket.Chat may remember the second factor for a while; answer it
	// if it asks again.
	if strings.Contains(h.flat(), "asks for a code from the authenticator app") {
		h.typeText(h.code("rocketchat alice TOTP"))
		h.press("enter")
	}
	h.says("New personal access token", "rc/pat/ci-bot")
}

func TestCapillaryRegenerateAndAutoRegenerate(t *testing.T) {
	clock := time.Now()
	h := newHarness(t, harnessOpts{now: func() time.Time { return clock }})
	h.signInCapillary()
	h.says("Session", "expires in", "auto-rotate on", "r rotates now")
	before := *h.m.acct.st.Expires
	// Rotate now: confirmed like every rotation.
	h.cursorTo("expires in")
	h.press("r", "y")
	h.says("New session token", "the Capillary session", "✓ Saved to the memory store (gone when keyturn exits) as cap/session")
	h.press("enter")
	// A minute before expiry, the open screen renews the session by itself.
	exp := *h.m.acct.st.Expires
	if exp.Before(before) {
		t.Fatalf("expiry went back: %v < %v", exp, before)
	}
	regens := len(h.ledgerOf("capillary-token"))
	// The servers' clock and the screen's move on together to 30 s before
	// the expiry.
	h.sb.Env.Clock.Advance(time.Until(exp) - 30*time.Second)
	clock = exp.Add(-30 * time.Second)
	h.send(tickMsg{})
	h.says("renewed automatically at", "saved to the memory store (gone when keyturn exits) as cap/session")
	if got := len(h.ledgerOf("capillary-token")); got != regens+1 {
		t.Fatalf("auto-regeneration issued %d tokens, want 1", got-regens)
	}
	renewed := *h.m.acct.st.Expires
	if !renewed.After(exp) {
		t.Fatalf("the renewed session expires at %v, not after %v", renewed, exp)
	}
	// Well before the new expiry nothing happens.
	clock = renewed.Add(-5 * time.Minute)
	h.send(tickMsg{})
	if got := len(h.ledgerOf("capillary-token")); got != regens+1 {
		t.Fatalf("auto-regeneration ran early")
	}
	// A failure stops it: it is never retried by itself.
	h.sb.Env.Faults.Add(simnet.Rule{Path: "token/regenerate", Fault: simnet.ErrorAfterApply})
	h.sb.Env.Clock.Advance(renewed.Sub(h.sb.Env.Clock.Now()) - 20*time.Second)
	clock = renewed.Add(-20 * time.Second)
	h.send(tickMsg{})
	h.says("✗ Automatic rotation of cap's session failed", "auto-rotate stopped after a failure (t restarts)")
	attempts := len(h.ledgerOf("capillary-token"))
	for range 3 {
		clock = clock.Add(time.Second)
		h.send(tickMsg{})
	}
	if got := len(h.ledgerOf("capillary-token")); got != attempts {
		t.Fatalf("auto-regeneration retried after a failure: %d more", got-attempts)
	}
	// t restarts it, on purpose.
	h.sb.Env.Faults.Clear()
	h.press("esc", "t")
	h.says("Auto-rotation on", "renewed automatically")
	if got := len(h.ledgerOf("capillary-token")); got != attempts+1 {
		t.Fatalf("restarting ran %d regenerations, want 1", got-attempts)
	}
	// Off with t.
	h.press("t")
	h.says("Auto-rotation off", "auto-rotate off (t)")
	clock = h.m.acct.st.Expires.Add(-10 * time.Second)
	h.send(tickMsg{})
	if got := len(h.ledgerOf("capillary-token")); got != attempts+1 {
		t.Fatalf("auto-regeneration ran while off")
	}
}

func TestUnknownOutcomeIsReportedAndNotRetried(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.cursorTo("/deploy")
	h.sb.Env.Faults.Add(simnet.Rule{Path: "regen_token", Fault: simnet.DropAfterApply, Times: 1})
	before := len(h.ledgerOf("command"))
	h.press("r", "y")
	h.says("✗ Could not rotate slash command /deploy", "no answer came back", "the server may have rotated",
		"What to do: Do not retry blindly", "f fetch the token the server holds now")
	if got := len(h.ledgerOf("command")); got != before+1 {
		t.Fatalf("the server issued %d tokens; want exactly 1 (no retry)", got-before)
	}
	h.press("esc")
	h.lacks("Could not rotate")

	// f stores the token the lost answer held, and rotates nothing.
	h.cursorTo("/deploy")
	h.says("f fetch")
	h.press("f")
	h.says("Current slash-command token", "slash command /deploy (Deploy) in team ops", "✓ Saved to the memory store")
	iss := h.m.topDialog().(*resultDialog).iss
	ledger := h.ledgerOf("command")
	if len(ledger) != before+1 || iss.Value != ledger[len(ledger)-1].Token {
		t.Fatal("f must store the token the server holds now, without a regeneration")
	}
	h.press("esc")
	// Elsewhere f says what it is for.
	for range 12 {
		h.press("up") // to the MFA row
	}
	h.press("f")
	h.says("f stores the token the server holds for a slash command or webhook: move to one first")
}

func TestSignOutAsksFirst(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.press("o")
	h.says("Sign out of mm?", "keyturn ends the session on", "Tokens keyturn issued stay in the store")
	h.press("y")
	h.says("Signed out of mm", "Not signed in. Press s to sign in.")
	h.press("esc")
	h.contains("○ not signed in")
}

func TestMattermostCannotRevokeACommandToken(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.cursorTo("/deploy")
	h.press("x")
	h.says("Mattermost cannot revoke a slash-command token, only rotate it (r)")
	if _, ok := h.m.topDialog().(*confirmDialog); ok {
		t.Fatal("a confirm opened for an impossible revoke")
	}
}

func TestAccountScreenNotSignedIn(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.selectAccount(rcAcct)
	h.press("enter", "esc")
	h.says("Not signed in. Press s to sign in.")
	h.lacks("Personal access tokens")
	h.press("s")
	h.says("Sign in · rc")
}

func TestResultDialogRevealIsOnDemand(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	exp := time.Now().Add(15 * time.Minute)
	iss := &account.Issued{Name: "cap/session", Account: capAcct, Kind: account.KindSession, Ref: "session",
		Fingerprint: "wxyz", Stored: true, Store: "memory", Expires: &exp, Value: "eyJhbGciOiJIUzI1NiJ9.payload.sigwxyz"}
	h.m.apply(h.m.showIssued("New session token", "", iss, nil))
	h.says("New session token", "••••wxyz", "expires")
	h.lacks("payload")
	h.press("r") // r rotates; it reveals nothing
	h.lacks("payload")
	h.press("space")
	h.contains("eyJhbGciOiJIUzI1NiJ9.payload.sigwxyz")
}

// A keyring that hangs after the server issued a token: esc does not cut
// the write short (the keyring's own timeout does), and the token still
// shows, NOT saved, since it is the only copy.
func TestHangingStoreEscStillShowsTheToken(t *testing.T) {
	store := &keystoretest.Hanging{Inner: keystore.NewMemory(), Ops: []string{"none"}}
	h := newHarness(t, harnessOpts{backend: keystore.WithTimeout(store, 500*time.Millisecond)})
	h.signInMattermost()
	h.cursorTo("/deploy")
	store.Ops = []string{"set"}
	h.press("r")
	_, cmd := h.m.Update(keyMsg("y"))
	h.run(cmd)
	select {
	case <-store.Started():
	case <-time.After(10 * time.Second):
		t.Fatal("the store was never called")
	}
	h.says("Rotating slash-command token…", "esc cancels")
	_, cmd = h.m.Update(keyMsg("esc"))
	h.run(cmd)
	h.settle()
	h.says("Token issued before you cancelled", "✗ NOT saved", "This window holds the only copy")
	if len(h.m.unsaved) != 1 {
		t.Fatalf("unsaved: %d", len(h.m.unsaved))
	}
}

// TestRotateEscAfterTheServerIssuedSaysWhereItWent: Esc on a regeneration
// whose request the server has already answered closes the progress at
// once, but the new token, the only copy, is still saved and the status line
// says where: an op's late-result handler is what reports it.
func TestRotateEscAfterTheServerIssuedSaysWhereItWent(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.cursorTo("CI events")
	before := len(h.ledgerOf("webhook"))
	h.sb.Env.Faults.Add(simnet.Rule{Path: "/regen_token", Fault: simnet.Slow, Delay: time.Second})
	h.press("r")
	h.says("Rotate outgoing-webhook token?")
	_, cmd := h.m.Update(keyMsg("y"))
	h.run(cmd)
	h.contains("Rotating", "esc cancels")
	for deadline := time.Now().Add(10 * time.Second); len(h.ledgerOf("webhook")) == before; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the regeneration never reached the server")
		}
	}
	_, cmd = h.m.Update(keyMsg("esc"))
	h.run(cmd)
	h.lacks("esc cancels")
	h.settleAll()
	h.says("Cancelled too late: the server issued a token, saved as mm/webhook/")
	issued := h.ledgerOf("webhook")
	last := issued[len(issued)-1]
	entries, err := h.mgr.Vault().List(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if v, err := h.mgr.Vault().Get(context.Background(), e.Name); err == nil && v == last.Token {
			return
		}
	}
	t.Fatalf("the token the server issued after the esc is not in the store")
}
