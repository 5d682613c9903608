package tui

import (
	"bytes"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/sandbox"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/simnet"
)

// TestE2ETmuxQuitDuringRegeneration runs the built binary in a tmux pane
// over a sandbox in this process, with the file store (it outlives the
// process), and quits while a slash command's regeneration is on its way
// (the server has rotated; its answer is held 3 s): by ctrl+c, by SIGTERM,
// and by ctrl+c or SIGTERM twice. Waiting leaves the server's new token stored and says
// so after the screen closes (SIGTERM exits 130); forcing says what may be
// lost and how to get it back.
func TestE2ETmuxQuitDuringRegeneration(t *testing.T) {
	tmuxPath := tmuxOrSkip(t)
	bin := buildKeyturn(t, t.TempDir())
	for _, how := range []string{"ctrl+c", "SIGTERM", "ctrl+c twice", "SIGTERM twice"} {
		t.Run(how, func(t *testing.T) {
			dir := t.TempDir()
			sb, err := sandbox.Start(sandbox.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { sb.Close() })
			env := []string{
				"KEYTURN_CONFIG=" + filepath.Join(dir, "config.json"),
				"KEYTURN_STORE=file",
				"KEYTURN_STORE_FILE=" + filepath.Join(dir, "secrets.enc"),
				"KEYTURN_FILE_PASSPHRASE=tmux quit passphrase",
			}
			keyturn := func(stdin string, args ...string) string {
				t.Helper()
				c := exec.Command(bin, args...)
				c.Env = append(c.Environ(), env...)
				c.Stdin = strings.NewReader(stdin)
				var o, e bytes.Buffer
				c.Stdout, c.Stderr = &o, &e
				if err := c.Run(); err != nil {
					t.Fatalf("keyturn %s: %v\n%s", args[0], err, e.String())
				}
				return o.String()
			}
			keyturn("", "account", "add", "mm", "--service", "mattermost", "--url", sb.MattermostURL, "--user", mattermostsim.AdminUsername)
			keyturn(mattermostsim.AdminPassword+"\n", "login", "mm", "--password-stdin", "--code", simnet.TOTPCode(mattermostsim.AdminTOTPSecret, sb.Env.Clock.Now()))
			commands := func() []simnet.Issued {
				var out []simnet.Issued
				for _, e := range sb.Env.Ledger.Entries() {
					if e.Service == "mattermost" && e.Kind == "command" {
						out = append(out, e)
					}
				}
				return out
			}

			tm := &tmux{t: t, path: tmuxPath, sock: filepath.Join(dir, "tmux.sock")}
			t.Cleanup(tm.kill)
			args := []string{"-f", "/dev/null", "new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40", "-e", "TERM=xterm-256color"}
			for _, e := range env {
				args = append(args, "-e", e)
			}
			tm.run(append(args, "sh", "-c", bin+"; echo KEYTURN-EXIT=$?; sleep 600")...)
			tm.waitFor("mm", "● signed in")
			tm.keys("Enter")
			tm.waitFor("● Signed in", "Slash commands · team ops")
			tm.cursorTo("/oncall")
			before := len(commands())
			sb.Env.Faults.Add(simnet.Rule{Path: "/regen_token", Method: "PUT", Fault: simnet.Slow, Delay: 3 * time.Second, Times: 1})
			tm.keys("r")
			tm.waitFor("Rotate slash-command token?")
			tm.keys("y")
			for deadline := time.Now().Add(15 * time.Second); len(commands()) == before; time.Sleep(5 * time.Millisecond) {
				if time.Now().After(deadline) {
					t.Fatal("the regeneration never reached the server")
				}
			}
			issued := commands()[len(commands())-1]
			ref := account.Ref{Kind: account.KindCommand, ID: issued.ID}
			switch how {
			case "SIGTERM", "SIGTERM twice":
				if err := syscall.Kill(keyturnPid(t, tm), syscall.SIGTERM); err != nil {
					t.Fatal(err)
				}
			default:
				tm.keys("C-c")
			}
			tm.waitFor("Quitting…", "Waiting for the regeneration of mm "+ref.String()+" to answer and be stored")
			if strings.HasSuffix(how, "twice") {
				// Forced by a signal, keyturn exits 130 as every command
				// does; by the key, 1.
				exit := "KEYTURN-EXIT=1"
				if how == "SIGTERM twice" {
					exit = "KEYTURN-EXIT=130"
					if err := syscall.Kill(keyturnPid(t, tm), syscall.SIGTERM); err != nil {
						t.Fatal(err)
					}
				} else {
					tm.keys("C-c")
				}
				tm.waitFor(exit)
				// The message is wrapped at 120 columns: read it joined.
				joined := tm.run("capture-pane", "-p", "-J", "-t", "e2e")
				for _, want := range []string{"keyturn: quit without waiting: the token from the regeneration of mm " + ref.String() + " may be lost",
					"'keyturn token fetch mm " + ref.String() + "' saves the token the server holds now"} {
					if !strings.Contains(joined, want) {
						t.Fatalf("the terminal does not say %q:\n%s", want, joined)
					}
				}
				// What it says to run gets the token back.
				keyturn("", "token", "fetch", "mm", ref.String())
			} else {
				// After the screen closes the terminal says what the quit
				// waited for; a signal exits 130, as for every command.
				exit, said := "KEYTURN-EXIT=0", "keyturn: waited for the regeneration of mm "+ref.String()+" to answer and be stored before quitting"
				if how == "SIGTERM" {
					exit, said = "KEYTURN-EXIT=130", "keyturn: interrupted: waited for the regeneration of mm "+ref.String()+" to answer before quitting"
				}
				tm.waitFor(exit)
				if joined := tm.run("capture-pane", "-p", "-J", "-t", "e2e"); !strings.Contains(joined, said) {
					t.Fatalf("the terminal does not say %q:\n%s", said, joined)
				}
			}
			if got := keyturn("", "secret", "get", account.SecretName("mm", ref)); got != issued.Token {
				t.Fatal("the stored token is not the one the server issued")
			}
		})
	}
}

// keyturnPid is the pid of keyturn, the pane's shell's child.
func keyturnPid(t *testing.T, tm *tmux) int {
	t.Helper()
	sh := strings.TrimSpace(tm.run("display-message", "-p", "-t", "e2e", "#{pane_pid}"))
	out, err := exec.Command("pgrep", "-P", sh).Output()
	if err != nil {
		t.Fatalf("pgrep -P %s: %v", sh, err)
	}
	pid, err := strconv.Atoi(strings.Fields(string(out))[0])
	if err != nil {
		t.Fatal(err)
	}
	return pid
}
