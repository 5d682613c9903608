package cli

import (
	"time"

	"github.com/spf13/cobra"

	"keyturn/account"
)

// expiryFlags are --expires-in and --expires-at, for the tokens that can
// expire (Mattermost user access tokens).
type expiryFlags struct {
	in, at string
}

func (f *expiryFlags) register(cmd *cobra.Command, what string) {
	cmd.Flags().StringVar(&f.in, "expires-in", "", "Mattermost: "+what+" expires after this long: 90d, 12h, 1h30m, 2w")
	cmd.Flags().StringVar(&f.at, "expires-at", "", "Mattermost: "+what+" expires at this date: 2027-01-31, or 2027-01-31 18:00")
}

// when is the expiry asked for; the zero time when none was.
func (f *expiryFlags) when() (time.Time, error) {
	t, err := account.ParseExpiry(f.in, f.at, time.Now())
	if err != nil {
		return time.Time{}, usageError{err}
	}
	return t, nil
}

// rerun is the flags as a command line gives them again.
func (f *expiryFlags) rerun() string {
	switch {
	case f.in != "":
		return " --expires-in " + account.ShellArg(f.in)
	case f.at != "":
		return " --expires-at " + account.ShellArg(f.at)
	}
	return ""
}
