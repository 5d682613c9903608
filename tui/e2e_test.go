package tui

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"keyturn/sandbox"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/simnet"
)

// TestE2ETmux runs the built binary's `keyturn demo` in a real terminal
// (a tmux pane, 120×40) and drives it with send-keys / capture-pane:
// Mattermost sign-in with the MFA code read off the demo footer, MFA setup
// with the QR on screen, a slash-command token regenerated and saved, then
// all of the team's rotated at once; a
// Rocket.Chat PAT through a 2FA challenge; Capillary sign-in with an OTP
// and a regenerated session; q quits and the terminal is restored.
//
// Without tmux the test is skipped, unless KEYTURN_TEST_TMUX=1 (CI) makes
// that a failure. With -update it saves the screens the lead's note quotes
// to testdata/screens/.
func TestE2ETmux(t *testing.T) {
	tm := startTmux(t, "/dev/null", func(bin, dir string) string { return bin + " demo" })

	// The accounts list, with the demo footer.
	tm.waitFor("demo-mattermost", "demo-rocketchat", "demo-capillary", "codes:")
	tm.save("accounts")

	// Mattermost: password, then the MFA code from the footer.
	tm.keys("Enter")
	tm.waitFor("Password:")
	tm.text(tm.footer(`demo passwords: mattermost (\S+)`))
	tm.keys("Enter")
	tm.waitFor("Mattermost asks for a code from the authenticator app.")
	tm.save("challenge")
	loginCode := tm.footer(`mattermost admin TOTP (\d{6})`)
	tm.text(loginCode)
	tm.keys("Enter")
	tm.waitFor("● Signed in", "Slash commands · team ops")

	// MFA setup: it is active, so replace it on purpose; the QR is drawn.
	tm.keys("m")
	tm.waitFor("Replace the secret?")
	tm.keys("y")
	tm.waitFor("Code from the app:", "██████████", "c copies the secret")
	tm.save("mfa-setup")
	// Activate with the new secret's code (the sandbox takes each 30 s step
	// once, and the sign-in used this one: wait for the next if need be).
	time.Sleep(1500 * time.Millisecond) // the footer shows the new secret's code within a second
	totp := `mattermost admin TOTP(?: \(to activate MFA\))? (\d{6})`
	for attempt := 0; ; attempt++ {
		code := tm.footer(totp)
		if code == loginCode {
			code = tm.waitFooterChange(totp, loginCode)
		}
		tm.text(code)
		tm.waitFor("Code from the app: › " + code)
		tm.keys("Enter")
		s := tm.waitForAny("MFA is active on demo-mattermost", "Code from the app: › 6 digits")
		if strings.Contains(s, "MFA is active") {
			break
		}
		if attempt == 2 {
			t.Fatalf("MFA activation kept failing:\n%s", s)
		}
		loginCode = code
	}
	tm.keys("Enter")

	// Regenerate the /deploy slash command's token and see where it went.
	tm.cursorTo("/deploy")
	tm.keys("r")
	tm.waitFor("Rotate slash-command token?")
	tm.keys("y")
	tm.waitFor("New slash-command token", "Saved to the memory store")
	s := tm.waitGone("Listing tokens…")
	if !regexp.MustCompile(`demo-mattermost/command/\w+`).MatchString(s) {
		t.Fatalf("the result does not say where the token was saved:\n%s", s)
	}
	tm.save("token-result")
	tm.keys("Enter")

	// Rotate all the team's slash commands: confirm, progress, report.
	tm.waitGone("New slash-command token")
	tm.keys("R")
	tm.waitFor("Rotate all", "slash-command tokens?", "must get its new token")
	tm.keys("y")
	tm.waitFor("Rotated · Slash commands · team ops", "rotated · saved …")
	tm.save("rotate-all-report")
	tm.keys("Enter", "Escape")

	// Rocket.Chat: sign in, then a PAT through a 2FA challenge.
	tm.waitFor("● signed in")
	tm.keys("Down", "Enter")
	tm.waitFor("Sign in · demo-rocketchat", "Password:")
	tm.text(tm.footer(`rocketchat (\S+)`))
	tm.keys("Enter")
	tm.waitFor("Rocket.Chat asks for a code from the authenticator app.")
	tm.text(tm.footer(`rocketchat alice TOTP (\d{6})`))
	tm.keys("Enter")
	tm.waitFor("● Signed in", "Personal access tokens")
	tm.keys("n")
	tm.waitFor("Name:")
	tm.text("e2e-pat")
	tm.keys("Enter")
	tm.waitFor("New token · demo-rocketchat", "Rocket.Chat asks for a code from the authenticator app.")
	tm.save("challenge-pat")
	tm.text(tm.footer(`rocketchat alice TOTP (\d{6})`))
	tm.keys("Enter")
	tm.waitFor("New personal access token", "Saved to the memory store", "demo-rocketchat/pat/e2e-pat")
	tm.keys("Enter", "Escape")

	// Capillary: a one-time code, the MFA one-time code, then regenerate.
	tm.waitFor("demo-capillary")
	tm.keys("Down", "Enter")
	tm.waitFor("Sign in · demo-capillary", "one-time code")
	tm.keys("Enter")
	tm.waitFor("Capillary asks for the one-time code (OTP).", "A code was sent to mobile")
	tm.text(tm.footer(`Capillary OTP for [^·]*?\) (\d{6})`))
	tm.keys("Enter")
	tm.waitFor("Capillary asks for the MFA")
	tm.text(tm.footer(`Capillary MFA OTP for [^·]*?\) (\d{6})`))
	tm.keys("Enter")
	tm.waitFor("● Signed in with a key", "Session", "expires in")
	tm.keys("r")
	tm.waitFor("Rotate session token?")
	tm.keys("y")
	tm.waitFor("New session token", "Saved to the memory store", "demo-capillary/session")
	tm.keys("Enter")
	tm.waitGone("Listing tokens…")
	tm.save("capillary-session")
	tm.keys("Escape")
	tm.waitFor("session", "left")

	// q quits, and the shell gets its terminal back.
	tm.keys("q")
	tm.waitFor("KEYTURN-EXIT=0")
	if got := strings.TrimSpace(tm.run("display-message", "-p", "-t", "e2e", "#{alternate_on} #{cursor_flag} #{mouse_any_flag}")); got != "0 1 0" {
		t.Fatalf("terminal not restored: alternate_on cursor_flag mouse_any_flag = %q", got)
	}
	tm.lacks("Accounts", "demo-mattermost")
}

// tmuxOrSkip is tmux's path; without tmux the test is skipped, unless
// KEYTURN_TEST_TMUX=1 (CI) makes that a failure.
func tmuxOrSkip(t *testing.T) string {
	t.Helper()
	tmuxPath, err := exec.LookPath("tmux")
	if err != nil {
		if os.Getenv("KEYTURN_TEST_TMUX") == "1" {
			t.Fatal("KEYTURN_TEST_TMUX=1 but tmux is not installed: install it (apt-get install tmux) to run the end-to-end terminal test")
		}
		t.Skip("tmux is not installed: skipping the end-to-end terminal test (KEYTURN_TEST_TMUX=1 makes this a failure)")
	}
	if testing.Short() && os.Getenv("KEYTURN_TEST_TMUX") != "1" {
		t.Skip("-short: skipping the end-to-end terminal test")
	}
	return tmuxPath
}

// buildKeyturn builds the keyturn binary into dir.
func buildKeyturn(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "keyturn")
	build := exec.Command("go", "build", "-o", bin, "keyturn")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}

// adminAccount starts a sandbox and adds its Mattermost admin as account
// "mm" to a new config in dir, through the built binary bin.
func adminAccount(t *testing.T, bin, dir string) (*sandbox.Sandbox, string) {
	t.Helper()
	sb, err := sandbox.Start(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	cfg := filepath.Join(dir, "config.json")
	add := exec.Command(bin, "account", "add", "mm", "--service", "mattermost", "--url", sb.MattermostURL, "--user", mattermostsim.AdminUsername)
	add.Env = append(add.Environ(), "KEYTURN_CONFIG="+cfg)
	if out, err := add.CombinedOutput(); err != nil {
		t.Fatalf("account add: %v\n%s", err, out)
	}
	return sb, cfg
}

// signInAdmin signs in to account mm, selected on the accounts list, as the
// sandbox's Mattermost admin: password, then the authenticator code.
func (tm *tmux) signInAdmin(sb *sandbox.Sandbox) {
	tm.keys("Enter")
	tm.waitFor("Sign in · mm", "Password:")
	tm.text(mattermostsim.AdminPassword)
	tm.keys("Enter")
	tm.waitFor("Mattermost asks for a code from the authenticator app.")
	tm.text(simnet.TOTPCode(mattermostsim.AdminTOTPSecret, sb.Env.Clock.Now()))
	tm.keys("Enter")
}

// startTmux builds keyturn and runs the shell command that command makes
// of its path (and a temporary directory) in a tmux pane (120×40) of a
// private tmux server started with the config file conf.
func startTmux(t *testing.T, conf string, command func(bin, dir string) string) *tmux {
	t.Helper()
	tmuxPath := tmuxOrSkip(t)
	dir := t.TempDir()
	bin := buildKeyturn(t, dir)
	tm := &tmux{t: t, path: tmuxPath, sock: filepath.Join(dir, "tmux.sock")}
	t.Cleanup(tm.kill)
	// A private tmux server with no user config; the app gets its own
	// config path so nothing of the person's is read, and the shell says
	// how keyturn exited once it has.
	tm.run("-f", conf, "new-session", "-d", "-s", "e2e", "-x", "120", "-y", "40",
		"-e", "KEYTURN_CONFIG="+filepath.Join(dir, "config.json"), "-e", "TERM=xterm-256color",
		"sh", "-c", command(bin, dir)+"; echo KEYTURN-EXIT=$?; sleep 600")
	return tm
}

// tmux drives one pane of a private tmux server.
type tmux struct {
	t    *testing.T
	path string
	sock string
	last string
}

func (m *tmux) run(args ...string) string {
	m.t.Helper()
	out, err := exec.Command(m.path, append([]string{"-S", m.sock}, args...)...).CombinedOutput()
	if err != nil {
		m.t.Fatalf("tmux %s: %v\n%s", strings.Join(args, " "), err, out)
	}
	return string(out)
}

func (m *tmux) kill() {
	_ = exec.Command(m.path, "-S", m.sock, "kill-server").Run()
}

func (m *tmux) capture() string {
	m.t.Helper()
	m.last = m.run("capture-pane", "-p", "-t", "e2e")
	return m.last
}

// keys sends named keys (Enter, Escape, Down, or single characters).
func (m *tmux) keys(keys ...string) {
	m.t.Helper()
	for _, k := range keys {
		m.run("send-keys", "-t", "e2e", k)
		time.Sleep(80 * time.Millisecond)
	}
}

// text types literally.
func (m *tmux) text(s string) {
	m.t.Helper()
	m.run("send-keys", "-t", "e2e", "-l", s)
	time.Sleep(80 * time.Millisecond)
}

// flat is a capture as one line of words, so wrapped text still matches.
func flatten(s string) string {
	s = strings.NewReplacer("│", " ", "╭", " ", "╮", " ", "╰", " ", "╯", " ", "─", " ").Replace(s)
	return strings.Join(strings.Fields(s), " ")
}

func (m *tmux) has(s string, want ...string) bool {
	f := flatten(s)
	for _, w := range want {
		if !strings.Contains(s, w) && !strings.Contains(f, strings.Join(strings.Fields(w), " ")) {
			return false
		}
	}
	return true
}

// waitFor waits until the pane shows every string, and returns it.
func (m *tmux) waitFor(want ...string) string {
	m.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := m.capture()
		if m.has(s, want...) {
			return s
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("the pane never showed %q:\n%s", want, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitForAny waits until the pane shows one of the strings.
func (m *tmux) waitForAny(want ...string) string {
	m.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := m.capture()
		for _, w := range want {
			if m.has(s, w) {
				return s
			}
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("the pane never showed any of %q:\n%s", want, s)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// waitGone waits until the pane no longer shows s, and returns it.
func (m *tmux) waitGone(s string) string {
	m.t.Helper()
	deadline := time.Now().Add(15 * time.Second)
	for {
		c := m.capture()
		if !strings.Contains(c, s) {
			return c
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("the pane kept showing %q:\n%s", s, c)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (m *tmux) lacks(bad ...string) {
	m.t.Helper()
	s := m.capture()
	for _, b := range bad {
		if strings.Contains(s, b) {
			m.t.Fatalf("the pane still shows %q:\n%s", b, s)
		}
	}
}

// footer reads a value off the demo footer (the passwords and codes line,
// however it wraps).
func (m *tmux) footer(pattern string) string {
	m.t.Helper()
	re := regexp.MustCompile(pattern)
	deadline := time.Now().Add(15 * time.Second)
	for {
		s := m.capture()
		lines := strings.Split(strings.TrimRight(s, "\n "), "\n")
		start := 0
		for i, l := range lines {
			if strings.HasPrefix(l, "demo passwords:") {
				start = i
			}
		}
		if g := re.FindStringSubmatch(strings.Join(strings.Fields(strings.Join(lines[start:], " ")), " ")); g != nil {
			return g[1]
		}
		if time.Now().After(deadline) {
			m.t.Fatalf("the demo footer has no %s:\n%s", pattern, s)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

// waitFooterChange waits for a footer code other than old (the next TOTP step).
func (m *tmux) waitFooterChange(pattern, old string) string {
	m.t.Helper()
	deadline := time.Now().Add(40 * time.Second)
	for time.Now().Before(deadline) {
		if c := m.footer(pattern); c != old {
			return c
		}
		time.Sleep(500 * time.Millisecond)
	}
	m.t.Fatalf("the footer code %s did not change", pattern)
	return ""
}

// cursorTo moves the selection down to the row containing s.
func (m *tmux) cursorTo(s string) {
	m.t.Helper()
	for i := 0; i < 20; i++ {
		for _, l := range strings.Split(m.capture(), "\n") {
			if strings.HasPrefix(strings.TrimSpace(l), "›") && strings.Contains(l, s) {
				return
			}
		}
		m.keys("Down")
	}
	m.t.Fatalf("no row with %q:\n%s", s, m.last)
}

// save writes the current pane to testdata/screens/<name>.txt with -update.
func (m *tmux) save(name string) {
	m.t.Helper()
	if !*update {
		return
	}
	s := m.capture()
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		lines[i] = strings.TrimRight(l, " ")
	}
	if err := os.MkdirAll(filepath.Join("testdata", "screens"), 0o755); err != nil {
		m.t.Fatal(err)
	}
	path := filepath.Join("testdata", "screens", name+".txt")
	if err := os.WriteFile(path, []byte(strings.TrimRight(strings.Join(lines, "\n"), "\n")+"\n"), 0o644); err != nil {
		m.t.Fatal(err)
	}
	fmt.Fprintf(os.Stderr, "saved %s\n", path)
}
