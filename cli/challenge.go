package cli

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/pflag"

	"keyturn/account"
	"keyturn/client"
)

// maxWrongCodes is how many wrong answers a prompt takes before giving up.
const maxWrongCodes = 3

// secondFactorFlags are how a command answers a second-factor challenge
// without a prompt.
type secondFactorFlags struct {
	Code   string
	Method string
}

func (f *secondFactorFlags) register(fs *pflag.FlagSet, codeFlag, methodFlag string) {
	fs.StringVar(&f.Code, codeFlag, "", "answer the second factor with this code (for Rocket.Chat's password method or Capillary's MFA password: the password itself); - reads it from stdin")
	fs.StringVar(&f.Method, methodFlag, "", "second-factor method, where the server offers several: totp, email, password, otp")
}

// readCode replaces a code flag of "-" with the next line of stdin, so a
// script need not put the code in a process argument.
func readCode(app *App, flag, code string) (string, error) {
	if code != "-" {
		return code, nil
	}
	if app.io.In == nil {
		return "", usageError{fmt.Errorf("%s -: no stdin to read the code from", flag)}
	}
	line, _ := app.atPrompt("", func() (string, error) { return readLine(app.io.In) })
	line = strings.TrimSpace(line)
	if line == "" {
		return "", usageError{fmt.Errorf("%s -: no code on stdin", flag)}
	}
	return line, nil
}

// prepare checks the flags and reads a code given as "-" from stdin, once
// per command, before anything is sent.
func (f *secondFactorFlags) prepare(app *App, codeFlag string) error {
	if err := f.check(); err != nil {
		return err
	}
	code, err := readCode(app, codeFlag, f.Code)
	if err != nil {
		return err
	}
	f.Code = code
	return nil
}

func (f *secondFactorFlags) check() error {
	switch f.Method {
	case "", client.MethodTOTP, client.MethodEmail, client.MethodPassword, client.MethodOTP:
		return nil
	}
	return usageError{fmt.Errorf("--method %q: use totp, email, password or otp", f.Method)}
}

// answerer runs an operation that may answer with a *account.Challenge:
// the first call carries --code (if given); later calls carry what the
// person types at a prompt. Without a terminal and without a code, it stops
// with exit 4 and says what was asked and where the code went.
type answerer struct {
	app *App
	// flags are --code and --method (or their mfa-command twins).
	flags secondFactorFlags
	// codeFlag and methodFlag name the flags in messages.
	codeFlag, methodFlag string
	// rerun is the command to suggest when a code is needed.
	rerun string
	// resend is true for login: it has --resend, and it keeps a challenge
	// waiting for its code.
	resend bool
	// withMethod makes the suggested command name the challenge's method
	// (Rocket.Chat's token calls need it along with the code).
	withMethod bool
	// probe: a --code without --method waits for the server's challenge
	// to learn the method (Rocket.Chat wants it named with the code).
	probe bool

	ctx context.Context
}

// describe says what the challenge asks, naming the account and server.
func (an *answerer) describe(ch *account.Challenge) string {
	return challengeText(an.app.accountLabel(an.ctx, ch.Account), ch)
}

// challengeText is ch in words: what is asked, where the code went, or why
// the answer was refused.
func challengeText(label string, ch *account.Challenge) string {
	var b strings.Builder
	switch {
	case ch.Locked:
		fmt.Fprintf(&b, "%s: too many wrong answers", label)
	case ch.Invalid:
		fmt.Fprintf(&b, "%s: the server did not accept %s", label, ch.What())
		if ch.Message != "" {
			fmt.Fprintf(&b, " (%s)", ch.Message)
		}
	default:
		fmt.Fprintf(&b, "%s: the server asks for %s", label, ch.What())
	}
	switch {
	case ch.CodeSent && ch.SentTo != "":
		fmt.Fprintf(&b, "; a code was sent to %s", ch.SentTo)
	case ch.CodeSent:
		b.WriteString("; a code was sent")
	case ch.SentTo != "":
		fmt.Fprintf(&b, " (codes go to %s)", ch.SentTo)
	}
	return b.String()
}

// run calls op until it returns something other than a challenge.
func (an *answerer) run(ctx context.Context, op func(ans *account.Answer) error) error {
	an.ctx = ctx
	// flagCode is --code while it is not used yet.
	flagCode := an.flags.Code
	var ans *account.Answer
	usedFlag := false
	switch {
	case flagCode != "" && (an.flags.Method != "" || !an.probe):
		ans = &account.Answer{Method: an.flags.Method, Code: flagCode}
		flagCode, usedFlag = "", true
	case an.flags.Method != "":
		ans = &account.Answer{Method: an.flags.Method}
	}
	wrong := 0
	for {
		err := op(ans)
		var ch *account.Challenge
		if !errors.As(err, &ch) {
			return err
		}
		if ch.Locked {
			return exitf(ExitFailure, "%s; wait a while, then run '%s' again", an.describe(ch), an.rerun)
		}
		if ch.Invalid {
			wrong++
			if usedFlag {
				return exitf(ExitFailure, "%s; run '%s' again with the right %s", an.describe(ch), an.rerun, an.codeFlag)
			}
			if wrong >= maxWrongCodes {
				return exitf(ExitFailure, "%s; %d wrong answers, giving up: run '%s' again", an.describe(ch), wrong, an.rerun)
			}
		}
		// A challenge that is not "invalid" after an answer is a further
		// step (Capillary: first factor, then MFA): --code is used up.
		usedFlag = false
		method := ch.Method
		if an.flags.Method != "" && (len(ch.Methods) == 0 || contains(ch.Methods, an.flags.Method)) {
			method = an.flags.Method
		}
		if flagCode != "" && !ch.Invalid {
			// --code without --method: the challenge names the method.
			ans = &account.Answer{Method: method, Code: flagCode}
			flagCode, usedFlag = "", true
			continue
		}
		code, err := an.ask(ch)
		if err != nil {
			return err
		}
		ans = &account.Answer{Method: method, Code: code}
	}
}

// ask reads the answer to ch at a prompt, or stops with exit 4 when there
// is no terminal to ask at.
func (an *answerer) ask(ch *account.Challenge) (string, error) {
	io := an.app.io
	if !io.InTerminal || io.ReadSecret == nil {
		rerun := an.rerun
		if an.withMethod && ch.Method != "" {
			rerun += " " + an.methodFlag + " " + ch.Method
		}
		return "", needCode(an.describe(ch), ch, rerun, an.codeFlag, an.methodFlag, an.resend, an.resend)
	}
	w := io.Err
	if ch.Invalid {
		msg := ch.Message
		if msg == "" {
			msg = "not accepted"
		}
		fmt.Fprintf(w, "That was not accepted (%s); try again.\n", msg)
	} else {
		fmt.Fprintf(w, "%s asks for %s.\n", account.ServiceName(ch.Service), ch.What())
		if ch.CodeSent {
			if ch.SentTo != "" {
				fmt.Fprintf(w, "A code was sent to %s.\n", ch.SentTo)
			} else {
				fmt.Fprintln(w, "A code was sent.")
			}
		}
		if others := otherMethods(ch); len(others) > 0 {
			fmt.Fprintf(w, "(To use %s instead, run again with %s %s.)\n", strings.Join(others, " or "), an.methodFlag, others[0])
		}
	}
	var code string
	var err error
	if ch.IsPassword {
		code, err = an.app.atPrompt("", func() (string, error) { return io.ReadSecret(promptFor(ch)) })
	} else {
		fmt.Fprint(w, promptFor(ch))
		code, err = an.app.atPrompt("", func() (string, error) { return readLine(io.In) })
	}
	if err != nil {
		return "", exitf(ExitNeedCode, "%s: no answer read (%v)", an.describe(ch), err)
	}
	if !ch.IsPassword {
		code = strings.TrimSpace(code) // a password goes as typed, spaces and all
	}
	if code == "" && !ch.IsPassword {
		return "", exitf(ExitNeedCode, "%s: no code given; run '%s' again", an.describe(ch), an.rerun)
	}
	return code, nil
}

func promptFor(ch *account.Challenge) string {
	switch {
	case ch.Step == "mfa-password":
		return "MFA password: "
	case ch.IsPassword:
		return "Password: "
	case ch.Method == client.MethodTOTP:
		return "Authenticator code: "
	case ch.Method == client.MethodEmail:
		return "Code from the email: "
	}
	return "Code: "
}

func otherMethods(ch *account.Challenge) []string {
	var out []string
	for _, m := range ch.Methods {
		if m != ch.Method {
			out = append(out, m)
		}
	}
	return out
}

// needCode is exit 4: it names the challenge, where the code went, and how
// to answer it. what is the challenge in words (challengeText); login says
// the sign-in waits for the code (it keeps the pending challenge).
func needCode(what string, ch *account.Challenge, rerun, codeFlag, methodFlag string, resend, login bool) error {
	var b strings.Builder
	b.WriteString(what)
	switch {
	case ch.IsPassword:
		fmt.Fprintf(&b, ". No terminal to ask at: run '%s %s -' with the password on stdin", rerun, codeFlag)
	case ch.OutOfBand() && login:
		b.WriteString(". The sign-in waits for it")
		if !ch.Expires.IsZero() {
			fmt.Fprintf(&b, " until %s", ch.Expires.Local().Format("15:04:05"))
		}
		fmt.Fprintf(&b, ": run '%s %s CODE' with the code", rerun, codeFlag)
	case ch.OutOfBand():
		fmt.Fprintf(&b, ". Run '%s %s CODE' with the code", rerun, codeFlag)
	default:
		fmt.Fprintf(&b, ". No terminal to ask at: run '%s %s CODE'", rerun, codeFlag)
	}
	if others := otherMethods(ch); len(others) > 0 {
		fmt.Fprintf(&b, " (or %s %s to use %s)", methodFlag, others[0], strings.Join(others, " or "))
	}
	if ch.CanResend && resend {
		b.WriteString("; --resend asks for a new code")
	}
	return exitf(ExitNeedCode, "%s", b.String())
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
