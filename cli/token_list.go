package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"keyturn/account"
	"keyturn/textsafe"
)

type tokenListOptions struct {
	name string
	kind string
	team string
	json bool
}

func newTokenListCmd(app *App) *cobra.Command {
	var o tokenListOptions
	cmd := &cobra.Command{
		Use:     "list ACCOUNT",
		Aliases: []string{"ls"},
		Short:   "List the account's tokens on the server, marking those keyturn holds",
		Long: `Lists the account's tokens as the server knows them (never their values):
Mattermost user access tokens, slash commands and outgoing webhooks per team;
Rocket.Chat personal access tokens with their last token part and whether they
bypass two-factor; Capillary's session with its expiry. STORED shows the
fingerprint (last 4 characters, none of a short token) of the copy keyturn holds.`,
		Example: `  keyturn token list work-mm --kind command --team dev
  keyturn token list chat --json`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return runTokenList(cmd, app, &o)
		},
	}
	cmd.Flags().StringVar(&o.kind, "kind", "", "only this kind: user-token, command, webhook, pat or session")
	cmd.Flags().StringVar(&o.team, "team", "", "Mattermost: only this team (name or id)")
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

func runTokenList(cmd *cobra.Command, app *App, o *tokenListOptions) error {
	switch o.kind {
	case "", account.KindUserToken, account.KindCommand, account.KindWebhook, account.KindPAT, account.KindSession:
	default:
		return usageError{fmt.Errorf("--kind %q: use user-token, command, webhook, pat or session", o.kind)}
	}
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	toks, err := m.Tokens(ctx, o.name, account.ListFilter{Kind: o.kind, Team: o.team})
	var pe *account.PartialListError
	if errors.As(err, &pe) && (len(toks) > 0 || o.kind == "") {
		// What loaded is printed; each section the server refused says so.
		defer deniedNotes(app, pe)
		err = nil
	}
	if err != nil {
		return app.explain(ctx, err, "listing tokens", o.name)
	}
	if o.json {
		if toks == nil {
			toks = []account.Token{}
		}
		return writeJSON(app.io.Out, toks)
	}
	if len(toks) == 0 {
		fmt.Fprintf(app.io.Err, "no tokens on %s\n", o.name)
		return nil
	}
	now := time.Now()
	t := newTable(app.io.Out, "REF", "LABEL", "TEAM", "STATUS", "EXPIRES", "STORED", "DETAILS")
	for _, tk := range toks {
		stored := "no"
		if tk.Stored {
			stored = "yes"
			if tk.Fingerprint != "" {
				stored += " (…" + tk.Fingerprint + ")"
			}
		}
		t.row(tk.RefString, tk.Label, tk.Team, tk.Status, tokenExpires(tk, now), stored, tokenDetails(tk, now))
	}
	return t.flush()
}

// tokenExpires is a token's EXPIRES cell: when, "never" for a kind that
// can be switched off but has no expiry, "" for the rest.
func tokenExpires(tk account.Token, now time.Time) string {
	switch {
	case tk.Expires != nil:
		s := when(tk.Expires, now)
		if tk.Status == account.StateActive && tk.Expires.Sub(now) <= account.ExpiryWarning {
			s += " soon"
		}
		return s
	case tk.Active != nil:
		return "never"
	}
	return ""
}

// deniedNotes says on stderr which sections the server did not permit.
func deniedNotes(app *App, pe *account.PartialListError) {
	for _, d := range pe.Denied {
		what := d.Kind
		if d.Team != "" {
			what += " (team " + d.Team + ")"
		}
		fmt.Fprintf(app.io.Err, "keyturn: %s: not permitted for this user; needs %s\n", textsafe.Line(what), d.Grant)
	}
}

func tokenDetails(tk account.Token, now time.Time) string {
	var parts []string
	if tk.LastPart != "" {
		parts = append(parts, "ends …"+tk.LastPart)
	}
	if tk.Bypass2FA != nil && *tk.Bypass2FA {
		parts = append(parts, "bypasses 2FA")
	}
	if tk.Expires == nil && tk.Created != nil {
		parts = append(parts, "created "+tk.Created.Local().Format("2006-01-02"))
	}
	s := ""
	for i, p := range parts {
		if i > 0 {
			s += ", "
		}
		s += p
	}
	return s
}
