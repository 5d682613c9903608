package tui

import (
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"keyturn/qr"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/simnet"
)

// TestE2ETmuxCLIMFASetupAt80x24 runs `keyturn mfa setup` in an 80×24
// terminal: the QR code fills it, with one line under it, and the secret
// and URI wait for Enter, so no part of the code scrolls away while it is
// scanned. The code read back off the pane is the URI printed after it,
// and a code from that secret activates MFA.
func TestE2ETmuxCLIMFASetupAt80x24(t *testing.T) {
	tmuxPath := tmuxOrSkip(t)
	dir := t.TempDir()
	bin := buildKeyturn(t, dir)
	sb, cfg := adminAccount(t, bin, dir)
	env := []string{"KEYTURN_CONFIG=" + cfg, "KEYTURN_STORE=file", "KEYTURN_STORE_FILE=" + filepath.Join(dir, "secrets.enc"), "KEYTURN_FILE_PASSPHRASE=e2e passphrase"}
	// alice has no MFA yet; she signs in with the password on stdin.
	for _, args := range [][]string{
		{"account", "add", "al", "--service", "mattermost", "--url", sb.MattermostURL, "--user", mattermostsim.AliceUsername},
		{"login", "al", "--password-stdin"},
	} {
		c := exec.Command(bin, args...)
		c.Env = append(c.Environ(), env...)
		c.Stdin = strings.NewReader(mattermostsim.AlicePassword + "\n")
		if out, err := c.CombinedOutput(); err != nil {
			t.Fatalf("%s: %v\n%s", args[0], err, out)
		}
	}
	tm := &tmux{t: t, path: tmuxPath, sock: filepath.Join(dir, "tmux.sock")}
	t.Cleanup(tm.kill)
	run := []string{"-f", "/dev/null", "new-session", "-d", "-s", "e2e", "-x", "80", "-y", "24", "-e", "TERM=xterm-256color"}
	for _, e := range env {
		run = append(run, "-e", e)
	}
	tm.run(append(run, "bash", "--norc", "-c", bin+" mfa setup al; echo KEYTURN-EXIT=$?; sleep 600")...)

	pane := tm.waitFor("press Enter for the secret as text")
	tm.keys("Enter")
	tm.waitFor("Secret:", "URI:", "Code from the authenticator app:")
	// -J joins the URI's wrapped lines back into one.
	text := tm.run("capture-pane", "-p", "-J", "-t", "e2e")
	uri := regexp.MustCompile(`URI: +(otpauth://\S+)`).FindStringSubmatch(text)
	if uri == nil {
		t.Fatal("the URI is not printed after Enter")
	}
	lines, err := qr.Render(uri[1])
	if err != nil {
		t.Fatal(err)
	}
	if err := screenShowsQR(pane, strings.Join(lines, "\n"), true, uri[1]); err != nil {
		t.Fatalf("the 80×24 pane: %v", err)
	}
	secret := regexp.MustCompile(`Secret: ([A-Z2-7 ]+)`).FindStringSubmatch(text)
	if secret == nil {
		t.Fatal("the secret is not printed after Enter")
	}
	tm.text(simnet.TOTPCode(strings.ReplaceAll(strings.TrimSpace(secret[1]), " ", ""), sb.Env.Clock.Now()))
	tm.keys("Enter")
	tm.waitFor("KEYTURN-EXIT=0")
}
