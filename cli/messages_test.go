package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
	"keyturn/sandbox/rocketchatsim"
	"keyturn/sandbox/simnet"
)

// The command a message tells the person to run works when pasted: a PAT
// name with spaces (or a shell character) is quoted in it. Before, 'keyturn
// token create rc my deploy bot …' failed with "accepts 2 arg(s)".
func TestRerunCommandsQuoteNamesWithSpaces(t *testing.T) {
	w := newWorld(t)
	w.addRocketChat("rc", "carol")
	w.want(w.run(rocketchatsim.CarolPassword+"\n", "login", "rc", "--password-stdin"), ExitOK, "login carol")
	r := w.run("", "token", "create", "rc", "my deploy bot")
	w.want(r, ExitNeedCode, "create without the second factor")
	mustContain(t, "create without the second factor", r.err, `run 'keyturn token create rc "my deploy bot" --method password --code -'`)
	w.want(w.run(rocketchatsim.CarolPassword+"\n", "token", "create", "rc", "it's $HOME", "--method", "password", "--code", "-"), ExitOK, "create it's $HOME")
	// A fresh session forgets the passed second factor.
	w.want(w.run(rocketchatsim.CarolPassword+"\n", "login", "rc", "--password-stdin"), ExitOK, "login carol again")
	r = w.run("", "token", "rotate", "rc", "pat:it's $HOME")
	w.want(r, ExitNeedCode, "rotate without the second factor")
	mustContain(t, "rotate without the second factor", r.err, `run 'keyturn token rotate rc 'pat:it'\''s $HOME' --method password --code -'`)
}

// A secret named as the PAT is named on the server (with a space) is not a
// valid name; the message says how keyturn writes it.
func TestSecretNameWithASpaceSaysTheEscapedName(t *testing.T) {
	w := newWorld(t)
	for _, args := range [][]string{
		{"secret", "get", "rc/pat/my deploy bot"},
		{"secret", "delete", "rc/pat/my deploy bot", "--yes"},
		{"secret", "set", "rc/pat/my deploy bot"},
		{"exec", "rc/pat/my deploy bot=TOK", "--", "true"},
	} {
		r := w.run("a-token-value-0123456789\n", args...)
		w.want(r, ExitUsage, args[1])
		mustContain(t, args[1], r.err, `' ' is not allowed`, "keyturn names this token rc/pat/my%20deploy%20bot")
	}
}

// A signal while keyturn waits on stdin (--password-stdin, nothing written)
// ends it at once with exit 130: nothing is on its way. Before, it waited
// for a line or the end of stdin.
func TestBinarySignalWhileReadingStdinStopsAtOnce(t *testing.T) {
	w := newSignalWorld(t)
	c := exec.Command(w.bin, "login", "mm", "--password-stdin")
	c.Env = w.env
	stdin, err := c.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	defer stdin.Close()
	var e bytes.Buffer
	c.Stderr = &e
	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	time.Sleep(500 * time.Millisecond) // at the read
	if err := c.Process.Signal(os.Interrupt); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- c.Wait() }()
	select {
	case err = <-done:
	case <-time.After(5 * time.Second):
		_ = c.Process.Kill()
		<-done
		t.Fatalf("still reading stdin 5 s after SIGINT; stderr: %s", e.String())
	}
	var xe *exec.ExitError
	if !errors.As(err, &xe) || xe.ExitCode() != ExitInterrupted {
		t.Fatalf("exit: %v, want %d; stderr: %s", err, ExitInterrupted, e.String())
	}
	mustContain(t, "stderr", e.String(), "keyturn: interrupted (SIGINT)")
}

// A second keyturn on an account another one is rotating says at once that
// it waits and for whom, then does its work once the first is done.
func TestBinarySecondProcessSaysItWaitsForTheAccount(t *testing.T) {
	w := newSignalWorld(t)
	var list []struct{ Ref string }
	if err := json.Unmarshal([]byte(w.mustRun("", "token", "list", "mm", "--kind", "command", "--json")), &list); err != nil || len(list) < 2 {
		t.Fatalf("token list: %v (%d)", err, len(list))
	}
	before := len(w.commandTokens())
	w.sb.Env.Faults.Add(simnet.Rule{Path: "/regen_token", Method: "PUT", Fault: simnet.Slow, Delay: 2 * time.Second, Times: 1})
	first, _, firstErr := w.command("", "token", "rotate", "mm", list[0].Ref)
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(10 * time.Second); len(w.commandTokens()) == before; time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			_ = first.Process.Kill()
			t.Fatal("the first rotation never reached the server")
		}
	}
	second, _, secondErr := w.command("", "token", "rotate", "mm", list[1].Ref)
	start := time.Now()
	if err := second.Run(); err != nil {
		t.Fatalf("second: %v\n%s", err, secondErr)
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first: %v\n%s", err, firstErr)
	}
	if time.Since(start) < time.Second {
		t.Fatal("the second did not wait for the first")
	}
	mustContain(t, "the second's stderr", secondErr.String(), "keyturn: account mm is busy: keyturn (pid ", "has been rotating", "waiting up to 15s for it")
}

// A command given the wrong words shows its own usage line and the help
// to read, not only "accepts 1 arg(s), received 0" and the top-level help.
func TestUsageErrorNamesTheCommandsUsage(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"secret", "get"}, []string{"missing NAME", "Usage: keyturn secret get NAME", "Run 'keyturn secret get --help' for more."}},
		{[]string{"token", "create", "mm"}, []string{"Usage: keyturn token create ACCOUNT LABEL", "Run 'keyturn token create --help' for more."}},
		{[]string{"token", "rotate", "mm", "--bogus"}, []string{"unknown flag: --bogus", "Run 'keyturn token rotate --help' for more."}},
		{[]string{"nosuch"}, []string{"unknown command", "Run 'keyturn --help' for more."}},
	} {
		r := w.run("", c.args...)
		w.want(r, ExitUsage, strings.Join(c.args, " "))
		mustContain(t, strings.Join(c.args, " "), r.err, c.want...)
	}
}

// Wrong words get what a person needs to fix them in place: the closest
// command or flag, the argument that is missing by name, and exit 2 for a
// service keyturn does not know (issue 16, item 10).
func TestUsageErrorsSuggestAndNameWhatIsMissing(t *testing.T) {
	w := newWorld(t)
	for _, c := range []struct {
		args []string
		want []string
	}{
		{[]string{"tokens"}, []string{`keyturn: unknown command "tokens" for "keyturn" (did you mean "token"?)`, "Run 'keyturn --help' for more."}},
		{[]string{"acount", "list"}, []string{`(did you mean "account"?)`}},
		{[]string{"token", "lis"}, []string{`keyturn: unknown command "lis" for "keyturn token" (did you mean "list"?)`, "Run 'keyturn token --help' for more."}},
		{[]string{"token", "rotate", "mm", "--al"}, []string{"keyturn: unknown flag: --al (did you mean --all?)", "Run 'keyturn token rotate --help' for more."}},
		{[]string{"account", "add", "x", "--servce", "mattermost"}, []string{"unknown flag: --servce (did you mean --service?)"}},
		{[]string{"login"}, []string{"keyturn: missing ACCOUNT", "Usage: keyturn login ACCOUNT", "Run 'keyturn login --help' for more."}},
		{[]string{"login", "a", "b"}, []string{`keyturn: unexpected argument "b" (keyturn login takes ACCOUNT)`}},
		{[]string{"token", "create", "mm"}, []string{"keyturn: missing LABEL", "Usage: keyturn token create ACCOUNT LABEL"}},
		{[]string{"account", "add", "x", "--service", "slack", "--url", "https://chat.example.com"}, []string{`keyturn: unknown service "slack": use mattermost, rocketchat or capillary`, "Run 'keyturn account add --help' for more."}},
	} {
		r := w.run("", c.args...)
		w.want(r, ExitUsage, strings.Join(c.args, " "))
		mustContain(t, strings.Join(c.args, " "), r.err, c.want...)
	}
	// A group with no command still shows its help.
	if r := w.run("", "token"); r.code != ExitOK || !strings.Contains(r.out, "Available Commands") {
		t.Errorf("keyturn token: exit %d, out %q", r.code, r.out)
	}
}

// A confirmation with no terminal to ask it at reads as an instruction,
// not as the question glued to an error ("… stops working.: no terminal").
func TestConfirmWithoutATerminalSaysPassYes(t *testing.T) {
	w := newWorld(t)
	w.addMattermost("mm", "alice")
	r := w.run("", "account", "remove", "mm")
	w.want(r, ExitUsage, "account remove without --yes")
	mustContain(t, "account remove without --yes", r.err, "keyturn: pass --yes to confirm (there is no terminal to ask: Remove account mm and delete its credential?)")
}

// A second signal at a prompt (the first came while a request was on its
// way, as when Ctrl-C hits an MFA replacement and keyturn then shows the
// new secret and asks for a code) quits at once, but still puts the
// terminal back and says what the prompt was for.
func TestSecondSignalAtAPromptSaysWhatItWasFor(t *testing.T) {
	var errw bytes.Buffer
	restored, exited := false, -1
	app := newApp(IO{Err: &errw, SaveTerminal: func() func() { return func() { restored = true } }})
	app.sig = &interrupts{app: app, cancel: func() {}, exit: func(code int) { exited = code }}
	app.sig.handle(os.Interrupt) // while the request was on its way
	_, _ = app.atPrompt("MFA is not active yet; run 'keyturn mfa activate mm --code CODE'", func() (string, error) {
		app.sig.handle(os.Interrupt)
		return "", nil
	})
	if exited != ExitInterrupted || !restored {
		t.Fatalf("exit %d, terminal restored %v", exited, restored)
	}
	mustContain(t, "stderr", errw.String(), "keyturn: quitting at once", "keyturn: MFA is not active yet; run 'keyturn mfa activate mm --code CODE'")
}

// A refused sign-in says so in keyturn's words, the server's error id on
// a line of its own (issue 16, item 6).
func TestRefusedSignInSaysWordsThenServersId(t *testing.T) {
	w := newWorld(t)
	w.addMattermost("mm", "admin")
	r := w.run("wrong\n", "login", "mm", "--password-stdin")
	w.want(r, ExitFailure, "wrong password")
	lines := strings.Split(strings.TrimSpace(r.err), "\n")
	if len(lines) != 2 || !strings.Contains(lines[0], "The server did not accept the user name or password") ||
		strings.Contains(lines[0], "api.user.login") || !strings.Contains(lines[1], "api.user.login.invalid_credentials_email_username") {
		t.Fatalf("stderr %q: want keyturn's words, then the server's id on the next line", r.err)
	}
}

// The demo's footer, passwords and the codes due now, takes at most two
// lines at 80 columns: at 80×24 a third of the screen went to it (issue
// 16, item 5).
func TestDemoFooterFitsTwoLinesAt80(t *testing.T) {
	d, err := startDemo(context.Background(), false)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	f := d.Footer()
	if !strings.Contains(f, "codes:") {
		t.Fatalf("no codes in %q", f)
	}
	if n := len(strings.Split(ansi.Wordwrap(f, 80, ""), "\n")); n > 2 {
		t.Fatalf("the footer takes %d lines at 80 columns:\n%s", n, ansi.Wordwrap(f, 80, ""))
	}
}

// 'keyturn account edit' fixes a typo in place: only the flags given
// change; a signed-in account is not moved behind its session (issue 16,
// item 6).
func TestAccountEditChangesOnlyTheFlagsGiven(t *testing.T) {
	w := newWorld(t)
	w.want(w.run("", "account", "add", "mm", "--service", "mattermost", "--url", "http://127.0.0.1:1", "--user", "admin"), ExitOK, "add")
	r := w.run("", "account", "edit", "mm", "--url", w.sb.MattermostURL)
	w.want(r, ExitOK, "edit --url")
	mustContain(t, "edit --url", r.out, "saved mm (Mattermost at "+w.sb.MattermostURL+", as admin)")
	r = w.run("", "account", "show", "mm", "--json")
	st := decodeJSON[account.Status](t, r.out)
	if st.URL != w.sb.MattermostURL || st.User != "admin" {
		t.Fatalf("after edit: %+v", st)
	}
	w.want(w.run("", "account", "edit", "mm"), ExitUsage, "edit with no flag")
	w.want(w.run("", "account", "edit", "mm", "--brand", "x"), ExitUsage, "a Capillary flag on Mattermost")
	w.want(w.run("", "account", "edit", "nobody", "--url", "https://x.example.com"), ExitFailure, "edit an unknown account")
}
