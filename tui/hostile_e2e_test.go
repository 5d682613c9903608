package tui

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestE2EHostileTmux runs `keyturn demo --hostile` in a real terminal (a
// tmux pane that, like many terminals, lets applications set the
// clipboard with OSC 52): a failed sign-in's banner and the token list
// show the servers' escape sequences defused, as text, and none of them
// acted: no clipboard buffer was set, the pane holds no escape but
// colours.
func TestE2EHostileTmux(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "tmux.conf")
	if err := os.WriteFile(conf, []byte("set -g set-clipboard on\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tm := startTmux(t, conf, func(bin, dir string) string { return bin + " demo --hostile" })
	tm.waitFor("demo-mattermost", "codes:")

	tm.keys("Enter")
	tm.waitFor("Password:")
	tm.text("wrong-password")
	tm.keys("Enter")
	tm.waitFor("did not accept the user name or password")
	tm.noEscapesActed("the sign-in error in the dialog")
	tm.waitFor("?]52;c;") // shown as text
	tm.keys("Escape", "s")
	tm.waitFor("Password:")
	tm.text(tm.footer(`demo passwords: mattermost (\S+)`))
	tm.keys("Enter")
	tm.waitFor("Mattermost asks for a code from the authenticator app.")
	tm.text(tm.footer(`mattermost admin TOTP (\d{6})`))
	tm.keys("Enter")
	tm.waitFor("● Signed in", "Slash commands · team ?]52;c;")
	tm.noEscapesActed("the token list")
}

// TestE2EHostileTmuxCLI runs the command line in a real terminal against
// `keyturn sandbox --hostile`: a failed sign-in prints the server's error
// with its OSC 52 clipboard write, screen clear and bidi override defused.
func TestE2EHostileTmuxCLI(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "tmux.conf")
	if err := os.WriteFile(conf, []byte("set -g set-clipboard on\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	tm := startTmux(t, conf, func(bin, dir string) string {
		info := filepath.Join(dir, "sandbox.json")
		return "export KEYTURN_STORE=memory; " +
			bin + " sandbox --hostile >" + info + " 2>/dev/null & " +
			"while ! [ -s " + info + " ]; do sleep 0.1; done; " +
			`url=$(sed -n 's/^{"mattermost":{"url":"\([^"]*\)".*/\1/p' ` + info + "); " +
			bin + ` account add mm --service mattermost --url "$url" --user admin >/dev/null; ` +
			"echo wrong | " + bin + " login mm --password-stdin; kill %1"
	})
	s := tm.waitFor("KEYTURN-EXIT=1")
	tm.noEscapesActed("the sign-in error")
	if !strings.Contains(s, "keyturn: signing in (mm") || !strings.Contains(s, "?]52;c;") {
		t.Fatalf("the pane does not show the defused error:\n%s", s)
	}
}

// noEscapesActed fails when an OSC 52 reached tmux (it made a paste
// buffer) or the pane, read with its attributes, holds an escape sequence
// other than the colours tmux writes back (SGR).
func (m *tmux) noEscapesActed(where string) {
	m.t.Helper()
	if bufs := strings.TrimSpace(m.run("list-buffers")); bufs != "" {
		m.t.Fatalf("%s: an OSC 52 reached the terminal and set the clipboard: %q", where, bufs)
	}
	pane := m.run("capture-pane", "-p", "-e", "-t", "e2e")
	if err := screenSafe(pane); err != nil {
		m.t.Fatalf("%s: the pane %v", where, err)
	}
}
