package tui

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/simnet"
)

// TestE2ETmuxCLILeakRotate runs `keyturn leak --rotate` in a real terminal:
// the leaked token is typed at a prompt that does not echo it, keyturn
// names the slash command, rotates it and delivers the new token to the
// command's .env consumer; neither token ever shows on the screen.
func TestE2ETmuxCLILeakRotate(t *testing.T) {
	tmuxPath := tmuxOrSkip(t)
	dir := t.TempDir()
	bin := buildKeyturn(t, dir)
	sb, cfg := adminAccount(t, bin, dir)
	id := sb.Mattermost.SeedCommands(mattermostsim.TeamName, 1)[0]
	envFile := filepath.Join(t.TempDir(), "app.env")
	os.WriteFile(envFile, []byte("OTHER=1\nMM_TOKEN=old\n"), 0o600)
	env := []string{"KEYTURN_CONFIG=" + cfg, "KEYTURN_STORE=file", "KEYTURN_STORE_FILE=" + filepath.Join(dir, "secrets.enc"), "KEYTURN_FILE_PASSPHRASE=e2e passphrase"}
	for _, c := range []struct {
		stdin string
		args  []string
	}{
		{mattermostsim.AdminPassword + "\n" + simnet.TOTPCode(mattermostsim.AdminTOTPSecret, sb.Env.Clock.Now()) + "\n", []string{"login", "mm", "--password-stdin", "--code", "-"}},
		{"", []string{"token", "fetch", "mm", "command:" + id}},
		{"", []string{"consumer", "add", "mm/command/" + id, "--file", envFile, "--env-key", "MM_TOKEN"}},
	} {
		cmd := exec.Command(bin, c.args...)
		cmd.Env = append(cmd.Environ(), env...)
		cmd.Stdin = strings.NewReader(c.stdin)
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", c.args[0], err, out)
		}
	}
	leaked := sb.Mattermost.CommandToken(id)

	tm := &tmux{t: t, path: tmuxPath, sock: filepath.Join(dir, "tmux.sock")}
	t.Cleanup(tm.kill)
	run := []string{"-f", "/dev/null", "new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", "-e", "TERM=xterm-256color"}
	for _, e := range env {
		run = append(run, "-e", e)
	}
	tm.run(append(run, "bash", "--norc", "-c", bin+" leak --rotate; echo KEYTURN-EXIT=$?; sleep 600")...)
	tm.waitFor("Leaked token (not shown):")
	tm.text(leaked)
	tm.keys("Enter")
	pane := tm.waitFor("MATCH mm command:"+id, "found by: the stored copy of mm/command/"+id, "rotated mm command:"+id+": saved mm/command/"+id,
		"delivered mm/command/"+id+" to file "+envFile+" (MM_TOKEN=…)", "KEYTURN-EXIT=0")
	now := sb.Mattermost.CommandToken(id)
	if now == leaked {
		t.Fatal("the command's token was not rotated")
	}
	if strings.Contains(pane, leaked) || strings.Contains(pane, now) {
		t.Fatal("a token showed on the screen")
	}
	if data, _ := os.ReadFile(envFile); string(data) != "OTHER=1\nMM_TOKEN="+now+"\n" {
		t.Fatal("the .env file does not hold exactly the new token")
	}
}
