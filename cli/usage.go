package cli

import (
	"errors"
	"fmt"
	"strings"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
)

// exactArgs is cobra.ExactArgs in words a person can act on: msg when
// given, else the missing arguments by the names the usage line gives them
// ("missing ACCOUNT"), or the one too many.
func exactArgs(n int, msg ...string) cobra.PositionalArgs {
	return func(cmd *cobra.Command, args []string) error {
		names := useArgs(cmd)
		switch {
		case len(args) != n && len(msg) > 0:
			return usageError{errors.New(msg[0])}
		case len(args) < n && len(names) >= n:
			return usageError{fmt.Errorf("missing %s", strings.Join(names[len(args):n], " and "))}
		case len(args) < n:
			return usageError{fmt.Errorf("missing %d argument(s)", n-len(args))}
		case len(args) > n:
			return usageError{fmt.Errorf("unexpected argument %q (%s takes %s)", args[n], cmd.CommandPath(), strings.Join(names, " "))}
		}
		return nil
	}
}

// useArgs are the positional words of cmd's usage line ("ACCOUNT",
// "LABEL"), up to the first flag or optional part.
func useArgs(cmd *cobra.Command) []string {
	var out []string
	for _, w := range strings.Fields(cmd.Use)[1:] {
		if w != strings.ToUpper(w) || strings.ContainsAny(w[:1], "-[(") {
			break
		}
		out = append(out, w)
	}
	return out
}

// subcommandArgs makes a group of commands ("keyturn token") refuse a word
// that names none of them with the closest ones, where cobra would print
// the group's help and exit 0.
func subcommandArgs(cmd *cobra.Command, args []string) error {
	if len(args) == 0 {
		return nil
	}
	msg := fmt.Sprintf("unknown command %q for %q", args[0], cmd.CommandPath())
	if s := cmd.SuggestionsFor(args[0]); len(s) > 0 {
		msg += fmt.Sprintf(" (did you mean %q?)", s[0])
	}
	return usageError{fmt.Errorf("%s", msg)}
}

// groupsRefuseUnknownWords applies subcommandArgs to every command with
// subcommands under root; a group that runs nothing shows its help.
func groupsRefuseUnknownWords(root *cobra.Command) {
	for _, c := range append([]*cobra.Command{root}, root.Commands()...) {
		if !c.HasSubCommands() {
			continue
		}
		c.Args = subcommandArgs
		if c.RunE == nil && c.Run == nil {
			c.RunE = func(cmd *cobra.Command, args []string) error { return cmd.Help() }
		}
		c.SuggestionsMinimumDistance = 2
	}
}

// flagError names the closest flag of cmd to an unknown one.
func flagError(cmd *cobra.Command, err error) error {
	const unknown = "unknown flag: --"
	msg := err.Error()
	if !strings.HasPrefix(msg, unknown) {
		return usageError{err}
	}
	given := strings.TrimPrefix(msg, unknown)
	best, bestDist := "", 3
	cmd.Flags().VisitAll(func(f *pflag.Flag) {
		if f.Hidden {
			return
		}
		d := editDistance(given, f.Name)
		if strings.HasPrefix(f.Name, given) {
			d = 1
		}
		if d < bestDist {
			best, bestDist = f.Name, d
		}
	})
	if best == "" {
		return usageError{err}
	}
	return usageError{fmt.Errorf("%s (did you mean --%s?)", msg, best)}
}

// editDistance is the Levenshtein distance between a and b.
func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur := make([]int, len(b)+1)
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev = cur
	}
	return prev[len(b)]
}
