package cli

import (
	"bytes"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/creack/pty"
)

// `keyturn man` writes a man page of the whole command tree to the
// command's stdout (not the process's), with the exit codes.
func TestManPageNamesEveryCommandAndExitCode(t *testing.T) {
	w := newWorld(t)
	r := w.run("", "man")
	if r.code != ExitOK || r.err != "" {
		t.Fatalf("man: exit %d, stderr %q", r.code, r.err)
	}
	mustContain(t, "man page", r.out, ".TH KEYTURN 1", "keyturn signs in to Mattermost",
		"EXIT STATUS", "a token was issued but could not be stored")
	for _, c := range newRootCmd(newApp(IO{})).Commands() {
		if !c.Hidden {
			mustContain(t, "man page", r.out, c.Name())
		}
	}
	mustContain(t, "man page", r.out, `\fBrotate\fP ACCOUNT (REF | --all)`, `\fB--resume\fP`, `\fB--store-file\fP`, `\fB--config\fP`)
	if r := w.run("", "man", "extra"); r.code != ExitUsage {
		t.Errorf("man extra: exit %d, want %d", r.code, ExitUsage)
	}
}

// The built binary: plain help on a terminal; completion scripts for bash
// (which complete), zsh and fish; errors plain on stderr with their exit
// codes, also on a terminal.
func TestBinaryHelpCompletionAndErrors(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	dir := t.TempDir()
	bin := buildKeyturn(t, dir)
	env := append(os.Environ(), "KEYTURN_CONFIG="+filepath.Join(dir, "config.json"), "KEYTURN_STORE=memory", "TERM=xterm-256color")
	env = withoutEnv(env, "NO_COLOR", "CLICOLOR_FORCE", "TTY_FORCE", "COLORTERM")
	esc := regexp.MustCompile("\x1b")

	// Help writes nothing but text on a terminal (no styling, no query
	// of the terminal: see newRootCmd), NO_COLOR or not.
	t.Run("help on a terminal is plain text", func(t *testing.T) {
		for _, nc := range []string{"", "NO_COLOR=1"} {
			for _, args := range [][]string{{"--help"}, {"token", "--help"}, {"help", "token", "rotate"}} {
				out, code := runOnPTY(t, bin, append(env, nc), args...)
				if code != 0 || esc.MatchString(out) {
					t.Fatalf("%s keyturn %v: exit %d, %q", nc, args, code, out)
				}
				mustContain(t, strings.Join(args, " "), out, "keyturn", "--config")
			}
		}
	})
	t.Run("errors go to stderr with their exit code", func(t *testing.T) {
		cases := []struct {
			args []string
			code int
			err  string
		}{
			{[]string{"token", "rotate", "mm", "--bogus"}, ExitUsage, "keyturn: unknown flag: --bogus\n"},
			{[]string{"nosuch"}, ExitUsage, "keyturn: unknown command \"nosuch\" for \"keyturn\"\n"},
			{[]string{"account", "show", "nobody"}, ExitFailure, "keyturn: "},
		}
		for _, c := range cases {
			cmd := exec.Command(bin, c.args...)
			cmd.Env = env
			var out, errb bytes.Buffer
			cmd.Stdout, cmd.Stderr = &out, &errb
			err := cmd.Run()
			var ee *exec.ExitError
			if code := 0; errors.As(err, &ee) {
				code = ee.ExitCode()
				if code != c.code {
					t.Errorf("keyturn %v: exit %d, want %d (stderr %q)", c.args, code, c.code, errb.String())
				}
			} else {
				t.Errorf("keyturn %v: %v, want exit %d", c.args, err, c.code)
			}
			if out.Len() != 0 || !strings.HasPrefix(errb.String(), c.err) {
				t.Errorf("keyturn %v: stdout %q, stderr %q, want stderr starting %q", c.args, out.String(), errb.String(), c.err)
			}
			// On a terminal: the same words, unstyled.
			tout, tcode := runOnPTY(t, bin, env, c.args...)
			if tcode != c.code || esc.MatchString(tout) || !strings.Contains(tout, strings.TrimSuffix(c.err, "\n")) {
				t.Errorf("keyturn %v on a terminal: exit %d, %q", c.args, tcode, tout)
			}
		}
	})
	t.Run("completion", func(t *testing.T) {
		for shell, want := range map[string]string{"bash": "__start_keyturn", "zsh": "#compdef keyturn", "fish": "complete -c keyturn"} {
			cmd := exec.Command(bin, "completion", shell)
			cmd.Env = env
			out, err := cmd.Output()
			if err != nil || !strings.Contains(string(out), want) {
				t.Errorf("completion %s: %v, output lacks %q", shell, err, want)
			}
		}
		if _, err := exec.LookPath("bash"); err != nil {
			t.Skip("no bash")
		}
		// bash completes command names and subcommands through the script.
		script := filepath.Join(dir, "keyturn.bash")
		cmd := exec.Command(bin, "completion", "bash")
		cmd.Env = env
		out, err := cmd.Output()
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(script, out, 0o600); err != nil {
			t.Fatal(err)
		}
		complete := func(line string) []string {
			words := strings.Fields(line)
			if strings.HasSuffix(line, " ") {
				words = append(words, "")
			}
			// The script leans on the bash-completion package for this
			// one function; a stand-in keeps the test off that package.
			shim := `_get_comp_words_by_ref() { cur=${COMP_WORDS[COMP_CWORD]}; prev=${COMP_WORDS[COMP_CWORD-1]}; words=("${COMP_WORDS[@]}"); cword=$COMP_CWORD; }; compopt() { :; }; `
			sh := shim + `source "$1"; shift; COMP_WORDS=("$@"); COMP_CWORD=$(($# - 1)); COMP_LINE="$*"; COMP_POINT=${#COMP_LINE}; __start_keyturn; printf '%s\n' "${COMPREPLY[@]}"`
			c := exec.Command("bash", append([]string{"--norc", "--noprofile", "-c", sh, "bash", script}, words...)...)
			c.Env = append(withoutEnv(env, "PATH"), "PATH="+dir+string(os.PathListSeparator)+os.Getenv("PATH"))
			got, err := c.CombinedOutput()
			if err != nil {
				t.Fatalf("bash completion of %q: %v\n%s", line, err, got)
			}
			return strings.Fields(string(got))
		}
		if got := complete("keyturn tok"); strings.Join(got, " ") != "token" {
			t.Errorf("keyturn tok<TAB>: %q, want [token]", got)
		}
		if got := complete("keyturn token r"); strings.Join(got, " ") != "revoke rotate" {
			t.Errorf("keyturn token r<TAB>: %q, want [revoke rotate]", got)
		}
		if got := complete("keyturn token rotate --resu"); strings.Join(got, " ") != "--resume" {
			t.Errorf("keyturn token rotate --resu<TAB>: %q, want [--resume]", got)
		}
	})
}

// runOnPTY runs bin on a terminal of 100x40 and returns all it wrote
// (stdout and stderr together) and its exit code.
func runOnPTY(t *testing.T, bin string, env []string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Env = env
	f, err := pty.StartWithSize(cmd, &pty.Winsize{Rows: 40, Cols: 100})
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var out bytes.Buffer
	_, _ = io.Copy(&out, f) // ends with EIO once the child is gone
	err = cmd.Wait()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return out.String(), ee.ExitCode()
	}
	if err != nil {
		t.Fatal(err)
	}
	return out.String(), 0
}

// withoutEnv is env without the named variables.
func withoutEnv(env []string, names ...string) []string {
	var out []string
next:
	for _, kv := range env {
		for _, n := range names {
			if strings.HasPrefix(kv, n+"=") {
				continue next
			}
		}
		out = append(out, kv)
	}
	return out
}
