package cli

import (
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"keyturn/account"
	"keyturn/config"
)

func newAccountEditCmd(app *App) *cobra.Command {
	var o accountAddOptions
	cmd := &cobra.Command{
		Use:   "edit ACCOUNT [--url URL] [--user LOGIN] [...]",
		Short: "Change an account's settings in place",
		Long: `Changes the settings the flags name and keeps the rest: a typo in a URL is fixed
without removing the account and adding it again. The name and the service stay.
A signed-in account is not moved to another server or login: sign out first.`,
		Example: `  keyturn account edit work-mm --url https://mm.example.com
  keyturn account edit cap --region apac
  keyturn account edit cap --mfa on`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return runAccountEdit(cmd, app, &o)
		},
	}
	accountSettingFlags(cmd.Flags(), &o)
	return cmd
}

func runAccountEdit(cmd *cobra.Command, app *App, o *accountAddOptions) error {
	changed := map[string]bool{}
	cmd.LocalNonPersistentFlags().VisitAll(func(f *pflag.Flag) {
		if f.Changed {
			changed[f.Name] = true
		}
	})
	if len(changed) == 0 {
		return usageError{fmt.Errorf("nothing to change: give the flags of the settings to change")}
	}
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	st, err := app.accountStatus(ctx, m, o.name)
	if err != nil {
		return app.explain(ctx, err, "editing the account", "")
	}
	if !account.Info(st.Service).SignIn.Identity {
		for _, flag := range []string{"brand", "device-id", "identifier-type", "identifier", "region", "mfa", "mobile", "email"} {
			if changed[flag] {
				return usageError{fmt.Errorf("--%s is for Capillary accounts only", flag)}
			}
		}
	}
	identity := account.Info(st.Service).SignIn.Identity
	acct, err := m.Edit(ctx, o.name, func(a *config.Account) {
		set := func(flag string, dst *string, v string) {
			if changed[flag] {
				*dst = v
			}
		}
		set("url", &a.URL, o.url)
		if identity {
			set("user", &a.Identifier, o.user) // as account add takes it: the identifier
		} else {
			set("user", &a.User, o.user)
		}
		set("brand", &a.Brand, o.brand)
		set("device-id", &a.DeviceID, o.deviceID)
		set("identifier-type", &a.IdentifierType, o.identifierType)
		set("identifier", &a.Identifier, o.identifier)
		set("mfa", &a.MFA, o.mfa)
		set("mobile", &a.Mobile, o.mobile)
		set("email", &a.Email, o.email)
		set("ca-file", &a.CAFile, o.caFile)
		switch {
		case changed["region"]:
			a.Region, a.URL = o.region, ""
		case changed["url"]:
			a.Region = ""
		}
		if changed["insecure-http"] {
			a.InsecureHTTP = o.insecureHTTP
		}
	})
	if err != nil {
		return exitf(ExitFailure, "editing account %s: %v", o.name, err)
	}
	fmt.Fprintf(app.io.Out, "saved %s (%s at %s", acct.Name, account.ServiceName(acct.Service), acct.URL)
	if acct.User != "" {
		fmt.Fprintf(app.io.Out, ", as %s", acct.User)
	}
	fmt.Fprintln(app.io.Out, ")")
	return nil
}
