package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"keyturn/account"
)

type loginOptions struct {
	name          string
	passwordStdin bool
	tokenStdin    bool
	userID        string
	firstFactor   string
	resend        bool
	restart       bool
	sf            secondFactorFlags
}

func newLoginCmd(app *App) *cobra.Command {
	var o loginOptions
	cmd := &cobra.Command{
		Use:   "login ACCOUNT",
		Short: "Sign in, answering the second factor the server asks for",
		Long: `Signs in to the account and keeps the credential in the store.

In a terminal, keyturn asks for the password with no echo, then for whatever
second factor the server wants: Mattermost's MFA code; Rocket.Chat's
authenticator code, emailed code (it says where it went) or password fallback;
Capillary's OTP or password first factor and its MFA OTP or MFA password.

Without a terminal, answers come from flags and stdin:
  --password-stdin   the password is the first line of stdin (Capillary: the MFA
                     password may follow on the second line)
  --code CODE        answers the second factor (for Rocket.Chat's password method
                     and Capillary's MFA password: the password itself)
  --method M         picks the method where the server offers several

When a code goes out by email or SMS and no --code was given, keyturn keeps the
waiting sign-in, says where the code went and exits 4; run the same command again
with --code CODE to finish it (no new code is asked for).

--token-stdin signs in with a token made elsewhere instead: a Mattermost personal
access token, or a Rocket.Chat personal access token with --user-id.

Exit codes: 0 signed in, 1 error, 2 usage, 3 signed in but the credential could
not be stored (it is printed on stdout), 4 a second factor is needed.`,
		Example: `  keyturn login work-mm
  printf '%s\n' "$PASSWORD" | keyturn login work-mm --password-stdin --code 123456
  printf '%s\n' "$PASSWORD" | keyturn login chat --password-stdin      # exits 4: code emailed
  printf '%s\n' "$PASSWORD" | keyturn login chat --password-stdin --code 424242
  keyturn login cap --first-factor otp                                 # exits 4: OTP sent
  keyturn login cap --first-factor otp --code 123456
  printf '%s\n' "$PAT" | keyturn login chat --token-stdin --user-id AbCdEf123`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return runLogin(cmd, app, &o)
		},
	}
	f := cmd.Flags()
	f.BoolVar(&o.passwordStdin, "password-stdin", false, "read the password from the first line of stdin (Capillary: the MFA password from the second)")
	o.sf.register(f, "code", "method")
	f.BoolVar(&o.resend, "resend", false, "ask the server for a new emailed or SMS code")
	f.StringVar(&o.firstFactor, "first-factor", "", "Capillary: otp or password (default: password when the user has one)")
	f.BoolVar(&o.tokenStdin, "token-stdin", false, "sign in with a token read from stdin instead of a password")
	f.StringVar(&o.userID, "user-id", "", "Rocket.Chat: the user id that goes with --token-stdin")
	f.BoolVar(&o.restart, "restart", false, "forget a sign-in waiting for a code and start again")
	return cmd
}

func init() { register(newLoginCmd) }

func runLogin(cmd *cobra.Command, app *App, o *loginOptions) error {
	if err := o.sf.check(); err != nil {
		return err
	}
	switch o.firstFactor {
	case "", "otp", "password":
	default:
		return usageError{fmt.Errorf("--first-factor %q: use otp or password", o.firstFactor)}
	}
	if o.tokenStdin && (o.passwordStdin || o.sf.Code != "" || o.resend || o.firstFactor != "") {
		return usageError{errors.New("--token-stdin goes alone: no --password-stdin, --code, --resend or --first-factor")}
	}
	if o.userID != "" && !o.tokenStdin {
		return usageError{errors.New("--user-id goes with --token-stdin")}
	}
	if o.resend && o.sf.Code != "" {
		return usageError{errors.New("--resend asks for a new code: give --code on the next run")}
	}
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	st, err := app.accountStatus(ctx, m, o.name)
	if err != nil {
		return app.explain(ctx, err, "signing in", o.name)
	}
	if o.tokenStdin {
		token, err := app.atPrompt("", func() (string, error) { return readStdinLine(app.io.In, "the token") })
		if err != nil {
			return usageError{err}
		}
		got, err := m.LoginWithToken(ctx, o.name, token, o.userID)
		if err != nil {
			return app.loginFailed(ctx, err, o.name)
		}
		printSignedIn(app, got)
		return nil
	}
	if o.restart {
		if err := m.CancelPending(ctx, o.name); err != nil {
			return app.explain(ctx, err, "forgetting the waiting sign-in", o.name)
		}
	}

	req := account.LoginRequest{Account: o.name, FirstFactor: o.firstFactor}
	if o.passwordStdin {
		pw, err := app.atPrompt("", func() (string, error) { return readStdinLine(app.io.In, "the password") })
		if err != nil {
			return usageError{err}
		}
		req.Password = pw
		if account.Info(st.Service).SignIn.MFAPassword {
			// The MFA password may follow on the second line.
			if line, err := app.atPrompt("", func() (string, error) { return readLine(app.io.In) }); err == nil {
				req.MFAPassword = strings.TrimRight(line, "\r")
			}
		}
	} else if needsPasswordFirst(st, o, app.io.InTerminal && app.io.ReadSecret != nil) {
		if !app.io.InTerminal || app.io.ReadSecret == nil {
			return exitf(ExitNeedCode, "signing in to %s needs the password: no terminal to ask at; give it on stdin with --password-stdin", app.accountLabel(ctx, o.name))
		}
		pw, err := app.atPrompt("", func() (string, error) {
			return app.io.ReadSecret(fmt.Sprintf("Password for %s at %s: ", st.User, st.URL))
		})
		if err != nil {
			return exitf(ExitFailure, "reading the password: %v", err)
		}
		if pw == "" {
			return exitf(ExitFailure, "no password given")
		}
		req.Password = pw
	}

	// --code - reads the code from stdin, after the password line(s).
	if o.sf.Code, err = readCode(app, "--code", o.sf.Code); err != nil {
		return err
	}

	rerun := "keyturn login " + o.name
	if o.passwordStdin {
		rerun += " --password-stdin"
	}
	if o.firstFactor != "" {
		rerun += " --first-factor " + o.firstFactor
	}
	an := &answerer{app: app, flags: o.sf, codeFlag: "--code", methodFlag: "--method", rerun: rerun, resend: true}
	first := true
	var got *account.Status
	err = an.run(ctx, func(ans *account.Answer) error {
		r := req
		r.Answer = ans
		r.Resend = first && o.resend
		first = false
		var err error
		got, err = m.Login(ctx, r)
		return err
	})
	if err != nil {
		return app.loginFailed(ctx, err, o.name)
	}
	printSignedIn(app, got)
	return nil
}

// needsPasswordFirst says whether to prompt for the password before the
// first call: always for Mattermost and Rocket.Chat (except a bare
// --resend); for Capillary never, since its steps ask as they go.
func needsPasswordFirst(st *account.Status, o *loginOptions, interactive bool) bool {
	form := account.Info(st.Service).SignIn
	switch {
	case form.PasswordOptional:
		return false
	case form.ResendWithoutPassword:
		// A bare --resend needs no password; at a terminal the code that
		// follows does (Rocket.Chat's login takes both at once).
		return !o.resend || o.sf.Code != "" || interactive
	}
	return true
}

func (app *App) loginFailed(ctx context.Context, err error, name string) error {
	var nse *account.NotStoredError
	if errors.As(err, &nse) {
		return reportNotStored(app, nse, false)
	}
	return app.explain(ctx, err, "signing in", name)
}

func printSignedIn(app *App, st *account.Status) {
	if st == nil {
		return
	}
	w := app.io.Out
	fmt.Fprintf(w, "signed in to %s (%s at %s", st.Name, account.ServiceName(st.Service), st.URL)
	if st.User != "" {
		fmt.Fprintf(w, " as %s", st.User)
	}
	fmt.Fprintf(w, "); credential in %s", storeName(st.Store))
	if st.Expires != nil {
		fmt.Fprintf(w, "; session expires %s", when(st.Expires, time.Now()))
	}
	fmt.Fprintln(w)
	if st.Problem != "" {
		fmt.Fprintf(app.io.Err, "keyturn: %s\n", st.Problem)
	}
}

// readStdinLine reads the first line of stdin for --password-stdin and
// --token-stdin.
func readStdinLine(r io.Reader, what string) (string, error) {
	if r == nil {
		return "", fmt.Errorf("no stdin to read %s from", what)
	}
	line, err := readLine(r)
	if err != nil && line == "" {
		return "", fmt.Errorf("reading %s from stdin: nothing there", what)
	}
	line = strings.TrimRight(line, "\r")
	if strings.TrimSpace(line) == "" {
		return "", fmt.Errorf("reading %s from stdin: the first line is empty", what)
	}
	return line, nil
}
