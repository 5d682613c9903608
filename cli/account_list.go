package cli

import (
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"keyturn/account"
)

type accountListOptions struct {
	json bool
}

func newAccountListCmd(app *App) *cobra.Command {
	var o accountListOptions
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List accounts and whether each is signed in",
		Long:    "Lists the accounts in the config file. It reads the config only: no server and no store is asked.",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runAccountList(cmd, app, &o)
		},
	}
	cmd.Flags().BoolVar(&o.json, "json", false, "print JSON")
	return cmd
}

func runAccountList(cmd *cobra.Command, app *App, o *accountListOptions) error {
	ctx := cmd.Context()
	m, err := app.manager(ctx)
	if err != nil {
		return err
	}
	list, err := m.List(ctx)
	if err != nil {
		return exitf(ExitFailure, "listing accounts: %v", err)
	}
	if o.json {
		if list == nil {
			list = []account.Status{}
		}
		return writeJSON(app.io.Out, list)
	}
	if len(list) == 0 {
		fmt.Fprintln(app.io.Err, "no accounts yet; add one with 'keyturn account add NAME --service S --url URL --user LOGIN'")
		return nil
	}
	now := time.Now()
	t := newTable(app.io.Out, "NAME", "SERVICE", "USER", "SIGNED IN", "URL")
	for _, st := range list {
		signed := "no"
		if st.SignedIn {
			signed = "yes"
			if st.Since != nil {
				signed += ", " + roughDuration(now.Sub(*st.Since)) + " ago"
			}
		}
		if st.Pending != "" {
			signed += " (waiting for a code)"
		}
		t.row(st.Name, st.Service, st.User, signed, st.URL)
	}
	return t.flush()
}
