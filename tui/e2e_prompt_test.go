package tui

import (
	"path/filepath"
	"testing"

	"keyturn/sandbox/mattermostsim"
)

// TestE2ETmuxCtrlCAtACLIPrompt presses Ctrl-C at the command line's
// prompts in a real terminal: the password (read with no echo) and the
// authenticator code. Nothing is on its way then, so keyturn stops at once
// (exit 130) and leaves the terminal echoing; before, it sat on the read
// until Enter, taking what was typed next as the password.
func TestE2ETmuxCtrlCAtACLIPrompt(t *testing.T) {
	tmuxPath := tmuxOrSkip(t)
	dir := t.TempDir()
	bin := buildKeyturn(t, dir)
	_, cfg := adminAccount(t, bin, dir)
	for _, at := range []string{"password", "code"} {
		t.Run(at, func(t *testing.T) {
			tm := &tmux{t: t, path: tmuxPath, sock: filepath.Join(dir, "tmux-"+at+".sock")}
			t.Cleanup(tm.kill)
			tm.run("-f", "/dev/null", "new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40",
				"-e", "TERM=xterm-256color", "-e", "KEYTURN_CONFIG="+cfg, "-e", "KEYTURN_STORE=memory",
				"bash", "--norc", "-c", bin+" login mm; echo KEYTURN-EXIT=$?; stty -a | grep -o '[-]*echo ' | head -1 | sed 's/^/STTY:/'; sleep 600")
			tm.waitFor("Password for admin")
			if at == "code" {
				tm.text(mattermostsim.AdminPassword)
				tm.keys("Enter")
				tm.waitFor("Authenticator code:")
			}
			tm.keys("C-c")
			tm.waitFor("KEYTURN-EXIT=130", "STTY:echo")
			tm.lacks("STTY:-echo")
		})
	}
}
