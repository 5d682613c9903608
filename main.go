// Command keyturn signs in to Mattermost, Rocket.Chat and Capillary servers
// with two-factor codes, issues and rotates tokens, and keeps them in the OS
// keyring. The command line is wired in package cli.
package main

import (
	"os"

	"keyturn/cli"
)

func main() {
	os.Exit(cli.Run(os.Args[1:], cli.SystemIO()))
}
