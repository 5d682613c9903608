package cli

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/spf13/cobra"

	"keyturn/account"
	"keyturn/config"
	"keyturn/keystore"
	"keyturn/sandbox"
	"keyturn/sandbox/capillarysim"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/rocketchatsim"
)

func init() { register(newDemoCmd) }

func newDemoCmd(app *App) *cobra.Command {
	var hostile bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Try every flow against built-in simulated servers",
		Long: `Starts simulated Mattermost, Rocket.Chat and Capillary servers on loopback, a
memory store and a temporary config holding one account per service, and opens
the interactive app. A footer line shows the passwords and the codes the servers
expect right now. Nothing leaves this machine; the real keyring and config are
never touched.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			env, err := startDemo(cmd.Context(), hostile)
			if err != nil {
				return err
			}
			defer env.Close()
			app.mgr = env.Manager
			app.demoCodes = env.Footer
			return app.runTUI(cmd.Context(), true)
		},
	}
	cmd.Flags().BoolVar(&hostile, "hostile", false, "servers put terminal escape sequences in every name and message they send")
	return cmd
}

// Demo is a sandbox with a manager over a memory store and a temporary
// config holding one account per service.
type Demo struct {
	Sandbox *sandbox.Sandbox
	Manager *account.Manager
	dir     string
}

// Demo account names.
const (
	DemoMattermost = "demo-mattermost"
	DemoRocketChat = "demo-rocketchat"
	DemoCapillary  = "demo-capillary"
)

// startDemo builds the demo world.
func startDemo(ctx context.Context, hostile bool) (*Demo, error) {
	// Some seeded tokens look old and slash commands have a 90-day policy,
	// so the overview (i) has an overdue token to show.
	sb, err := sandbox.Start(sandbox.Options{Hostile: hostile, Aged: true})
	if err != nil {
		return nil, err
	}
	dir, err := os.MkdirTemp("", "keyturn-demo-")
	if err != nil {
		sb.Close()
		return nil, err
	}
	cf := config.Open(filepath.Join(dir, "config.json"))
	mgr := account.New(cf, keystore.NewVault(keystore.NewMemory(), cf), account.Options{Face: "tui"})
	d := &Demo{Sandbox: sb, Manager: mgr, dir: dir}
	accounts := []config.Account{
		{Name: DemoMattermost, Service: account.Mattermost, URL: sb.MattermostURL, User: mattermostsim.AdminUsername},
		{Name: DemoRocketChat, Service: account.RocketChat, URL: sb.RocketChatURL, User: "alice"},
		{Name: DemoCapillary, Service: account.Capillary, URL: sb.CapillaryURL, Brand: capillarysim.SeedBrand,
			DeviceID: capillarysim.SeedDeviceID, IdentifierType: "MOBILE", Identifier: capillarysim.BobMobile},
	}
	if _, err := mgr.AddAll(ctx, accounts...); err != nil {
		d.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	if _, err := mgr.SetPolicy(ctx, account.KindCommand, "90d", ""); err != nil {
		d.Close()
		return nil, fmt.Errorf("demo: %w", err)
	}
	return d, nil
}

// Footer is the demo line: the seeded passwords and the codes the servers
// expect right now.
func (d *Demo) Footer() string {
	var b strings.Builder
	// Capillary signs in with a one-time code: its sign-in says so.
	fmt.Fprintf(&b, "demo passwords: mattermost %s · rocketchat %s", mattermostsim.AdminPassword, rocketchatsim.AlicePassword)
	codes := d.Sandbox.Codes()
	if len(codes) > 0 {
		b.WriteString(" · codes:") // one paragraph: at 80 columns it wraps to two lines, not three
		for _, c := range codes {
			fmt.Fprintf(&b, " %s %s ·", c.Label, c.Code)
		}
	}
	return strings.TrimSuffix(b.String(), " ·")
}

// Close stops the servers and removes the temporary config.
func (d *Demo) Close() {
	d.Sandbox.Close()
	os.RemoveAll(d.dir)
}
