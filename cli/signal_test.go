package cli

import (
	"bytes"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"keyturn/sandbox"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/simnet"
)

// signalWorld is the keyturn binary over a sandbox in this process (so the
// test reads its ledger) with the file store, which outlives each run.
type signalWorld struct {
	t   *testing.T
	bin string
	env []string
	sb  *sandbox.Sandbox
}

func newSignalWorld(t *testing.T) *signalWorld {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	sb, err := sandbox.Start(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	w := &signalWorld{t: t, bin: buildKeyturn(t, dir), sb: sb, env: append(os.Environ(),
		"KEYTURN_CONFIG="+filepath.Join(dir, "config.json"),
		"KEYTURN_STORE=file",
		"KEYTURN_STORE_FILE="+filepath.Join(dir, "secrets.enc"),
		"KEYTURN_FILE_PASSPHRASE=signal test passphrase",
		"NO_COLOR=1",
	)}
	w.mustRun("", "account", "add", "mm", "--service", "mattermost", "--url", sb.MattermostURL, "--user", mattermostsim.AdminUsername)
	w.mustRun(mattermostsim.AdminPassword+"\n", "login", "mm", "--password-stdin", "--code", simnet.TOTPCode(mattermostsim.AdminTOTPSecret, sb.Env.Clock.Now()))
	return w
}

func (w *signalWorld) command(stdin string, args ...string) (*exec.Cmd, *bytes.Buffer, *bytes.Buffer) {
	c := exec.Command(w.bin, args...)
	c.Env = w.env
	c.Stdin = strings.NewReader(stdin)
	var o, e bytes.Buffer
	c.Stdout, c.Stderr = &o, &e
	return c, &o, &e
}

func (w *signalWorld) mustRun(stdin string, args ...string) string {
	w.t.Helper()
	c, o, e := w.command(stdin, args...)
	if err := c.Run(); err != nil {
		w.t.Fatalf("keyturn %s: %v\n%s", args[0], err, e)
	}
	return o.String()
}

// commandTokens is the ledger's slash-command tokens, oldest first.
func (w *signalWorld) commandTokens() []string {
	var out []string
	for _, e := range w.sb.Env.Ledger.Entries() {
		if e.Service == "mattermost" && e.Kind == "command" {
			out = append(out, e.Token)
		}
	}
	return out
}

// rotateInterrupted rotates the first slash command with its answer held
// 3 s, and sends sigs (the first once the server has rotated, the rest
// 200 ms apart). It returns the exit code, stdout, stderr, and the ref.
func (w *signalWorld) rotateInterrupted(sigs ...os.Signal) (int, string, string, string) {
	w.t.Helper()
	var list []struct{ Ref string }
	if err := json.Unmarshal([]byte(w.mustRun("", "token", "list", "mm", "--kind", "command", "--json")), &list); err != nil || len(list) == 0 {
		w.t.Fatalf("token list: %v (%d)", err, len(list))
	}
	ref := list[0].Ref
	before := len(w.commandTokens())
	w.sb.Env.Faults.Add(simnet.Rule{Path: "/regen_token", Method: "PUT", Fault: simnet.Slow, Delay: 3 * time.Second, Times: 1})
	c, o, e := w.command("", "token", "rotate", "mm", ref, "--json")
	start := time.Now()
	if err := c.Start(); err != nil {
		w.t.Fatal(err)
	}
	for len(w.commandTokens()) == before {
		if time.Since(start) > 20*time.Second {
			_ = c.Process.Kill()
			w.t.Fatal("the regeneration never reached the server")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for i, sig := range sigs {
		if i > 0 {
			time.Sleep(200 * time.Millisecond)
		}
		if err := c.Process.Signal(sig); err != nil {
			w.t.Fatal(err)
		}
	}
	err := c.Wait()
	code := 0
	if xe, ok := err.(*exec.ExitError); ok {
		code = xe.ExitCode()
	} else if err != nil {
		w.t.Fatal(err)
	}
	if len(sigs) == 1 && time.Since(start) < 3*time.Second {
		w.t.Fatalf("keyturn ended %v after starting, before the server answered", time.Since(start))
	}
	return code, o.String(), e.String(), ref
}

// TestBinarySignalDuringRegenerationStoresTheToken: SIGINT, SIGTERM or SIGHUP
// once the server has regenerated a slash command's token does not drop the
// answer: keyturn waits for it, stores it, reports it, then exits 130.
func TestBinarySignalDuringRegenerationStoresTheToken(t *testing.T) {
	for _, sig := range []os.Signal{os.Interrupt, syscall.SIGTERM, syscall.SIGHUP} {
		t.Run(signalName(sig), func(t *testing.T) {
			w := newSignalWorld(t)
			code, stdout, stderr, ref := w.rotateInterrupted(sig)
			if code != ExitInterrupted {
				t.Fatalf("exit %d, want %d\nstderr: %s", code, ExitInterrupted, stderr)
			}
			for _, want := range []string{
				"keyturn: " + signalName(sig) + ": waiting for the rotation of mm " + ref + " to answer and be stored",
				"keyturn: interrupted: waited for the rotation of mm " + ref + " to answer before quitting",
			} {
				if !strings.Contains(stderr, want) {
					t.Fatalf("stderr lacks %q:\n%s", want, stderr)
				}
			}
			var rotated struct {
				Name   string
				Stored bool
			}
			if err := json.Unmarshal([]byte(stdout), &rotated); err != nil || !rotated.Stored || rotated.Name == "" {
				t.Fatalf("stdout does not report the stored token (%v): %s", err, stdout)
			}
			toks := w.commandTokens()
			current := toks[len(toks)-1]
			if strings.Contains(stderr, current) {
				t.Fatal("the token is on stderr")
			}
			if got := w.mustRun("", "secret", "get", rotated.Name); got != current {
				t.Fatal("the stored token is not the one the server holds now")
			}
		})
	}
}

// TestBinarySecondSIGINTForcesAndNamesWhatMayBeLost: a second SIGINT quits
// at once, naming the request and how to recover its token.
func TestBinarySecondSIGINTForcesAndNamesWhatMayBeLost(t *testing.T) {
	w := newSignalWorld(t)
	code, stdout, stderr, ref := w.rotateInterrupted(os.Interrupt, os.Interrupt)
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want %d\nstderr: %s", code, ExitInterrupted, stderr)
	}
	for _, want := range []string{
		"quitting without waiting: the token from the rotation of mm " + ref + " may be lost",
		"'keyturn token fetch mm " + ref + "' saves the token the server holds now",
	} {
		if !strings.Contains(stderr, want) {
			t.Fatalf("stderr lacks %q:\n%s", want, stderr)
		}
	}
	if stdout != "" {
		t.Fatalf("a forced quit printed a result: %s", stdout)
	}
	// What it says to run recovers the token.
	w.mustRun("", "token", "fetch", "mm", ref)
	toks := w.commandTokens()
	var fetched struct{ Name string }
	_ = json.Unmarshal([]byte(w.mustRun("", "token", "fetch", "mm", ref, "--json")), &fetched)
	if got := w.mustRun("", "secret", "get", fetched.Name); got != toks[len(toks)-1] {
		t.Fatal("token fetch did not recover the server's current token")
	}
}

// TestBinarySIGINTBeforeAnythingIssuesStopsAtOnce: with no issuing request
// on its way (a listing), SIGINT stops the command without waiting.
func TestBinarySIGINTBeforeAnythingIssuesStopsAtOnce(t *testing.T) {
	w := newSignalWorld(t)
	w.sb.Env.Faults.Add(simnet.Rule{Path: "/commands", Method: "GET", Fault: simnet.Slow, Delay: 5 * time.Second, Times: 1})
	c, o, e := w.command("", "token", "list", "mm", "--kind", "command")
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	for w.sb.Env.Faults.Hits()[simnet.Slow] == 0 {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	if err := c.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	err := c.Wait()
	xe, ok := err.(*exec.ExitError)
	if !ok || xe.ExitCode() != ExitInterrupted {
		t.Fatalf("exit %v, want %d\nstderr: %s", err, ExitInterrupted, e)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("stopping took %v", d)
	}
	if !strings.Contains(e.String(), "keyturn: interrupted") || strings.Contains(e.String(), "waiting for") || o.Len() != 0 {
		t.Fatalf("stdout %q, stderr %q", o, e)
	}
}
