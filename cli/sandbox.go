package cli

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"keyturn/sandbox"
)

func init() { register(newSandboxCmd) }

type sandboxOptions struct {
	listen  string
	latency time.Duration
}

func newSandboxCmd(app *App) *cobra.Command {
	var o sandboxOptions
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run simulated Mattermost, Rocket.Chat and Capillary servers on loopback",
		Long: `Runs the simulated servers in the foreground and prints, as one JSON line on
stdout, each server's URL and the seeded users' credentials (including their TOTP
secrets), then serves until interrupted. Nothing leaves this machine.`,
		Example: `  keyturn sandbox --listen 127.0.0.1:8065 --latency 10ms`,
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSandbox(app, cmd, o)
		},
	}
	cmd.Flags().StringVar(&o.listen, "listen", "127.0.0.1:0", "host:port of the first server; the others take the next ports (port 0: free ports)")
	cmd.Flags().DurationVar(&o.latency, "latency", 0, "delay added to every request")
	return cmd
}

func runSandbox(app *App, cmd *cobra.Command, o sandboxOptions) error {
	if o.latency < 0 {
		return usageError{fmt.Errorf("--latency must not be negative")}
	}
	sb, err := sandbox.Start(sandbox.Options{Listen: o.listen, Latency: o.latency})
	if err != nil {
		return err
	}
	defer sb.Close()
	line, err := json.Marshal(sb.Info())
	if err != nil {
		return err
	}
	fmt.Fprintln(app.io.Out, string(line))
	fmt.Fprintln(app.io.Err, "keyturn sandbox: serving; press Ctrl-C to stop")
	<-cmd.Context().Done()
	return nil
}
