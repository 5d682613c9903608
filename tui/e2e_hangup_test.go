package tui

import (
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"keyturn/keystore"
)

// TestE2ETmuxHangupAtQuitConfirmation closes the terminal (tmux
// kill-session: SIGHUP) while the app asks "Quit with unsaved tokens?":
// nobody can answer any more, so keyturn must exit rather than wait on the
// dialog forever. The token is NOT saved because the secrets file was left
// closed (Esc on its passphrase dialog).
func TestE2ETmuxHangupAtQuitConfirmation(t *testing.T) {
	tmuxPath := tmuxOrSkip(t)
	dir := t.TempDir()
	bin := buildKeyturn(t, dir)
	sb, cfg := adminAccount(t, bin, dir)

	tm := &tmux{t: t, path: tmuxPath, sock: filepath.Join(dir, "tmux.sock")}
	t.Cleanup(tm.kill)
	tm.run("-f", "/dev/null", "new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40",
		"-e", "TERM=xterm-256color", "-e", "KEYTURN_CONFIG="+cfg,
		"-e", "KEYTURN_STORE=file", "-e", "KEYTURN_STORE_FILE="+filepath.Join(dir, "secrets.enc"),
		"sh", "-c", "env -u "+keystore.EnvPassphrase+" "+bin+"; echo KEYTURN-EXIT=$?; sleep 600")
	tm.waitFor("Open the secrets file", "Passphrase:")
	tm.keys("Escape")
	tm.waitFor("The secrets file stays closed")
	tm.keys("Escape")
	tm.waitGone("The secrets file stays closed")
	tm.signInAdmin(sb)
	tm.waitFor("Signed in, but NOT saved")
	tm.keys("C-c")
	tm.waitFor("Quit with unsaved tokens?")
	pid := keyturnPid(t, tm)
	t.Cleanup(func() { _ = syscall.Kill(pid, syscall.SIGKILL) })

	tm.run("kill-session", "-t", "e2e")
	for deadline := time.Now().Add(10 * time.Second); syscall.Kill(pid, 0) == nil; time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("keyturn still runs 10 s after its terminal hung up on a quit confirmation")
		}
	}
}
