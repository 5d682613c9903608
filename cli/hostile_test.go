package cli

import (
	"fmt"
	"strings"
	"testing"
	"unicode/utf8"

	"keyturn/account"
	"keyturn/sandbox"
	"keyturn/sandbox/capillarysim"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/rocketchatsim"
)

// TestHostileServersReachNoTerminal runs the commands that show server
// text against servers that put escape sequences (OSC 52, a screen clear,
// C1 CSI, a bidi override, DEL, CR) in every name and message: no control
// byte may reach stdout or stderr, in tables, JSON or error messages.
func TestHostileServersReachNoTerminal(t *testing.T) {
	t.Parallel()
	w := newWorldWith(t, sandbox.Options{Hostile: true})
	var shown strings.Builder
	run := func(what string, code int, stdin string, args ...string) result {
		t.Helper()
		r := w.run(stdin, args...)
		if r.code != code {
			t.Fatalf("%s: exit %d, want %d\nstdout: %q\nstderr: %q", what, r.code, code, r.out, r.err)
		}
		for stream, s := range map[string]string{"stdout": r.out, "stderr": r.err} {
			if err := terminalSafe(s); err != nil {
				t.Errorf("%s: %s %v:\n%q", what, stream, err, s)
			}
		}
		shown.WriteString(r.out + r.err)
		return r
	}
	now := w.sb.Env.Clock.Now

	// Mattermost: a wrong password, a wrong code, then in.
	w.addMattermost("mm", mattermostsim.AdminUsername)
	run("mattermost wrong password", 1, "wrong-password\n", "login", "mm", "--password-stdin")
	run("mattermost wrong code", 1, mattermostsim.AdminPassword+"\n", "login", "mm", "--password-stdin", "--code", "000000")
	run("mattermost login", 0, mattermostsim.AdminPassword+"\n", "login", "mm", "--password-stdin", "--code", totp(mattermostsim.AdminTOTPSecret, now()))
	run("account show", 0, "", "account", "show", "mm")
	run("account show --json", 0, "", "account", "show", "mm", "--json")
	run("token list", 0, "", "token", "list", "mm")
	r := run("token list --json", 0, "", "token", "list", "mm", "--json")
	toks := decodeJSON[[]account.Token](t, r.out)
	cmd := firstOf(t, toks, account.KindCommand)
	run("token rotate", 0, "", "token", "rotate", "mm", cmd.RefString)
	run("token rotate --json", 0, "", "token", "rotate", "mm", cmd.RefString, "--json")
	r = run("token create --json", 0, "", "token", "create", "mm", "ci-bot", "--json")
	created := decodeJSON[map[string]any](t, r.out)
	run("token rotate user token", 0, "", "token", "rotate", "mm", created["ref"].(string))
	run("token rotate --all", 0, "", "token", "rotate", "mm", "--all", "--kind", "webhook")
	run("token rotate --all --json", 0, "", "token", "rotate", "mm", "--all", "--kind", "webhook", "--json")
	run("token list --team unknown", 1, "", "token", "list", "mm", "--team", "nope")
	run("rotate a command the server lacks", 1, "", "token", "rotate", "mm", "command:"+strings.Repeat("z", 26))

	// Rocket.Chat: a wrong password, then in; a PAT named with escapes.
	w.addRocketChat("rc", "alice")
	run("rocket.chat wrong password", 1, "wrong-password\n", "login", "rc", "--password-stdin")
	run("rocket.chat login", 0, rocketchatsim.AlicePassword+"\n", "login", "rc", "--password-stdin", "--code", totp(rocketchatsim.AliceTOTP, now()))
	run("rocket.chat token list", 0, "", "token", "list", "rc")
	run("rocket.chat token list --json", 0, "", "token", "list", "rc", "--json")

	// Capillary: a wrong password, then in.
	w.addCapillary("cap", "MOBILE", capillarysim.AliceMobile)
	run("capillary wrong password", 1, "wrong-password\n", "login", "cap", "--password-stdin")
	run("capillary login", 0, capillarysim.AlicePassword+"\n"+capillarysim.AliceMFAPassword+"\n", "login", "cap", "--password-stdin")
	run("capillary token list", 0, "", "token", "list", "cap")

	run("secret list", 0, "", "secret", "list")
	run("secret list --json", 0, "", "secret", "list", "--json")
	run("policy set", 0, "", "policy", "set", "command", "1h")
	run("status", 0, "", "status")
	run("status --json", 0, "", "status", "--json")
	// Every command was made just now: due within the day.
	run("check", ExitAttention, "", "check", "--warn-within", "1d")
	run("check --json", ExitAttention, "", "check", "--warn-within", "1d", "--json")
	run("log", 0, "", "log")
	run("log --json", 0, "", "log", "--json")

	// The hostile text did reach keyturn, and was shown defused.
	if !strings.Contains(shown.String(), "]52;c;") {
		t.Errorf("no hostile text was shown at all: the test proves nothing")
	}
}

// terminalSafe says what in s a terminal would act on: a C0 control other
// than tab and newline, DEL, a C1 control, a bidi override or isolate, or
// a byte that is not UTF-8 (a raw 0x9b is CSI to some terminals).
func terminalSafe(s string) error {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		switch {
		case r == utf8.RuneError && n == 1:
			return fmt.Errorf("holds the invalid byte %#x at %d", s[i], i)
		case r < 0x20 && r != '\t' && r != '\n', r >= 0x7f && r <= 0x9f,
			r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069, r == 0x200e, r == 0x200f, r == 0x061c:
			return fmt.Errorf("holds %U at %d", r, i)
		}
		i += n
	}
	return nil
}

// TestWriteJSONEscapesWhatEncodingJSONLeaves: DEL, C1 controls and bidi
// overrides are written as \u escapes, and the decoded value is unchanged
// (a token printed as JSON must stay the token).
func TestWriteJSONEscapesWhatEncodingJSONLeaves(t *testing.T) {
	v := map[string]string{"token": "a\x7fb\u009bc\u202ed\u2069e\x1bf\u0085g" + "ünï 名"}
	var b strings.Builder
	if err := writeJSON(&b, v); err != nil {
		t.Fatal(err)
	}
	if err := terminalSafe(b.String()); err != nil {
		t.Fatalf("writeJSON output %v: %q", err, b.String())
	}
	if got := decodeJSON[map[string]string](t, b.String()); got["token"] != v["token"] {
		t.Fatalf("decoded %q, want %q", got["token"], v["token"])
	}
}
