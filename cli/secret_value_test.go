package cli

import (
	"encoding/json"
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

// A not-saved token stored by hand under the name keyturn gave it is indexed
// as that token (account, kind, id), so 'token list' sees it held; any other
// name stays an import.
func TestSecretSetIndexesAnIssuedTokensName(t *testing.T) {
	w := newWorld(t)
	w.addRocketChat("rc", "alice")
	w.want(w.run("tok-value-0123456789abcdef", "secret", "set", "rc/pat/ci%20token"), 0, "secret set")
	w.want(w.run("other-value-0123456789abcdef", "secret", "set", "elsewhere/pat/x"), 0, "secret set (no such account)")
	r := w.run("", "secret", "list", "--json")
	w.want(r, 0, "secret list")
	var list []struct{ Name, Account, Kind, ID string }
	if err := json.Unmarshal([]byte(r.out), &list); err != nil {
		t.Fatalf("secret list --json: %v", err)
	}
	got := map[string][3]string{}
	for _, e := range list {
		got[e.Name] = [3]string{e.Account, e.Kind, e.ID}
	}
	if g := got["rc/pat/ci%20token"]; g != [3]string{"rc", "pat", "ci token"} {
		t.Errorf("rc/pat/ci%%20token indexed as %q, want account rc, kind pat, id \"ci token\"", g)
	}
	if g := got["elsewhere/pat/x"]; g[1] != "imported" {
		t.Errorf("a name of no configured account indexed as %q, want an import", g)
	}
}
