package cli

import (
	"errors"
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"keyturn/account"
	"keyturn/textsafe"
)

func init() { register(newLeakCmd) }

// maxLeakInput caps the line read as the leaked token.
const maxLeakInput = 64 << 10

type leakOptions struct {
	rotate bool
	json   bool
	sf     secondFactorFlags
}

// leakJSON is leak's --json output.
type leakJSON struct {
	*account.LeakReport
	Rotated []issuedJSON `json:"rotated,omitempty"`
}

func newLeakCmd(app *App) *cobra.Command {
	var o leakOptions
	cmd := &cobra.Command{
		Use:   "leak [--rotate]",
		Short: "Say what a leaked token is, and rotate it",
		Long: `Reads a token from stdin (its first line; on a terminal it asks, with no echo; never
from the command line) and says what it is:

  - which stored secret holds it: SHA-256 digests compared in constant time;
  - which object on a server it belongs to, where the server shows it: Mattermost
    slash-command and outgoing-webhook tokens (compared whole), Rocket.Chat
    personal access tokens (by the last part of the token the server shows);
  - whether it is keyturn's own sign-in credential for an account.

The token is never printed. When nothing matches it says so and lists where it
looked. With --rotate every matching token is rotated (Rocket.Chat may ask for a
second factor: --code, --code - reads it from the next line of stdin) and then
delivered to its consumers; a credential is not rotated: keyturn says how to end it.

Exit codes: 0 something matched (and was rotated, with --rotate), 1 nothing
matched or an error, and those of 'token rotate' for a rotation that failed.`,
		Example: `  printf %s "$LEAKED" | keyturn leak
  keyturn leak --rotate              # on a terminal: paste the token at the prompt
  xclip -o | keyturn leak --rotate --json`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError{errors.New("leak takes no arguments: a token on the command line would leak again (to the shell history and the process list); give it on stdin")}
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error { return runLeak(cmd, app, &o) },
	}
	cmd.Flags().BoolVar(&o.rotate, "rotate", false, "rotate every token that matched, then deliver it to its consumers")
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	o.sf.register(cmd.Flags(), "code", "method")
	return cmd
}

// readLeaked reads the token: a no-echo prompt on a terminal, else the
// first line of stdin.
func readLeaked(app *App) (string, error) {
	if app.io.InTerminal && app.io.ReadSecret != nil {
		v, err := app.atPrompt("", func() (string, error) { return app.io.ReadSecret("Leaked token (not shown): ") })
		if err != nil {
			return "", exitf(ExitFailure, "reading the token: %v", err)
		}
		return v, nil
	}
	if app.io.In == nil {
		return "", usageError{errors.New(`no token on stdin; pipe it in: printf %s "$TOKEN" | keyturn leak`)}
	}
	line, err := readLine(io.LimitReader(app.io.In, maxLeakInput))
	if err != nil && !errors.Is(err, io.EOF) {
		return "", exitf(ExitFailure, "reading the token from stdin: %v", err)
	}
	return line, nil
}

func runLeak(cmd *cobra.Command, app *App, o *leakOptions) error {
	token, err := readLeaked(app)
	if err != nil {
		return err
	}
	if err := o.sf.prepare(app, "--code"); err != nil {
		return err
	}
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	rep, err := m.Leak(ctx, token)
	if err != nil {
		return consumerErr(app, cmd, err, "looking for the token")
	}
	if !o.json {
		printLeak(app, rep, o.rotate)
	}
	out := leakJSON{LeakReport: rep}
	if o.rotate {
		for _, lm := range rep.Matches {
			if !lm.Rotate {
				continue
			}
			var iss *account.Issued
			rerun := fmt.Sprintf("keyturn token rotate %s %s", lm.Account, account.ShellArg(lm.Ref))
			err := tokenAnswerer(app, o.sf, rerun).run(ctx, func(ans *account.Answer) error {
				var err error
				iss, err = m.RotateLeaked(ctx, lm, ans)
				return err
			})
			if err != nil || o.json {
				if err == nil {
					out.Rotated = append(out.Rotated, toIssuedJSON(iss, false))
					continue
				}
				return finishIssued(app, cmd, iss, err, tokenOutput{json: o.json}, "rotating "+lm.Ref, lm.Account)
			}
			fmt.Fprintf(app.io.Out, "rotated %s %s: ", lm.Account, textsafe.Line(lm.Ref))
			if err := printIssued(app, iss, false, false); err != nil {
				return err
			}
		}
	}
	if o.json {
		if err := writeJSON(app.io.Out, out); err != nil {
			return err
		}
		for _, r := range out.Rotated {
			if err := deliveryFailures(r.Name, r.Deliveries); err != nil {
				return err
			}
		}
	}
	if len(rep.Matches) == 0 {
		return exitf(ExitFailure, "the token matches nothing keyturn holds or can see")
	}
	return nil
}

// printLeak writes what the token is, where keyturn looked, and what to do.
func printLeak(app *App, rep *account.LeakReport, rotating bool) {
	w := app.io.Out
	if len(rep.Matches) == 0 {
		fmt.Fprintln(w, "No match: the token is none keyturn holds or can see on its accounts' servers.")
	}
	for _, lm := range rep.Matches {
		what := lm.Account + " " + lm.Ref
		if lm.Ref == "" {
			what = lm.Secret
		}
		if lm.Label != "" {
			what += "  " + lm.Label
		}
		if lm.Team != "" {
			what += "  (team " + lm.Team + ")"
		}
		fmt.Fprintf(w, "MATCH %s\n", textsafe.Line(what))
		if lm.Secret != "" {
			fmt.Fprintf(w, "  stored as %s\n", textsafe.Line(lm.Secret))
		}
		fmt.Fprintf(w, "  found by: %s\n", textsafe.Line(strings.Join(lm.How, "; ")))
		switch {
		case lm.Advice != "":
			fmt.Fprintf(w, "  to do: %s\n", textsafe.Line(lm.Advice))
		case !rotating:
			fmt.Fprintf(w, "  to do: rotate it: 'keyturn leak --rotate', or 'keyturn token rotate %s %s'\n", lm.Account, textsafe.Line(account.ShellArg(lm.Ref)))
		}
	}
	fmt.Fprintln(w, "Looked in:")
	for _, l := range rep.Looked {
		fmt.Fprintf(w, "  %s\n", textsafe.Line(l))
	}
	if len(rep.Problems) > 0 {
		fmt.Fprintln(w, "Could not look in:")
		for _, p := range rep.Problems {
			fmt.Fprintf(w, "  %s\n", textsafe.Line(p))
		}
	}
}
