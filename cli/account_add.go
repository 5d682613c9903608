package cli

import (
	"errors"
	"fmt"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"

	"keyturn/account"
	"keyturn/config"
)

type accountAddOptions struct {
	name           string
	service        string
	url            string
	user           string
	brand          string
	deviceID       string
	identifierType string
	identifier     string
	region         string
	mfa            string
	mobile         string
	email          string
	insecureHTTP   bool
	caFile         string
	json           bool
}

func newAccountAddCmd(app *App) *cobra.Command {
	var o accountAddOptions
	cmd := &cobra.Command{
		Use:   "add NAME --service mattermost|rocketchat|capillary --url URL [--user LOGIN]",
		Short: "Add an account",
		Long: `Adds an account to the config file. NAME is yours to choose (letters, digits,
'.', '_', '-', '@'); it starts the name of every secret the account gets.

Capillary accounts also need --brand, --device-id, --identifier-type and
--identifier, and may give --region instead of --url. A USERNAME identifier
needs --mobile or --email too (the Auth Engine's token/generate asks for one).
--mfa says whether a sign-in runs the MFA step: auto (the default) when the
first factor's token says MFA_PENDING, on for a brand that requires MFA without
saying so in the token, off never.

Plain http is allowed only to loopback addresses unless --insecure-http is given.`,
		Example: `  keyturn account add work-mm --service mattermost --url https://mm.example.com --user alice
  keyturn account add chat --service rocketchat --url https://chat.example.com --user alice@example.com
  keyturn account add cap --service capillary --region eu --brand DemoBrand \
      --device-id laptop-1 --identifier-type MOBILE --identifier 919999000001
  keyturn account add cap2 --service capillary --region eu --brand DemoBrand \
      --device-id laptop-1 --identifier-type USERNAME --identifier dave --mobile 919999000004 --mfa on`,
		Args: exactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			o.name = args[0]
			return runAccountAdd(cmd, app, &o)
		},
	}
	f := cmd.Flags()
	f.StringVar(&o.service, "service", "", "mattermost, rocketchat or capillary")
	accountSettingFlags(f, &o)
	f.BoolVar(&o.json, "json", false, "print the account as JSON")
	return cmd
}

// accountSettingFlags are the settings account add sets and account edit
// changes.
func accountSettingFlags(f *pflag.FlagSet, o *accountAddOptions) {
	f.StringVar(&o.url, "url", "", "the server's base URL")
	f.StringVar(&o.user, "user", "", "the login: user name or email address")
	f.StringVar(&o.brand, "brand", "", "Capillary: the brand")
	f.StringVar(&o.deviceID, "device-id", "", "Capillary: the device id keyturn signs in as")
	f.StringVar(&o.identifierType, "identifier-type", "", "Capillary: MOBILE, EMAIL or USERNAME")
	f.StringVar(&o.identifier, "identifier", "", "Capillary: the identifier's value")
	f.StringVar(&o.region, "region", "", "Capillary: eu, apac, apac2, us or in (instead of --url)")
	f.StringVar(&o.mfa, "mfa", "", "Capillary: run the MFA step auto (when the token says MFA_PENDING), on or off")
	f.StringVar(&o.mobile, "mobile", "", "Capillary: the mobile number a USERNAME identifier signs in with")
	f.StringVar(&o.email, "email", "", "Capillary: the email address a USERNAME identifier signs in with")
	f.BoolVar(&o.insecureHTTP, "insecure-http", false, "allow plain http to a host that is not loopback")
	f.StringVar(&o.caFile, "ca-file", "", "PEM file of CA certificates to trust for this server")
}

func runAccountAdd(cmd *cobra.Command, app *App, o *accountAddOptions) error {
	if o.service == "" {
		return usageError{fmt.Errorf("--service is required: mattermost, rocketchat or capillary")}
	}
	if o.url == "" && o.region == "" {
		return usageError{fmt.Errorf("--url is required (Capillary: or --region)")}
	}
	if !account.Info(o.service).SignIn.Identity {
		for flag, v := range map[string]string{"--brand": o.brand, "--device-id": o.deviceID, "--identifier-type": o.identifierType, "--identifier": o.identifier, "--region": o.region,
			"--mfa": o.mfa, "--mobile": o.mobile, "--email": o.email} {
			if v != "" {
				return usageError{fmt.Errorf("%s is for Capillary accounts only", flag)}
			}
		}
	}
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	acct, err := m.Add(ctx, config.Account{
		Name: o.name, Service: o.service, URL: o.url, User: o.user,
		Brand: o.brand, DeviceID: o.deviceID, IdentifierType: o.identifierType, Identifier: o.identifier, Region: o.region,
		MFA: o.mfa, Mobile: o.mobile, Email: o.email,
		InsecureHTTP: o.insecureHTTP, CAFile: o.caFile,
	})
	var us *account.UnknownServiceError
	if errors.As(err, &us) {
		return usageError{err}
	}
	if err != nil {
		return exitf(ExitFailure, "adding account %s: %v%s", o.name, err, hint(err, "", "adding"))
	}
	if o.json {
		return writeJSON(app.io.Out, acct)
	}
	fmt.Fprintf(app.io.Out, "added %s (%s at %s", acct.Name, account.ServiceName(acct.Service), acct.URL)
	if acct.User != "" {
		fmt.Fprintf(app.io.Out, ", as %s", acct.User)
	}
	fmt.Fprintf(app.io.Out, "); sign in with 'keyturn login %s'\n", acct.Name)
	return nil
}
