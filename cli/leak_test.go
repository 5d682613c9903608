package cli

import (
	"strings"
	"testing"
)

func TestLeakNamesASlashCommandTokenAndRotatesIt(t *testing.T) {
	w := newWorld(t)
	w.mattermostAdmin("mm")
	r := w.run("", "token", "list", "mm", "--kind", "command", "--json")
	w.want(r, ExitOK, "token list")
	cmds := decodeJSON[[]struct{ Ref, ID, Label string }](t, r.out)
	leaked := w.sb.Mattermost.CommandToken(cmds[0].ID)

	w.want(w.run("", "leak", leaked), ExitUsage, "a token in argv")
	r = w.run(leaked+"\n", "leak")
	w.want(r, ExitOK, "leak")
	mustContain(t, "stdout", r.out, "MATCH mm "+cmds[0].Ref+"  "+cmds[0].Label, "found by: the token the server shows for mm "+cmds[0].Ref,
		"to do: rotate it", "Looked in:", "mm (mattermost): ")
	if strings.Contains(r.out, leaked) {
		t.Fatal("leak printed the token")
	}

	// On a terminal it asks with no echo; --rotate rotates and stores.
	r, prompts := w.runTTY("", []string{leaked}, "leak", "--rotate")
	w.want(r, ExitOK, "leak --rotate")
	if len(prompts) != 1 || !strings.Contains(prompts[0], "not shown") {
		t.Fatalf("prompts: %q", prompts)
	}
	now := w.sb.Mattermost.CommandToken(cmds[0].ID)
	if stored, ok := w.stored("mm/command/" + cmds[0].ID); now == leaked || !ok || stored != now {
		t.Fatal("leak --rotate must replace the token and store the new one")
	}
	mustContain(t, "stdout", r.out, "rotated mm "+cmds[0].Ref+": saved mm/command/"+cmds[0].ID)
	if strings.Contains(r.out, leaked) || strings.Contains(r.out, now) {
		t.Fatal("leak --rotate printed a token")
	}

	// The old token is dead: nothing matches, and it says where it looked.
	r = w.run(leaked, "leak", "--json")
	w.want(r, ExitFailure, "leak of a rotated token")
	rep := decodeJSON[leakJSON](t, r.out)
	if len(rep.Matches) != 0 || len(rep.Looked) != 2 || !strings.Contains(rep.Looked[1], "command (tokens compared)") {
		t.Fatalf("report: %+v", rep)
	}
	mustContain(t, "stderr", r.err, "matches nothing")
	w.want(w.run("\n", "leak"), ExitUsage, "an empty token")
}
