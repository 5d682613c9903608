package cli

import (
	"bytes"
	"context"
	"os/exec"
	"strings"
	"testing"

	"keyturn/config"
)

func TestEnvName(t *testing.T) {
	for in, want := range map[string]string{
		"work-mm/user-token/8xk3tq": "WORK_MM_USER_TOKEN_8XK3TQ",
		"chat/pat/deploy":           "CHAT_PAT_DEPLOY",
		"cap/session":               "CAP_SESSION",
		"1st/pat":                   "_1ST_PAT",
		"a.b@c:d":                   "A_B_C_D",
	} {
		if got := envName(in); got != want {
			t.Errorf("envName(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestExecPutsSecretsInTheChildsEnvironment(t *testing.T) {
	if _, err := exec.LookPath("sh"); err != nil {
		t.Skip("no sh")
	}
	t.Parallel()
	w := newWorld(t)
	const value = "exec-test-token-0123456789abcd"
	const other = "exec-test-other-9876543210zyxw"
	ctx := context.Background()
	for name, v := range map[string]string{"work/pat/deploy": value, "cap/session": other} {
		if err := w.store.Set(ctx, name, v); err != nil {
			t.Fatal(err)
		}
	}
	// Index entries too, as `secret set` would write them.
	if err := config.Open(w.cfg).Update(func(c *config.Config) error {
		c.PutSecret(config.SecretMeta{Name: "work/pat/deploy", Account: "work", Kind: "pat"})
		c.PutSecret(config.SecretMeta{Name: "cap/session", Account: "cap", Kind: "session"})
		return nil
	}); err != nil {
		t.Fatal(err)
	}

	// Default names, an explicit name, stdin passed through, the child's
	// exit code passed back.
	r := w.run("from stdin\n", "exec", "work/pat/deploy", "cap/session=CAP_TOKEN", "--", "sh", "-c",
		`test "$WORK_PAT_DEPLOY" = "`+value+`" && test "$CAP_TOKEN" = "`+other+`" && read line && echo "ok $line" && echo err >&2 && exit 7`)
	if r.code != 7 || r.out != "ok from stdin\n" || r.err != "err\n" {
		t.Fatalf("exec: exit %d, stdout %q, stderr %q", r.code, w.redact(r.out), w.redact(r.err))
	}
	// The secret travels in the environment, not in the arguments.
	var out bytes.Buffer
	r = w.runIO(IO{In: strings.NewReader(""), Out: &out}, "exec", "work/pat/deploy=T", "--", "sh", "-c", `printf %s "$T"`)
	if r.code != 0 || out.String() != value {
		t.Fatalf("exec printf: exit %d", r.code)
	}

	w.want(w.run("", "exec", "work/pat/deploy", "--", "sh", "-c", "exit 0"), 0, "exit 0")
	r = w.run("", "exec", "nope/pat", "--", "true")
	w.want(r, 1, "unknown secret")
	mustContain(t, "unknown secret", r.err, "nope/pat", "not in the")
	w.want(w.run("", "exec", "work/pat/deploy", "sh"), 2, "no --")
	w.want(w.run("", "exec", "--", "sh"), 2, "no secret")
	w.want(w.run("", "exec", "work/pat/deploy", "--"), 2, "no command")
	w.want(w.run("", "exec", "work/pat/deploy=1BAD", "--", "true"), 2, "bad variable name")
	w.want(w.run("", "exec", "work/pat/deploy=X", "cap/session=X", "--", "true"), 2, "two secrets in one variable")
	r = w.run("", "exec", "work/pat/deploy", "--", "keyturn-no-such-command")
	w.want(r, 1, "no such command")
	r = w.run("", "exec", "--help")
	mustContain(t, "exec --help", r.out, "WORK_MM_USER_TOKEN_8XK3TQ", "No prefix")
}

// TestExecChildEnvironmentHasNoKeyturnVariables runs a real child that dumps
// its environment: it gets the parent's variables and the secret it asked
// for, but none of keyturn's own (the file store's passphrase among them).
// Not parallel: it sets the process environment the child inherits.
func TestExecChildEnvironmentHasNoKeyturnVariables(t *testing.T) {
	envBin, err := exec.LookPath("env")
	if err != nil {
		t.Skip("no env")
	}
	w := newWorld(t)
	const value = "exec-env-token-0123456789abcdef"
	const passphrase = "exec-env-passphrase-must-not-leak"
	if err := w.store.Set(context.Background(), "work/pat/deploy", value); err != nil {
		t.Fatal(err)
	}
	t.Setenv("KEYTURN_FILE_PASSPHRASE", passphrase)
	t.Setenv("KEYTURN_STORE", "file")
	t.Setenv("keyturn_lower", "x")
	t.Setenv("EXEC_TEST_KEEP", "kept")
	var out bytes.Buffer
	r := w.runIO(IO{In: strings.NewReader(""), Out: &out}, "exec", "work/pat/deploy=KEYTURN_ASKED", "--", envBin)
	if r.code != 0 {
		t.Fatalf("exec env: exit %d, stderr %q", r.code, r.err)
	}
	got := map[string]string{}
	for _, line := range strings.Split(out.String(), "\n") {
		if k, v, ok := strings.Cut(line, "="); ok {
			got[k] = v
		}
	}
	if strings.Contains(out.String(), passphrase) {
		t.Error("the child's environment holds KEYTURN_FILE_PASSPHRASE's value")
	}
	for k := range got {
		if strings.HasPrefix(strings.ToUpper(k), "KEYTURN_") && k != "KEYTURN_ASKED" {
			t.Errorf("the child got keyturn's own variable %s", k)
		}
	}
	if got["EXEC_TEST_KEEP"] != "kept" || got["PATH"] == "" {
		t.Errorf("the child lost the parent's ordinary variables: EXEC_TEST_KEEP=%q, PATH set: %v", got["EXEC_TEST_KEEP"], got["PATH"] != "")
	}
	if got["KEYTURN_ASKED"] != value {
		t.Error("the child did not get the secret it asked for in KEYTURN_ASKED")
	}
}
