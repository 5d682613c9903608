package cli

import (
	"fmt"
	"strings"
	"time"

	"github.com/spf13/cobra"

	"keyturn/account"
	"keyturn/textsafe"
)

type accountShowOptions struct {
	name string
	json bool
}

func newAccountShowCmd(app *App) *cobra.Command {
	var o accountShowOptions
	cmd := &cobra.Command{
		Use:   "show ACCOUNT",
		Short: "Show an account: signed in or not, where its credential lives, its age or expiry",
		Long: `Shows one account. It checks that the credential the config file lists is really
in the store (so it may ask the keyring), but it asks no server.`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return runAccountShow(cmd, app, &o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

func runAccountShow(cmd *cobra.Command, app *App, o *accountShowOptions) error {
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	st, err := m.Show(ctx, o.name)
	if err != nil {
		return app.explain(ctx, err, "showing the account", o.name)
	}
	if o.json {
		return writeJSON(app.io.Out, st)
	}
	now := time.Now()
	w := app.io.Out
	fmt.Fprintf(w, "name:       %s\n", st.Name)
	fmt.Fprintf(w, "service:    %s\n", account.ServiceName(st.Service))
	fmt.Fprintf(w, "url:        %s\n", st.URL)
	if st.Insecure {
		fmt.Fprintln(w, "            (plain http allowed)")
	}
	if st.User != "" {
		fmt.Fprintf(w, "user:       %s\n", st.User)
	}
	if e := st.Extra; e.Brand != "" {
		fmt.Fprintf(w, "brand:      %s\n", e.Brand)
		fmt.Fprintf(w, "identifier: %s %s\n", e.IdentifierType, e.Identifier)
		fmt.Fprintf(w, "device id:  %s\n", e.DeviceID)
		if e.Region != "" {
			fmt.Fprintf(w, "region:     %s\n", e.Region)
		}
		if contact := contacts(e); contact != "" {
			fmt.Fprintf(w, "contact:    %s\n", contact)
		}
		fmt.Fprintf(w, "mfa step:   %s\n", e.MFA)
	}
	if st.SignedIn {
		fmt.Fprintf(w, "signed in:  yes, with a %s, in %s\n", st.Via, storeName(st.Store))
		if st.Since != nil {
			fmt.Fprintf(w, "since:      %s\n", when(st.Since, now))
		}
	} else {
		fmt.Fprintf(w, "signed in:  no ('keyturn login %s')\n", st.Name)
	}
	if st.Expires != nil {
		label := "expires:   "
		if st.Expires.Before(now) {
			label = "expired:   "
		}
		fmt.Fprintf(w, "%s %s\n", label, when(st.Expires, now))
	}
	if st.Pending != "" {
		fmt.Fprintf(w, "waiting:    for %s ('keyturn login %s --code CODE')\n", st.PendingFor, st.Name)
	}
	if st.MFAUnconfirmed != nil {
		fmt.Fprintf(w, "mfa:        secret replaced %s, not confirmed by a code: the authenticator's old entry no longer signs in\n", when(st.MFAUnconfirmed, now))
		fmt.Fprintf(w, "            finish with 'keyturn mfa activate %s --code CODE' (a code from the new secret), or start again with 'keyturn mfa setup %s --replace'\n", st.Name, st.Name)
	}
	if st.Problem != "" {
		fmt.Fprintf(w, "problem:    %s\n", st.Problem)
	}
	for i, e := range st.Expiring {
		label := "            "
		if i == 0 {
			label = "warning:   "
		}
		verb := "expires"
		if e.Expired {
			verb = "expired"
		}
		fmt.Fprintf(w, "%s %s %s %s ('keyturn token rotate %s %s')\n", label, textsafe.Line(e.Ref), verb, when(&e.Expires, now), st.Name, account.ShellArg(e.Ref))
	}
	return nil
}

// contacts are the mobile and email a Capillary user name signs in with.
func contacts(e account.Extra) string {
	var out []string
	if e.Mobile != "" {
		out = append(out, "mobile "+e.Mobile)
	}
	if e.Email != "" {
		out = append(out, "email "+e.Email)
	}
	return strings.Join(out, ", ")
}
