package cli

import (
	"strings"
	"testing"
)

// A value holding control characters (a hostile server can issue one) is
// shown quoted on a terminal, so the terminal does not act on it, and goes
// out exactly as stored when piped.
func TestSecretValueWithControlsIsQuotedOnATerminal(t *testing.T) {
	w := newWorld(t)
	value := "tok\x1b]52;c;cHduZWQ=\x07en\u202e"
	w.want(w.run(value, "secret", "set", "imported/odd"), 0, "secret set")

	tty := w.runIO(IO{In: strings.NewReader(""), OutTerminal: true}, "secret", "get", "imported/odd")
	w.want(tty, 0, "secret get on a terminal")
	if strings.ContainsAny(tty.out, "\x1b\x07\u202e") {
		t.Errorf("secret get on a terminal printed control characters: %q", tty.out)
	}
	if got := strings.TrimSpace(tty.out); got != `"tok\x1b]52;c;cHduZWQ=\aen\u202e"` {
		t.Errorf("secret get on a terminal = %s, want the Go-quoted value", got)
	}
	if !strings.Contains(tty.err, "pipe the output to get it exactly") {
		t.Errorf("stderr does not say how to get the raw value: %q", tty.err)
	}

	piped := w.run("", "secret", "get", "imported/odd")
	w.want(piped, 0, "secret get piped")
	if piped.out != value {
		t.Errorf("secret get piped = %q, want the value exactly", piped.out)
	}
	if piped.err != "" {
		t.Errorf("secret get piped wrote to stderr: %q", piped.err)
	}
}
