// Command keyturn signs in to Mattermost, Rocket.Chat and Capillary servers
// with two-factor codes, issues and rotates tokens, and keeps them in the OS
// keyring. The command line is wired in package cli.
package main

import (
	"context"
	"os"
	"os/signal"
	"syscall"

	"keyturn/cli"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM, syscall.SIGHUP)
	code := cli.Execute(ctx, os.Args[1:], cli.SystemIO())
	stop()
	os.Exit(code)
}
