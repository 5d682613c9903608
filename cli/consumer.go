package cli

import (
	"fmt"

	"github.com/spf13/cobra"

	"keyturn/account"
	"keyturn/config"
)

func init() { register(newConsumerCmd) }

func newConsumerCmd(app *App) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "consumer",
		Short: "Where a token goes after each rotation: a file, a .env line, a command",
		Long: `A consumer is where an issued token is used. After every rotation of the token,
once the new one is stored, keyturn hands it to each consumer of it:

  --file PATH               the file holds the token and nothing else
  --file PATH --env-key KEY the KEY=value line of a .env file is set; every other
                            line stays byte for byte
  --command CMD             CMD runs in the shell with the token and a newline on its
                            stdin (never in its arguments), in your home directory,
                            with only PATH, HOME, USER, LOGNAME, the locale, TZ,
                            TMPDIR, XDG_RUNTIME_DIR and DBUS_SESSION_BUS_ADDRESS of
                            keyturn's environment

Files are replaced atomically with mode 0600, and never written through a symbolic
link. --verify CMD then runs the same way (the token on its stdin too), to check
that the consumer works. Each command has a minute to finish.

Each consumer is reported delivered or failed (why) by 'token rotate'; a failure
never undoes the stored token, and 'keyturn deliver SECRET' tries again. Consumers
are kept in the config file, which never holds a token.`,
		Args: cobra.NoArgs,
	}
	cmd.AddCommand(newConsumerAddCmd(app), newConsumerListCmd(app), newConsumerRemoveCmd(app))
	return cmd
}

func newConsumerAddCmd(app *App) *cobra.Command {
	var c config.Consumer
	cmd := &cobra.Command{
		Use:   "add SECRET (--file PATH [--env-key KEY] | --command CMD) [--verify CMD]",
		Short: "Deliver a token to a file or a command after each rotation",
		Example: `  keyturn consumer add work-mm/command/kq3n9x8f4bgzjm5t1d6wyc7hra --file ~/app/.env --env-key MM_SLASH_TOKEN \
      --verify 'systemctl --user restart app'
  keyturn consumer add chat/pat/deploy --file /etc/deploy/rc-token
  keyturn consumer add cap/session --command 'vault kv put secret/cap token=-'`,
		Args: exactArgs(1, "consumer add needs the SECRET's name (see 'keyturn secret list')"),
		RunE: func(cmd *cobra.Command, args []string) error {
			c.Secret = args[0]
			ctx := cmd.Context()
			m, err := app.manager(ctx)
			if err != nil {
				return err
			}
			added, err := m.AddConsumer(ctx, c)
			if err != nil {
				return consumerErr(app, cmd, err, "adding a consumer")
			}
			fmt.Fprintf(app.io.Out, "%s will be delivered to %s after each rotation\n", added.Secret, account.DescribeConsumer(added))
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&c.File, "file", "", "write the token to this file")
	f.StringVar(&c.EnvKey, "env-key", "", "with --file: set only this KEY=value line of a .env file")
	f.StringVar(&c.Command, "command", "", "run this shell command with the token on its stdin")
	f.StringVar(&c.Verify, "verify", "", "then run this shell command to check the delivery")
	return cmd
}

func newConsumerListCmd(app *App) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:     "list [SECRET]",
		Aliases: []string{"ls"},
		Short:   "List consumers (of every secret, or of one)",
		Args:    cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			secret := ""
			if len(args) == 1 {
				secret = args[0]
			}
			m, err := app.manager(cmd.Context())
			if err != nil {
				return err
			}
			cs, err := m.Consumers(secret)
			if err != nil {
				return consumerErr(app, cmd, err, "listing consumers")
			}
			if asJSON {
				if cs == nil {
					cs = []config.Consumer{}
				}
				return writeJSON(app.io.Out, cs)
			}
			if len(cs) == 0 {
				fmt.Fprintln(app.io.Out, "no consumers; add one with 'keyturn consumer add SECRET --file PATH' or '--command CMD'")
				return nil
			}
			t := newTable(app.io.Out, "SECRET", "DELIVERS TO", "VERIFY")
			for _, c := range cs {
				to := c.Command
				switch {
				case c.File != "" && c.EnvKey != "":
					to = c.File + " (" + c.EnvKey + "=…)"
				case c.File != "":
					to = c.File
				}
				t.row(c.Secret, to, c.Verify)
			}
			return t.flush()
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON")
	return cmd
}

func newConsumerRemoveCmd(app *App) *cobra.Command {
	var match config.Consumer
	var all bool
	cmd := &cobra.Command{
		Use:     "remove SECRET (--file PATH [--env-key KEY] | --command CMD | --all)",
		Aliases: []string{"rm"},
		Short:   "Stop delivering a token to a consumer",
		Example: `  keyturn consumer remove chat/pat/deploy --file /etc/deploy/rc-token
  keyturn consumer remove chat/pat/deploy --all`,
		Args: exactArgs(1, "consumer remove needs the SECRET's name (see 'keyturn consumer list')"),
		RunE: func(cmd *cobra.Command, args []string) error {
			given := match.File != "" || match.Command != ""
			if given == all {
				return usageError{fmt.Errorf("name the consumer with --file PATH or --command CMD, or give --all for every consumer of %s", args[0])}
			}
			m, err := app.manager(cmd.Context())
			if err != nil {
				return err
			}
			n, err := m.RemoveConsumers(cmd.Context(), args[0], match)
			if err != nil {
				return consumerErr(app, cmd, err, "removing a consumer")
			}
			fmt.Fprintf(app.io.Out, "removed %d consumer(s) of %s\n", n, args[0])
			return nil
		},
	}
	f := cmd.Flags()
	f.StringVar(&match.File, "file", "", "the consumer's file")
	f.StringVar(&match.EnvKey, "env-key", "", "with --file: the consumer's .env key")
	f.StringVar(&match.Command, "command", "", "the consumer's command, as given")
	f.BoolVar(&all, "all", false, "every consumer of SECRET")
	return cmd
}
