package tui

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"keyturn/audit"
	"keyturn/sandbox/mattermostsim"
)

// TestE2ETmuxOverviewRotatesOverdueAndShowsHistory runs the built binary's
// TUI in a tmux pane: with a policy of 30 days for slash commands and one
// command 40 days old, the overview (i) marks it overdue, R rotates the
// account's overdue tokens through the bulk rotation, the overview then
// shows none, and the account's history (l) shows the sign-in and the
// rotation, which the audit log holds as done from the TUI. Skipped
// without tmux unless KEYTURN_TEST_TMUX=1.
func TestE2ETmuxOverviewRotatesOverdueAndShowsHistory(t *testing.T) {
	tmuxPath := tmuxOrSkip(t)
	dir := t.TempDir()
	bin := buildKeyturn(t, dir)
	sb, cfg := adminAccount(t, bin, dir)
	set := exec.Command(bin, "policy", "set", "command", "30d")
	set.Env = append(set.Environ(), "KEYTURN_CONFIG="+cfg)
	if out, err := set.CombinedOutput(); err != nil {
		t.Fatalf("policy set: %v\n%s", err, out)
	}
	var deploy string
	for _, e := range sb.Env.Ledger.Entries() {
		if e.Kind == mattermostsim.KindCommand {
			deploy = e.ID // the first seeded command is /deploy
			break
		}
	}
	if !sb.Mattermost.Backdate(deploy, 40*24*time.Hour) {
		t.Fatal("no seeded command to backdate")
	}

	tm := &tmux{t: t, path: tmuxPath, sock: filepath.Join(dir, "tmux.sock")}
	t.Cleanup(tm.kill)
	tm.run("-f", "/dev/null", "new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40",
		"-e", "TERM=xterm-256color", "-e", "KEYTURN_CONFIG="+cfg, "-e", "KEYTURN_STORE=memory",
		"sh", "-c", bin+"; echo KEYTURN-EXIT=$?; sleep 600")
	tm.waitFor("NAME", "mm")
	tm.signInAdmin(sb)
	tm.waitFor("● Signed in")
	tm.keys("Escape")
	tm.waitFor("● signed in")
	tm.keys("i")
	tm.waitFor("Overview", "/deploy", "✗ overdue", "1 token overdue or expired")
	tm.keys("R")
	tm.waitFor("Rotate 1 overdue token of mm?", "command:"+deploy)
	tm.keys("y")
	tm.waitFor("Rotated · overdue tokens", "✓ 1 rotated")
	tm.keys("Enter")
	tm.waitFor("0 tokens overdue or expired")
	tm.lacks("✗ overdue")
	tm.keys("Enter")
	tm.waitFor("Accounts › mm")
	tm.keys("l")
	tm.waitFor("History · mm", "rotate", "command:"+deploy, "login")
	tm.keys("Escape")
	tm.waitGone("History · mm")
	tm.keys("q")
	tm.waitFor("KEYTURN-EXIT=0")

	raw, err := os.ReadFile(filepath.Join(dir, audit.FileName))
	if err != nil {
		t.Fatal(err)
	}
	want := `"action":"rotate","account":"mm","ref":"command:` + deploy
	if !strings.Contains(string(raw), want) || !strings.Contains(string(raw), `"face":"tui"`) {
		t.Fatalf("the audit log lacks the TUI's rotation:\n%s", raw)
	}
}
