package cli

import (
	"fmt"

	mcobra "github.com/muesli/mango-cobra"
	"github.com/muesli/roff"
	"github.com/spf13/cobra"
)

func init() { register(newManCmd) }

// exitStatus is the man page's EXIT STATUS: the codes in root.go.
const exitStatus = `0 ok; 1 error; 2 usage; 3 a token was issued but could not be stored (it is on stdout: the only copy); 4 a second factor (or the password) is needed and none was given; 5 the request was sent and no answer came back (the server may have applied it); 130 stopped by SIGINT, SIGTERM or SIGHUP.`

func newManCmd(app *App) *cobra.Command {
	return &cobra.Command{
		Use:   "man",
		Short: "Print keyturn's man page (roff): keyturn man | man -l -",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, args []string) error {
			page, err := mcobra.NewManPage(1, cmd.Root())
			if err != nil {
				return err
			}
			page = page.WithSection("Exit status", exitStatus)
			_, err = fmt.Fprint(app.io.Out, page.Build(roff.NewDocument()))
			return err
		},
	}
}
