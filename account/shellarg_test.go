package account

import (
	"strings"
	"testing"
)

// A command a message tells the person to run must work when pasted, also
// for a PAT named with spaces, quotes or shell characters.
func TestShellArg(t *testing.T) {
	for in, want := range map[string]string{
		"command:kq3n9x8f":         "command:kq3n9x8f",
		"rc/pat/my%20deploy%20bot": "rc/pat/my%20deploy%20bot",
		"pat:my deploy bot":        `"pat:my deploy bot"`,
		"pat:it's":                 `"pat:it's"`,
		"pat:it's $HOME":           `'pat:it'\''s $HOME'`,
		"pat:a`b`":                 "'pat:a`b`'",
		"":                         `""`,
	} {
		if got := ShellArg(in); got != want {
			t.Errorf("ShellArg(%q) = %s, want %s", in, got, want)
		}
	}
}

// The recovery named for a PAT whose creation was cut short quotes its name.
func TestInFlightRecoverQuotesAPATName(t *testing.T) {
	f := inFlightIssue("rc", Ref{Kind: KindPAT, ID: "my deploy bot"}, false)
	if want := `'keyturn token revoke rc "pat:my deploy bot"'`; !strings.Contains(f.Recover, want) {
		t.Fatalf("%q lacks %q", f.Recover, want)
	}
}
