package tui

import (
	"errors"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"unicode/utf8"

	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/simnet"
)

// sgr is the styling lipgloss emits itself: ESC [ params m.
var sgr = regexp.MustCompile(`\x1b\[[0-9;:]*m`)

// screenSafe says what in a rendered view, once lipgloss's own SGR
// styling is taken out, a terminal would act on: any other escape, a C0
// control but newline, DEL, a C1 control, a bidi override or isolate, or
// a byte that is not UTF-8.
func screenSafe(view string) error {
	s := sgr.ReplaceAllString(view, "")
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return fmt.Errorf("holds the invalid byte %#x", s[i])
		case r < 0x20 && r != '\n', r >= 0x7f && r <= 0x9f,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			return fmt.Errorf("holds %U in %q", r, s[max(0, i-40):min(len(s), i+40)])
		}
		i += n
	}
	return nil
}

// TestHostileServersReachNoScreen drives the app against servers that put
// escape sequences (OSC 52, a screen clear, C1 CSI, a bidi override, DEL,
// CR) in every name and message, and checks every screen it passes
// through: the accounts list, a sign-in error banner, the challenge dialog
// with the server's words, each account's token list, a confirm dialog, a
// result dialog and an operation's error banner.
func TestHostileServersReachNoScreen(t *testing.T) {
	h := newHarness(t, harnessOpts{hostile: true})
	var seen strings.Builder
	check := func(where string) {
		t.Helper()
		v := h.m.View().Content
		if err := screenSafe(v); err != nil {
			t.Errorf("%s: the view %v", where, err)
		}
		seen.WriteString(h.screen())
	}
	check("accounts list")

	h.selectAccount(mmAcct)
	h.press("enter")
	h.typeText("wrong")
	h.press("enter")
	h.contains("✗ The server did not accept the user name or password.")
	check("sign-in error in the dialog")
	h.press("esc")

	h.press("s")
	h.typeText(mattermostsim.AdminPassword)
	h.press("enter")
	h.typeText("000000")
	h.press("enter")
	h.says("✗ The server did not accept that")
	check("challenge dialog after a wrong code")
	h.typeText(h.mattermostCode())
	h.press("enter")
	h.contains("● Signed in", "Slash commands")
	check("mattermost token list")

	h.cursorTo("created just now") // the labels, escapes shown, leave no room for "/deploy"
	h.press("r")
	h.says("Rotate slash-command token?")
	check("regenerate confirm dialog")
	h.press("y")
	h.says("New slash-command token")
	check("result dialog")
	h.press("enter")

	// A regeneration whose answer is a server error: the banner quotes it.
	h.sb.Env.Faults.Add(simnet.Rule{Path: "regen_token", Fault: simnet.ErrorAfterApply, Times: 1})
	h.cursorTo("created just now")
	h.press("down", "r", "y")
	h.says("esc dismisses")
	check("operation error banner")
	h.press("esc")

	// Rotate the whole team's commands: the section is named by the
	// team's (cleaned) name.
	h.press("R")
	h.says("Rotate all 3 slash-command tokens?")
	check("rotate-all confirm")
	h.press("y")
	h.says("✓ 3 rotated")
	check("rotate-all report")
	h.press("esc", "esc")

	h.signInCapillary()
	check("capillary account")
	h.press("esc")

	h.signInRocketChat()
	h.contains("seeded-ci", "]52;c;")
	check("rocket.chat token list")
	// The PAT whose very name carries the escapes: regenerating it.
	h.cursorTo("]52;c;")
	h.press("r")
	check("regenerate confirm for the hostile PAT")
	h.press("y")
	if strings.Contains(h.flat(), "asks for a code from the authenticator app") {
		h.typeText(h.code("rocketchat alice TOTP"))
		h.press("enter")
	}
	check("regenerating the hostile PAT")

	// Every token of every account, and an account's history.
	for i := 0; i < 3 && h.m.topDialog() != nil; i++ {
		h.press("esc")
	}
	h.press("esc", "i")
	h.says("Overview", "]52;c;")
	check("overview")
	h.press("enter", "l")
	h.says("History")
	check("history")

	if !strings.Contains(seen.String(), "]52;c;") {
		t.Errorf("no hostile text was shown at all: the test proves nothing")
	}
}

// TestViewLetsNoEscapeThrough: an error in the banner shows its escapes
// defused, and text that reached the frame by any other way (here the
// status line) leaves View with none but lipgloss's styling.
func TestViewLetsNoEscapeThrough(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.m.showError("Something failed", errors.New("server says "+simnet.HostileText+"boom"))
	h.m.setStatus("status " + simnet.HostileText + "line")
	v := h.m.View().Content
	if err := screenSafe(v); err != nil {
		t.Fatalf("the view %v", err)
	}
	h.says("server says ?]52;c;", "boom", "status", "line")
}
