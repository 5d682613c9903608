package account

import "keyturn/textsafe"

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
