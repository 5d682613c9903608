package cli

import (
	"strings"
	"testing"

	rocketchatsim "keyturn/sandbox/rocketchat"
)

// TestTokenRotateAllNotSavedLinesAreTerminalSafe: a PAT's name is the
// server's text (anyone with the account may have named it); the lines
// that hand out a token the store refused name it, cleaned.
func TestTokenRotateAllNotSavedLinesAreTerminalSafe(t *testing.T) {
	w := newWorld(t)
	w.addRocketChat("rc", "carol")
	w.want(w.run(rocketchatsim.CarolPassword+"\n", "login", "rc", "--password-stdin"), ExitOK, "login carol")
	pw := []string{"--method", "password", "--code", rocketchatsim.CarolPassword}
	w.want(w.run("", append([]string{"token", "create", "rc", "dep\x1b]52;c;cHduZWQ=\aloy"}, pw...)...), ExitOK, "create")
	w.store.Ops = []string{"set"}
	r := w.run("", append([]string{"token", "rotate", "rc", "--all"}, pw...)...)
	w.want(r, ExitNotStored, "rotate --all with a failing store")
	mustContain(t, "stdout", r.out, "NOT SAVED pat:dep")
	tok := w.lastIssued("rocketchat", "pat")
	for stream, s := range map[string]string{"stdout": r.out, "stderr": r.err} {
		if err := terminalSafe(s); err != nil {
			t.Errorf("%s %v:\n%q", stream, err, strings.ReplaceAll(s, tok, "<token>"))
		}
	}
}
