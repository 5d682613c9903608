package cli

import (
	"fmt"
	"strings"

	"github.com/spf13/cobra"

	"keyturn/account"
)

func init() { register(newPolicyCmd) }

func newPolicyCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "policy",
		Short: "Set how old each kind of token may get before it is due for rotation",
		Long: `A policy is the maximum age of one kind of token (` + strings.Join(account.PolicyKinds(), ", ") + `),
for every account or, with --account, for one (the account's own wins). 'keyturn
status' shows each token's deadline and 'keyturn check' lists the overdue ones.
Ages are whole numbers with units w, d, h, m: 90d, 12h, 1h30m, 2w.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newPolicySetCmd(app), newPolicyListCmd(app), newPolicyUnsetCmd(app))
	return cmd
}

func newPolicySetCmd(app *App) *cobra.Command {
	var acct string
	cmd := &cobra.Command{
		Use:   "set KIND MAXAGE",
		Short: "Set the maximum age of a kind of token",
		Example: `  keyturn policy set webhook 90d
  keyturn policy set pat 2w --account chat`,
		Args: cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			m, err := app.manager(ctx)
			if err != nil {
				return err
			}
			p, err := m.SetPolicy(ctx, args[0], args[1], acct)
			if err != nil {
				return app.explain(ctx, err, "setting a policy", acct)
			}
			fmt.Fprintf(app.io.Err, "%s tokens of %s may be %s old at most\n", p.Kind, policyScope(p.Account), p.Text)
			return nil
		},
	}
	cmd.Flags().StringVar(&acct, "account", "", "only this account (default: every account)")
	return cmd
}

func newPolicyUnsetCmd(app *App) *cobra.Command {
	var acct string
	cmd := &cobra.Command{
		Use:     "unset KIND",
		Short:   "Remove the maximum age of a kind of token",
		Example: `  keyturn policy unset pat --account chat`,
		Args:    cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			m, err := app.manager(ctx)
			if err != nil {
				return err
			}
			if err := m.UnsetPolicy(ctx, args[0], acct); err != nil {
				return app.explain(ctx, err, "removing a policy", "")
			}
			fmt.Fprintf(app.io.Err, "no policy for %s tokens of %s any more\n", args[0], policyScope(acct))
			return nil
		},
	}
	cmd.Flags().StringVar(&acct, "account", "", "the account's own policy (default: the one for every account)")
	return cmd
}

func newPolicyListCmd(app *App) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list",
		Aliases: []string{"ls"},
		Short:   "List the policies",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			ctx := cmd.Context()
			m, err := app.manager(ctx)
			if err != nil {
				return err
			}
			ps, err := m.Policies(ctx)
			if err != nil {
				return app.explain(ctx, err, "reading the policies", "")
			}
			if asJSON {
				return writeJSON(app.io.Out, ps)
			}
			if len(ps) == 0 {
				fmt.Fprintln(app.io.Err, "no policies; set one with 'keyturn policy set KIND MAXAGE'")
				return nil
			}
			t := newTable(app.io.Out, "KIND", "ACCOUNT", "MAX AGE")
			for _, p := range ps {
				t.row(p.Kind, policyScope(p.Account), p.Text)
			}
			return t.flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

// policyScope names whom a policy covers.
func policyScope(acct string) string {
	if acct == "" {
		return "every account"
	}
	return acct
}
