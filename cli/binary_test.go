package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"keyturn/sandbox/simnet"
)

// TestBinaryScriptedSession builds keyturn, runs `keyturn sandbox` in the
// background and drives a whole session through the binary with the file
// store: no password, code or token ever goes in a process argument.
func TestBinaryScriptedSession(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if runtime.GOOS == "windows" {
		t.Skip("uses sh")
	}
	dir := t.TempDir()
	bin := buildKeyturn(t, dir)

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	sb := exec.CommandContext(ctx, bin, "sandbox")
	sb.Cancel = func() error { return sb.Process.Signal(os.Interrupt) }
	stdout, err := sb.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	var sbErr bytes.Buffer
	sb.Stderr = &sbErr
	if err := sb.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() {
		_ = sb.Process.Signal(os.Interrupt)
		_ = sb.Wait()
	}()
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("keyturn sandbox printed no line: %v (%s)", err, sbErr.String())
	}
	var info struct {
		Mattermost struct {
			URL   string `json:"url"`
			Seeds struct {
				Users []struct {
					Username   string `json:"username"`
					Password   string `json:"password"`
					TOTPSecret string `json:"totp_secret"`
				} `json:"users"`
			} `json:"seeds"`
		} `json:"mattermost"`
	}
	if err := json.Unmarshal([]byte(line), &info); err != nil {
		t.Fatalf("sandbox line is not JSON: %v", err)
	}
	var adminPW, adminTOTP, alicePW string
	for _, u := range info.Mattermost.Seeds.Users {
		switch u.Username {
		case "admin":
			adminPW, adminTOTP = u.Password, u.TOTPSecret
		case "alice":
			alicePW = u.Password
		}
	}
	if info.Mattermost.URL == "" || adminPW == "" || adminTOTP == "" || alicePW == "" {
		t.Fatal("the sandbox line lacks the Mattermost URL or the seeded users")
	}
	secrets := []string{adminPW, alicePW}

	env := append(os.Environ(),
		"KEYTURN_CONFIG="+filepath.Join(dir, "config.json"),
		"KEYTURN_STORE=file",
		"KEYTURN_STORE_FILE="+filepath.Join(dir, "secrets.enc"),
		"KEYTURN_FILE_PASSPHRASE=binary test passphrase",
		"NO_COLOR=1",
	)
	type res struct {
		code     int
		out, err string
	}
	run := func(stdin string, args ...string) res {
		t.Helper()
		c := exec.CommandContext(ctx, bin, args...)
		c.Env = env
		c.Stdin = strings.NewReader(stdin)
		var o, e bytes.Buffer
		c.Stdout, c.Stderr = &o, &e
		err := c.Run()
		code := 0
		if xe, ok := err.(*exec.ExitError); ok {
			code = xe.ExitCode()
		} else if err != nil {
			t.Fatalf("keyturn %s: %v", args[0], err)
		}
		for _, s := range secrets {
			if strings.Contains(e.String(), s) {
				t.Errorf("keyturn %s: a secret on stderr", strings.Join(args, " "))
			}
		}
		return res{code, o.String(), e.String()}
	}
	redact := func(s string) string {
		for _, sec := range secrets {
			s = strings.ReplaceAll(s, sec, "[secret]")
		}
		return s
	}
	want := func(r res, code int, what string) {
		t.Helper()
		if r.code != code {
			t.Fatalf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", what, r.code, code, redact(r.out), redact(r.err))
		}
	}
	url := info.Mattermost.URL

	want(run("", "account", "add", "mm", "--service", "mattermost", "--url", url, "--user", "admin"), 0, "account add")
	want(run("", "account", "add", "mm-alice", "--service", "mattermost", "--url", url, "--user", "alice"), 0, "account add alice")
	// Password on stdin's first line, the TOTP code on the next (--code -).
	code := simnet.TOTPCode(adminTOTP, time.Now())
	want(run(adminPW+"\n", "login", "mm", "--password-stdin"), 4, "login without a code")
	want(run(adminPW+"\n"+code+"\n", "login", "mm", "--password-stdin", "--code", "-"), 0, "login")
	want(run(alicePW+"\n", "login", "mm-alice", "--password-stdin"), 0, "login alice")

	r := run("", "mfa", "setup", "mm-alice", "--json")
	want(r, 0, "mfa setup")
	var setup struct {
		Secret string `json:"secret"`
		URL    string `json:"otpauth_url"`
	}
	if err := json.Unmarshal([]byte(r.out), &setup); err != nil || setup.Secret == "" {
		t.Fatalf("mfa setup --json: %v", err)
	}
	secrets = append(secrets, setup.Secret)
	want(run(simnet.TOTPCode(setup.Secret, time.Now())+"\n", "mfa", "activate", "mm-alice", "--code", "-"), 0, "mfa activate")

	r = run("", "token", "create", "mm", "ci-bot", "--json")
	want(r, 0, "token create")
	var created struct{ Name, Ref string }
	_ = json.Unmarshal([]byte(r.out), &created)
	r = run("", "token", "rotate", "mm", created.Ref, "--json", "--reveal")
	want(r, 0, "token rotate")
	var rotated struct {
		Name, Ref, Token string
		Stored           bool
	}
	_ = json.Unmarshal([]byte(r.out), &rotated)
	// The sandbox answers as Mattermost 11.10: the token rotates in place.
	if !rotated.Stored || rotated.Token == "" || rotated.Ref != created.Ref {
		t.Fatalf("rotate: stored %v, token given %v, same ref %v", rotated.Stored, rotated.Token != "", rotated.Ref == created.Ref)
	}
	secrets = append(secrets, rotated.Token)

	r = run("", "secret", "get", rotated.Name)
	want(r, 0, "secret get")
	if r.out != rotated.Token {
		t.Fatal("secret get does not print the rotated token alone")
	}
	// exec: the child compares its variable with what it reads on stdin.
	r = run(rotated.Token+"\n", "exec", rotated.Name+"=MM_TOKEN", "--", "sh", "-c", `read want; test "$MM_TOKEN" = "$want" && echo same`)
	want(r, 0, "exec")
	if r.out != "same\n" {
		t.Fatal("exec: the child did not get the token")
	}
	want(run("", "token", "revoke", "mm", rotated.Ref, "--yes"), 0, "token revoke")
	r = run("", "token", "list", "mm", "--kind", "user-token", "--json")
	want(r, 0, "token list")
	if strings.Contains(r.out, rotated.Ref) || strings.Contains(r.out, created.Ref) {
		t.Fatal("revoked tokens still listed")
	}
	want(run("", "secret", "get", rotated.Name), 1, "secret get after revoke")
	want(run("", "logout", "mm"), 0, "logout")
}

// buildKeyturn builds the keyturn binary into dir.
func buildKeyturn(t *testing.T, dir string) string {
	t.Helper()
	bin := filepath.Join(dir, "keyturn")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	return bin
}
