package cli

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strings"
	"syscall"

	"github.com/spf13/cobra"

	"keyturn/account"
	"keyturn/keystore"
)

type execOptions struct {
	secrets []execSecret
	command []string
}

// execSecret is one SECRET[=ENV] argument.
type execSecret struct {
	name string // the secret's name in the store
	env  string // the variable the child gets it in
}

func init() { register(newExecCmd) }

func newExecCmd(app *App) *cobra.Command {
	var o execOptions
	cmd := &cobra.Command{
		Use:   "exec SECRET[=ENV]... -- COMMAND [ARG...]",
		Short: "Run a command with secrets in its environment",
		Long: `Runs COMMAND with each SECRET from the store in its environment, so a token
never touches a shell history, a file or a process argument. COMMAND's stdin,
stdout and stderr are keyturn's, and keyturn exits with COMMAND's exit code.
COMMAND gets keyturn's environment without keyturn's own KEYTURN_* variables
(such as the file store's passphrase), plus the secrets it names.

Each secret goes into the variable ENV when given (SECRET=ENV). Otherwise the
variable's name comes from the secret's name: letters upper-cased, every other
character but digits turned into '_', and a leading '_' added when it would
start with a digit. No prefix is added:
  work-mm/user-token/8xk3tq   →  WORK_MM_USER_TOKEN_8XK3TQ
  chat/pat/deploy             →  CHAT_PAT_DEPLOY
  cap/session                 →  CAP_SESSION`,
		Example: `  keyturn exec chat/pat/deploy=RC_TOKEN -- ./deploy.sh
  keyturn exec cap/session -- sh -c 'curl -H "Authorization: $CAP_SESSION" https://…'`,
		Args: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			if dash < 0 {
				return usageError{errors.New("put -- before the command: keyturn exec SECRET[=ENV]... -- COMMAND [ARG...]")}
			}
			if dash == 0 {
				return usageError{errors.New("name at least one secret before --")}
			}
			if dash == len(args) {
				return usageError{errors.New("give the command to run after --")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			dash := cmd.ArgsLenAtDash()
			seen := map[string]string{}
			for _, a := range args[:dash] {
				s, err := parseExecSecret(a)
				if err != nil {
					return usageError{err}
				}
				if prev, ok := seen[s.env]; ok {
					return usageError{fmt.Errorf("%s and %s both go into $%s: name the variable with SECRET=ENV", prev, s.name, s.env)}
				}
				seen[s.env] = s.name
				o.secrets = append(o.secrets, s)
			}
			o.command = args[dash:]
			return runExec(cmd, app, &o)
		},
	}
	return cmd
}

func parseExecSecret(arg string) (execSecret, error) {
	name, env, hasEnv := strings.Cut(arg, "=")
	if err := validSecretName(name); err != nil {
		return execSecret{}, err
	}
	if !hasEnv {
		return execSecret{name: name, env: envName(name)}, nil
	}
	if !validEnvName(env) {
		return execSecret{}, fmt.Errorf("%q: the variable name must be letters, digits and '_', not starting with a digit", arg)
	}
	return execSecret{name: name, env: env}, nil
}

// envName derives a variable name from a secret's name (see exec --help).
func envName(secret string) string {
	var b strings.Builder
	for _, r := range strings.ToUpper(secret) {
		if (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9') {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	s := b.String()
	if s != "" && s[0] >= '0' && s[0] <= '9' {
		s = "_" + s
	}
	return s
}

func validEnvName(s string) bool {
	if s == "" || (s[0] >= '0' && s[0] <= '9') {
		return false
	}
	for _, r := range s {
		if !(r == '_' || (r >= 'a' && r <= 'z') || (r >= 'A' && r <= 'Z') || (r >= '0' && r <= '9')) {
			return false
		}
	}
	return true
}

// childEnv is the parent's environment without keyturn's own variables
// (KEYTURN_*, in any case, as Windows reads them): the file store's
// passphrase among them would open every stored secret to the child.
func childEnv(parent []string) []string {
	env := make([]string, 0, len(parent))
	for _, kv := range parent {
		if len(kv) >= len("KEYTURN_") && strings.EqualFold(kv[:len("KEYTURN_")], "KEYTURN_") {
			continue
		}
		env = append(env, kv)
	}
	return env
}

func runExec(cmd *cobra.Command, app *App, o *execOptions) error {
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	v := m.Vault()
	env := childEnv(os.Environ())
	for _, s := range o.secrets {
		value, err := m.ReadSecret(ctx, s.name, account.ActExec)
		if errors.Is(err, keystore.ErrNotFound) {
			return exitf(ExitFailure, "secret %s is not in the %s store; see 'keyturn secret list'", s.name, v.Backend())
		}
		if err != nil {
			return exitf(ExitFailure, "reading secret %s: %v", s.name, err)
		}
		env = append(env, s.env+"="+value)
	}
	path, err := exec.LookPath(o.command[0])
	if err != nil {
		return exitf(ExitFailure, "cannot run %s: %v", o.command[0], err)
	}
	child := exec.CommandContext(ctx, path, o.command[1:]...)
	child.Args[0] = o.command[0]
	child.Env = env
	child.Stdin, child.Stdout, child.Stderr = app.io.In, app.io.Out, app.io.Err
	// On Ctrl-C or SIGTERM the child gets an interrupt, not a kill, and
	// keyturn waits for it to finish.
	child.Cancel = func() error {
		if err := child.Process.Signal(os.Interrupt); err != nil {
			return child.Process.Kill()
		}
		return nil
	}
	err = child.Run()
	if err == nil {
		return nil
	}
	var xe *exec.ExitError
	if errors.As(err, &xe) {
		code := xe.ExitCode()
		if ws, ok := xe.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
			code = 128 + int(ws.Signal())
		}
		if code < 0 {
			code = ExitFailure
		}
		return &ExitError{Code: code}
	}
	return exitf(ExitFailure, "running %s: %v", o.command[0], err)
}
