package tui

import (
	"context"
	"strings"
	"syscall"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"

	"keyturn/account"
	"keyturn/config"
	"keyturn/qr"
	"keyturn/sandbox/simnet"
)

// mfaSecret digs the setup's secret out of the open MFA dialog.
func (h *harness) mfaSetup() *account.MFASetup {
	h.t.Helper()
	d, ok := h.m.topDialog().(*mfaDialog)
	if !ok || d.setup == nil {
		h.t.Fatalf("no MFA setup on screen:\n%s", h.dump())
	}
	return d.setup
}

func TestMFASetupReplacesOnlyOnPurpose(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.press("m")
	h.says("MFA is already active on mm.", "the entry in your authenticator app stops working", "Replace the secret?")
	h.press("n")
	if _, ok := h.m.topDialog().(*mfaDialog); ok {
		t.Fatal("n did not close the MFA setup")
	}
	h.press("m", "y")
	setup := h.mfaSetup()
	// The QR code, centred with the secret in groups of four beside it.
	h.contains("██████████", account.GroupSecret(setup.Secret), "Code from the app:")
	h.says("Scan the code with your authenticator app, or type this secret into it:")
	h.lacks("otpauth://")
	h.press("u")
	h.says("otpauth URI:")
	// c copies the secret (OSC 52).
	h.press("c")
	if len(h.clip) != 1 || h.clip[0] != setup.Secret {
		t.Fatalf("clipboard: %d items", len(h.clip))
	}
	h.says("Secret copied to the clipboard")
	// A wrong code keeps the setup open with the server's words.
	h.typeText("000000")
	h.press("enter")
	h.says("✗ mattermost:", "not accepted")
	if _, ok := h.m.topDialog().(*mfaDialog); !ok {
		t.Fatal("a wrong code closed the setup")
	}
	// The sandbox, like dgoogauth, takes each 30-second step once per user,
	// and the sign-in used the current one: answer with the next step's.
	h.typeText(simnet.TOTPCode(setup.Secret, h.sb.Env.Clock.Now().Add(30*time.Second)))
	h.press("enter")
	h.says("✓ MFA is active on mm.")
	h.press("enter")
	h.lacks("MFA is active on mm.")
	h.contains("✓ active")
	h.says("MFA is active on mm") // the status line, not a stale one
}

func TestMFALeavingAReplacedSecretAsks(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.press("m", "y")
	h.mfaSetup()
	h.press("esc")
	h.says("The old secret is already replaced: leaving now leaves your app with neither. Leave anyway? y/n")
	h.press("n")
	h.mfaSetup()
	h.press("esc", "y")
	h.says("MFA setup left unfinished")
}

// TestMFAQuitWithAReplacedSecretAsks: the replaced secret is not activated
// yet, so ctrl+c (or a signal) asks before quitting.
func TestMFAQuitWithAReplacedSecretAsks(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.press("m", "y")
	h.mfaSetup()
	for _, msg := range []tea.Msg{keyMsg("ctrl+c"), signalMsg{syscall.SIGTERM}} {
		_, cmd := h.m.Update(msg)
		if cmd != nil {
			t.Fatalf("%v quit with the replaced secret not activated", msg)
		}
		h.says("Quit with MFA setup unfinished?", "The MFA secret of mm is already replaced on the server and the new one is not activated",
			"y Quit anyway")
		h.press("n")
		h.mfaSetup()
	}
}

// At 80×24 the dialog's frame leaves no room for the code, so it takes the
// whole screen with one caption line; u shows the secret and the URI as
// text instead, and u again brings the code back. A code too big for even
// the whole screen falls back to the text, saying why, and never draws a
// cropped code.
func TestMFAQRAt80x24(t *testing.T) {
	h := newHarness(t, harnessOpts{w: 80, h: 24})
	h.signInMattermost()
	h.press("m", "y")
	setup := h.mfaSetup()
	h.contains("██████████")
	h.says("Scan it, then the code:", "u secret as text")
	if n := len(strings.Split(h.screen(), "\n")); n != 24 {
		t.Fatalf("the full-screen code is %d lines, want 24", n)
	}
	h.typeText("12")
	h.says("Scan it, then the code: › 12")

	h.press("u")
	h.says("press u to scan the QR code again", "otpauth URI:", account.GroupSecret(setup.Secret))
	// The URI is complete, however it wraps.
	if !strings.Contains(strings.ReplaceAll(h.flat(), " ", ""), strings.ReplaceAll(setup.URL, " ", "")) {
		t.Fatalf("the URI is not all there:\n%s", h.dump())
	}
	h.press("u")
	h.contains("██████████")

	// A code bigger than the screen: the text, and no part of a code.
	d := h.m.topDialog().(*mfaDialog)
	var err error
	if d.qr, err = qr.Render(setup.URL + "&image=" + strings.Repeat("x", 300)); err != nil {
		t.Fatal(err)
	}
	h.says("The window is too small for the QR code", "Enlarge the window")
	for _, glyph := range []string{"▀", "▄", "██"} {
		if strings.Contains(h.screen(), glyph) {
			t.Fatalf("a cropped QR code is drawn (%q):\n%s", glyph, h.dump())
		}
	}
	// Growing the window brings the code, in the dialog.
	h.send(tea.WindowSizeMsg{Width: 160, Height: 60})
	h.contains("██████████", "Code from the app:")
	h.lacks("too small for the QR code")
}

func TestMFAQRIsDarkOnLight(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.press("m", "y")
	h.mfaSetup()
	// Bright white on black, so the half blocks draw dark modules on a light field.
	if v := h.m.View().Content; !strings.Contains(v, "97") || !strings.Contains(v, "40m") {
		t.Fatalf("the QR block is not pinned to bright white on black")
	}
	d := h.m.topDialog().(*mfaDialog)
	plain := strings.Join(d.qr, "\n")
	// Without colours (NO_COLOR) the glyphs are used as they are on a dark
	// background, and flipped on a light one.
	h.m.profile = colorprofile.ASCII
	if got := d.qrBlock(h.m); got != plain {
		t.Fatal("NO_COLOR on a dark background changed the glyphs")
	}
	h.m.setDark(false)
	if got := d.qrBlock(h.m); got == plain || got != strings.Join(invertQR(d.qr), "\n") {
		t.Fatal("NO_COLOR on a light background did not flip the glyphs")
	}
	if strings.Contains(d.qrBlock(h.m), "\x1b[") {
		t.Fatal("NO_COLOR output has escape codes")
	}
}

func TestMFASetupRocketChatWithBackupCodes(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	setup := bobMFASetup(t, h)
	h.typeText(simnet.TOTPCode(setup.Secret, h.sb.Env.Clock.Now()))
	h.press("enter")
	h.says("✓ MFA is active on rc-bob.", "Backup codes", "shown only once", "Not saved: s saves them")
	d := h.m.topDialog().(*mfaDialog)
	if len(d.backup) == 0 {
		t.Fatal("no backup codes")
	}
	h.lacks(d.backup[0])
	h.press("space")
	h.contains(d.backup[0])
	// Leaving without saving them asks.
	h.press("enter")
	h.says("The backup codes are not saved and will not be shown again. Close anyway? y/n")
	h.press("n")
	// Quitting asks too.
	if _, cmd := h.m.Update(keyMsg("ctrl+c")); cmd != nil {
		t.Fatal("ctrl+c quit with the backup codes not saved")
	}
	h.says("Quit with MFA setup unfinished?", "The backup codes of rc-bob are not saved and will not be shown again: quitting loses them.")
	h.press("n", "s")
	h.says("✓ Saved to the memory store (gone when keyturn exits) as rc-bob/backup-codes/totp")
	// Saved: nothing left to ask about.
	if _, cmd := h.m.Update(keyMsg("ctrl+c")); cmd == nil {
		t.Fatal("ctrl+c did not quit once the backup codes were saved")
	}
	h.press("enter")
	h.lacks("Backup codes")
}

func TestRocketChatMFAIsDisabledWithACode(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInRocketChat()
	h.says("✓ active", "M disables (asks for a current code)")
	// Setting it up again is refused until it is off.
	h.press("m")
	h.says("TOTP is already active on rc. To set it up again, disable it first")
	h.press("M")
	h.says("Disable MFA · rc", "Rocket.Chat asks for a code from the authenticator app.")
	h.typeText("000000")
	h.press("enter")
	h.says("✗ The server did not accept that")
	code := h.code("rocketchat alice TOTP")
	h.typeText(code)
	h.press("enter")
	if strings.Contains(h.flat(), "did not accept that") {
		// The sign-in used this step; take the next one.
		h.typeText(simnet.TOTPCode("KEYTURNROCKETALICETOTPSECRET2345", h.sb.Env.Clock.Now().Add(30*time.Second)))
		h.press("enter")
	}
	h.says("MFA is off on rc", "not active")
}

// bobMFASetup signs in Rocket.Chat's bob (no TOTP yet) and opens the MFA
// setup with its new secret on screen.
func bobMFASetup(t *testing.T, h *harness) *account.MFASetup {
	t.Helper()
	// bob has no TOTP yet.
	if _, err := h.mgr.Add(context.Background(), config.Account{Name: "rc-bob", Service: account.RocketChat, URL: h.sb.RocketChatURL, User: "bob"}); err != nil {
		t.Fatal(err)
	}
	h.press("ctrl+r")
	h.selectAccount("rc-bob")
	h.press("enter")
	h.typeText("bob-rocket-pw-1")
	h.press("enter")
	if strings.Contains(h.flat(), "asks for the code sent by email") {
		h.typeText(h.code("rocketchat bob email"))
		h.press("enter")
	}
	h.contains("● Signed in")
	h.says("Two-factor authentication (TOTP)", "not active")
	h.press("m")
	if strings.Contains(h.flat(), "asks for") {
		// Enabling TOTP may itself want bob's email code.
		h.typeText(h.code("rocketchat bob email"))
		h.press("enter")
	}
	return h.mfaSetup()
}
