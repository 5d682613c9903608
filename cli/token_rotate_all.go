package cli

import (
	"context"
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"keyturn/account"
	"keyturn/textsafe"
)

// bulkFlags are token rotate's --all flags.
type bulkFlags struct {
	all      bool
	kind     string
	team     string
	parallel int
	resume   bool
	overdue  bool
}

func (b *bulkFlags) register(cmd *cobra.Command) {
	f := cmd.Flags()
	f.BoolVar(&b.all, "all", false, "rotate every matching token of the account")
	f.StringVar(&b.kind, "kind", "", "with --all: only this kind (command, webhook, user-token, pat, session)")
	f.StringVar(&b.team, "team", "", "with --all: only this Mattermost team (name or id)")
	f.IntVar(&b.parallel, "parallel", 4, "with --all: requests at a time")
	f.BoolVar(&b.resume, "resume", false, "with --all: finish a stopped run from its journal")
	f.BoolVar(&b.overdue, "overdue", false, "with --all: only tokens past their policy's age or their expiry (see 'keyturn check')")
}

// set reports whether any --all-only flag was given.
func (b *bulkFlags) set(cmd *cobra.Command) bool {
	for _, n := range []string{"kind", "team", "parallel", "resume", "overdue"} {
		if cmd.Flags().Changed(n) {
			return true
		}
	}
	return false
}

// bulkJSON is the --json report.
type bulkJSON struct {
	Account string         `json:"account"`
	OK      int            `json:"ok"`
	Failed  int            `json:"failed"`
	Unknown int            `json:"unknown"`
	Skipped int            `json:"skipped"`
	Tokens  []bulkItemJSON `json:"tokens"`
}

type bulkItemJSON struct {
	account.BulkItem
	Token string `json:"token,omitempty"`
}

func runTokenRotateAll(cmd *cobra.Command, app *App, o *tokenRotateOptions) error {
	b := o.bulk
	if b.parallel < 1 || b.parallel > 64 {
		return usageError{fmt.Errorf("--parallel %d: use 1 to 64", b.parallel)}
	}
	codesOnStdin := o.sf.Code == "-"
	if err := o.sf.prepare(app, "--code"); err != nil {
		return err
	}
	code := o.sf.Code
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	opts := account.BulkOptions{Kind: b.kind, Team: b.team, Parallel: b.parallel, Resume: b.resume, Overdue: b.overdue}
	if code != "" {
		opts.Answer = &account.Answer{Method: o.sf.Method, Code: code}
	}
	if app.io.OutTerminal || app.io.InTerminal {
		opts.Progress = func(p account.BulkProgress) {
			fmt.Fprintf(app.io.Err, "\rrotated %d of %d · %d failed · %d unknown ", p.Done, p.Total, p.Failed, p.Unknown)
			if p.Done+p.Failed+p.Unknown == p.Total {
				fmt.Fprintln(app.io.Err)
			}
		}
	}
	rep, err := m.RotateAll(ctx, o.name, opts)
	if rep == nil {
		return app.explain(ctx, err, "rotating every token", o.name)
	}
	if codesOnStdin {
		rep, err = codePerTokenFromStdin(ctx, app, m, o.name, opts, rep, err)
		if rep == nil {
			return app.explain(ctx, err, "rotating every token", o.name)
		}
	}
	notStored := printBulkReport(ctx, app, m, rep, o.out.json, o.out.reveal)
	if err != nil {
		fmt.Fprintf(app.io.Err, "keyturn: %v\n", err)
	}
	// Tokens refused for want of a second factor, when none was given:
	// exit 4, saying how to answer it on a resumed run.
	var ch *account.Challenge
	challenged := 0
	for _, it := range rep.Items {
		if it.Status == account.BulkFailed && it.Challenge != nil {
			challenged++
			if ch == nil {
				ch = it.Challenge
			}
		}
	}
	switch {
	case notStored > 0:
		return exitf(ExitNotStored, "%d token(s) were issued but NOT saved%s", notStored, unsavedHints(rep))
	case rep.Unknown > 0:
		return exitf(ExitUnknownState, "%d token(s) were sent with no answer: the server may have rotated them; keyturn does not retry by itself (check each integration, or rotate it on its own)", rep.Unknown)
	case rep.CodePerToken && ch != nil:
		// The server remembers no passed factor: a code for each token.
		next, left := rep.NextCode()
		rerun := bulkRerun(o.name, b) + " --resume --method " + next.Method
		what := fmt.Sprintf("%s asks for a new code for each token (it does not remember a passed second factor): %d token(s) left. %s",
			app.accountLabel(ctx, o.name), left, challengeText(app.accountLabel(ctx, o.name), next))
		err := needCode(what, next, rerun, "--code", "--method", false, false)
		return exitf(ExitNeedCode, "%v; or give --code - and one code per line on stdin", err)
	case ch != nil && code == "":
		rerun := "keyturn token rotate " + o.name + " --all"
		if b.kind != "" {
			rerun += " --kind " + b.kind
		}
		if b.team != "" {
			rerun += " --team " + b.team
		}
		rerun += " --resume"
		if ch.Method != "" {
			rerun += " --method " + ch.Method
		}
		what := fmt.Sprintf("%d of %d token(s) were not rotated: %s", challenged, len(rep.Items), challengeText(app.accountLabel(ctx, o.name), ch))
		return needCode(what, ch, rerun, "--code", "--method", false, false)
	case rep.Failed > 0 || err != nil:
		return exitf(ExitFailure, "%d of %d token(s) failed; run the same command with --resume to retry those not yet sent", rep.Failed, len(rep.Items))
	}
	return bulkDeliveryFailures(rep)
}

// bulkDeliveryFailures is exit 1 when a rotated token did not reach one of
// its consumers (the token is stored).
func bulkDeliveryFailures(rep *account.BulkReport) error {
	var secrets []string
	for _, it := range rep.Items {
		if deliveryFailures(it.Name, it.Deliveries) != nil {
			secrets = append(secrets, it.Name)
		}
	}
	if len(secrets) == 0 {
		return nil
	}
	return exitf(ExitFailure, "every token was rotated and stored, but %d did not reach all their consumers; fix them and run 'keyturn deliver SECRET' for: %s", len(secrets), strings.Join(secrets, ", "))
}

// printBulkReport writes the report and returns how many tokens could not
// be stored (their values are printed: they are the only copies).
func printBulkReport(ctx context.Context, app *App, m *account.Manager, rep *account.BulkReport, asJSON, reveal bool) int {
	notStored := 0
	if asJSON {
		out := bulkJSON{Account: rep.Account, OK: rep.OK, Failed: rep.Failed, Unknown: rep.Unknown, Skipped: rep.Skipped}
		for _, it := range rep.Items {
			j := bulkItemJSON{BulkItem: it}
			if it.NotSaved {
				notStored++
			}
			if it.Value != "" {
				j.Token = it.Value
			} else if reveal && it.Name != "" && it.Stored {
				j.Token, _ = m.Vault().Get(ctx, it.Name)
			}
			out.Tokens = append(out.Tokens, j)
		}
		_ = writeJSON(app.io.Out, out)
		return notStored
	}
	t := newTable(app.io.Out, "REF", "LABEL", "RESULT", "SAVED AS")
	for _, it := range rep.Items {
		result := it.Status
		switch {
		case it.Error != "" && it.Status != account.BulkOK:
			result += " (" + it.Error + ")"
		case it.Note != "":
			result += " (" + it.Note + ")"
		}
		saved := ""
		if it.NotSaved {
			saved = "NOT SAVED (" + it.Name + ")"
		}
		if it.Stored {
			saved = it.Name
			if it.Fingerprint != "" {
				saved += " (…" + it.Fingerprint + ")"
			}
		}
		t.row(it.Ref, it.Label, result, saved)
	}
	_ = t.flush()
	for _, it := range rep.Items {
		printDeliveries(app, it.Deliveries)
	}
	for _, it := range rep.Items {
		switch {
		case it.Value != "":
			notStored++
			fmt.Fprintf(app.io.Out, "NOT SAVED %s as %s: %s\n", textsafe.Line(it.Ref), it.Name, shownValue(app, it.Value))
		case it.NotSaved:
			notStored++
			fmt.Fprintf(app.io.Out, "NOT SAVED %s as %s: issued by the stopped run; keyturn has no copy\n", textsafe.Line(it.Ref), it.Name)
		}
	}
	fmt.Fprintf(app.io.Out, "%d ok · %d failed · %d unknown · %d already done\n", rep.OK, rep.Failed, rep.Unknown, rep.Skipped)
	return notStored
}

// unsavedHints says, for each token the store refused, the secret name it
// belongs under (a Mattermost user token's new one, not the old ref's,
// whose copy is the old token) and how to store it.
func unsavedHints(rep *account.BulkReport) string {
	var b strings.Builder
	for _, it := range rep.Items {
		switch {
		case it.Value != "":
			fmt.Fprintf(&b, "\n  %s: printed above, the ONLY copy; store it with 'keyturn secret set %s' (it reads the value from stdin)", it.Ref, it.Name)
		case it.NotSaved:
			fmt.Fprintf(&b, "\n  %s: issued by the stopped run and printed then; if it was kept, store it with 'keyturn secret set %s', else rotate it again", it.Ref, it.Name)
		}
	}
	return b.String()
}

// bulkRerun is the command line of a bulk run, for messages.
func bulkRerun(name string, b bulkFlags) string {
	rerun := "keyturn token rotate " + name + " --all"
	if b.kind != "" {
		rerun += " --kind " + b.kind
	}
	if b.team != "" {
		rerun += " --team " + b.team
	}
	return rerun
}

// codePerTokenFromStdin answers a server that asks a code for each token
// with one line of stdin per token (--code -), each in a resumed run, and
// returns the report of the whole: the tokens each run rotated are ok,
// not "already done".
func codePerTokenFromStdin(ctx context.Context, app *App, m *account.Manager, name string, opts account.BulkOptions, rep *account.BulkReport, err error) (*account.BulkReport, error) {
	done := map[string]account.BulkItem{}
	for err == nil && rep.CodePerToken {
		ch, left := rep.NextCode()
		for _, it := range rep.Items {
			if it.Status == account.BulkOK {
				done[it.Ref] = it
			}
		}
		if ch == nil || left == 0 || ctx.Err() != nil {
			break
		}
		fmt.Fprintf(app.io.Err, "keyturn: %d token(s) left; reading the next code from stdin (%s)\n", left, challengeText(app.accountLabel(ctx, name), ch))
		line, _ := app.atPrompt("", func() (string, error) { return readLine(app.io.In) })
		if line = strings.TrimSpace(line); line == "" {
			break
		}
		opts.Resume, opts.Answer = true, &account.Answer{Method: ch.Method, Code: line}
		var next *account.BulkReport
		if next, err = m.RotateAll(ctx, name, opts); next == nil {
			return nil, err
		}
		rep = next
	}
	for i, it := range rep.Items {
		if d, ok := done[it.Ref]; ok && it.Status == account.BulkSkipped {
			rep.Items[i] = d
			rep.OK++
			rep.Skipped--
		}
	}
	return rep, err
}
