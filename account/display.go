package account

import (
	"strings"

	"keyturn/textsafe"
)

// cleanText makes the server's words in t safe to show (no escape
// sequence reaches a terminal, or a JSON consumer that prints what it
// reads). t.Ref stays as the server gave it: calls about the token need
// it verbatim.
func (t *Token) cleanText() {
	t.RefString = textsafe.Line(t.RefString)
	t.ID = textsafe.Line(t.ID)
	t.Label = textsafe.Line(t.Label)
	t.Team = textsafe.Line(t.Team)
	t.LastPart = textsafe.Line(t.LastPart)
	t.Secret = textsafe.Line(t.Secret)
}

// ShellArg writes s as one shell word, for the commands messages tell the
// person to run (a PAT's name may hold spaces or quotes): bare when safe,
// else in double quotes when nothing in it is special there, else in
// single quotes.
func ShellArg(s string) string {
	if s != "" && strings.Trim(s, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789_./:@%+=,-") == "" {
		return s
	}
	if !strings.ContainsAny(s, "$`\\\"!") {
		return `"` + s + `"`
	}
	return "'" + strings.ReplaceAll(s, "'", `'\''`) + "'"
}
