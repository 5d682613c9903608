package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"time"

	"github.com/spf13/cobra"

	"keyturn/sandbox"
	"keyturn/sandbox/simnet"
)

func init() { register(newSandboxCmd) }

type sandboxOptions struct {
	listen  string
	latency time.Duration
	hostile bool
	as      sandbox.Behaviour
	aged    bool
}

func newSandboxCmd(app *App) *cobra.Command {
	var o sandboxOptions
	cmd := &cobra.Command{
		Use:   "sandbox",
		Short: "Run simulated Mattermost, Rocket.Chat and Capillary servers on loopback",
		Long: `Runs the simulated servers in the foreground and prints, as one JSON line on
stdout, each server's URL and the seeded users' credentials (including their TOTP
secrets), then serves until interrupted. Nothing leaves this machine.`,
		Example: `  keyturn sandbox --listen 127.0.0.1:8065 --latency 10ms
  keyturn sandbox --mattermost-max-token-days 30 --rocketchat-forgets-2fa
  keyturn sandbox --mattermost-older --rocketchat-older-logout`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			return runSandbox(app, cmd, o)
		},
	}
	cmd.Flags().StringVar(&o.listen, "listen", "127.0.0.1:0", "host:port of the first server; the others take the next ports (port 0: free ports)")
	cmd.Flags().DurationVar(&o.latency, "latency", 0, "delay added to every request")
	cmd.Flags().BoolVar(&o.hostile, "hostile", false, "put terminal escape sequences in every name, description and error message the servers send")
	f := cmd.Flags()
	f.BoolVar(&o.as.MattermostOlder, "mattermost-older", false, "Mattermost answers as 11.2: no token expiry, no in-place rotation")
	f.IntVar(&o.as.MattermostMaxTokenDays, "mattermost-max-token-days", 0, "Mattermost's maximum token lifetime in days (0: none)")
	f.BoolVar(&o.as.RocketChatOlderLogout, "rocketchat-older-logout", false, "Rocket.Chat answers logout as before 7.4 (a JSON body)")
	f.BoolVar(&o.as.RocketChatForgets2FA, "rocketchat-forgets-2fa", false, "Rocket.Chat remembers no passed second factor (8.5 until #41065)")
	f.BoolVar(&o.as.CapillaryRoleUnmarked, "capillary-role-unmarked", false, "Capillary's first-factor tokens say USER even when MFA is required")
	cmd.Flags().BoolVar(&o.aged, "aged", false, "make some seeded tokens look old (Mattermost's /oncall command 100 days, Alerts webhook 60 days), to try status and check")
	return cmd
}

func runSandbox(app *App, cmd *cobra.Command, o sandboxOptions) error {
	if o.latency < 0 {
		return usageError{fmt.Errorf("--latency must not be negative")}
	}
	if d := o.as.MattermostMaxTokenDays; d < 0 || d > 36500 {
		return usageError{fmt.Errorf("--mattermost-max-token-days %d: use 0 to 36500", d)}
	}
	sb, err := sandbox.Start(sandbox.Options{Listen: o.listen, Latency: o.latency, Hostile: o.hostile, Aged: o.aged, Behaviour: o.as})
	if err != nil {
		return err
	}
	defer sb.Close()
	line, err := json.Marshal(sb.Info())
	if err != nil {
		return err
	}
	fmt.Fprintln(app.io.Out, string(line))
	fmt.Fprintln(app.io.Err, "keyturn sandbox: serving; press Ctrl-C to stop. New codes (TOTP, email, OTP) are printed here as they appear.")
	printCodes(cmd.Context(), app.io.Err, sb.Codes, time.Second)
	return nil
}

// printCodes writes each code the servers expect as it appears (a new
// TOTP step, an email or OTP "sent"), so a person using the sandbox from
// another terminal can answer every challenge. It returns when ctx ends.
func printCodes(ctx context.Context, w io.Writer, codes func() []simnet.Code, every time.Duration) {
	seen := map[simnet.Code]bool{}
	t := time.NewTicker(every)
	defer t.Stop()
	for {
		now := map[simnet.Code]bool{}
		for _, c := range codes() {
			now[c] = true
			if !seen[c] {
				fmt.Fprintf(w, "code: %s %s\n", c.Label, c.Code)
			}
		}
		seen = now
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}
