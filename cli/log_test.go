package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"keyturn/audit"
	"keyturn/sandbox/mattermostsim"
)

func TestLogShowsWhatCommandsDidWithTheirExitCodes(t *testing.T) {
	w := newWorld(t)
	w.mattermostAdmin("mm")
	w.rocketAlice("rc")
	list := decodeJSON[[]struct {
		Ref string `json:"ref"`
	}](t, w.run("", "token", "list", "mm", "--kind", "command", "--json").out)
	w.want(w.run("", "token", "rotate", "mm", list[0].Ref), 0, "rotate")
	w.want(w.run("", "token", "rotate", "mm", "command:nosuchcommand0000000000000"), 1, "rotate an unknown command")
	w.want(w.run("wrong\n", "login", "mm", "--password-stdin"), 1, "login with a wrong password")
	w.want(w.run("", "secret", "get", "mm/command/"+strings.TrimPrefix(list[0].Ref, "command:")), 0, "secret get")

	r := w.run("", "log", "--json")
	w.want(r, 0, "log --json")
	es := decodeJSON[[]audit.Entry](t, r.out)
	type line struct {
		action, acct, outcome string
		exit                  int
	}
	var got []line
	for _, e := range es {
		if e.Face != "cli" || e.Exit == nil {
			t.Fatalf("entry without face or exit: %+v", e)
		}
		got = append(got, line{e.Action, e.Account, e.Outcome, *e.Exit})
	}
	want := []line{{"login", "mm", "ok", 0}, {"login", "rc", "ok", 0}, {"rotate", "mm", "ok", 0}, {"rotate", "mm", "failed", 1},
		{"login", "mm", "failed", 1}, {"reveal", "mm", "ok", 0}}
	if len(got) != len(want) {
		t.Fatalf("log = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("entry %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	r = w.run("", "log", "--account", "rc")
	w.want(r, 0, "log --account rc")
	mustContain(t, "log --account rc", r.out, "TIME", "ACTION", "login", "rc", "ok", "cli")
	if strings.Contains(r.out, "rotate") {
		t.Errorf("log --account rc shows mm's entries:\n%s", r.out)
	}
	if r := w.run("", "log", "--since", "1h", "--limit", "1", "--json"); len(decodeJSON[[]audit.Entry](t, r.out)) != 1 {
		t.Errorf("log --since 1h --limit 1: %s", r.out)
	}
	if r := w.run("", "log", "--since", "2999-01-01", "--json"); len(decodeJSON[[]audit.Entry](t, r.out)) != 0 {
		t.Errorf("log --since the future: %s", r.out)
	}
	r = w.run("", "log", "--since", "last week")
	w.want(r, ExitUsage, "log --since with words")
	mustContain(t, "bad --since", r.err, `--since "last week"`, "7d", "2026-01-31")
	// The log itself is 0600 and holds none of the session's secrets.
	path := filepath.Join(w.dir, audit.FileName)
	fi, err := os.Stat(path)
	if err != nil || fi.Mode().Perm() != 0o600 {
		t.Fatalf("log file: %v, %v", fi, err)
	}
	raw, _ := os.ReadFile(path)
	for _, s := range append(w.secrets(), mattermostsim.AdminPassword) {
		if len(s) >= 8 && strings.Contains(string(raw), s) {
			t.Error("the audit log holds a secret")
		}
	}
}

func TestAuditLogThatCannotBeWrittenIsAWarningNotAFailure(t *testing.T) {
	w := newWorld(t)
	w.mattermostAdmin("mm")
	path := filepath.Join(w.dir, audit.FileName)
	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(path, 0o700); err != nil {
		t.Fatal(err)
	}
	list := decodeJSON[[]struct {
		Ref string `json:"ref"`
	}](t, w.run("", "token", "list", "mm", "--kind", "command", "--json").out)
	r := w.run("", "token", "rotate", "mm", list[0].Ref)
	w.want(r, 0, "rotate with a broken audit log")
	mustContain(t, "rotate", r.err, "keyturn: warning: the audit log could not be written")
	if _, ok := w.stored("mm/command/" + strings.TrimPrefix(list[0].Ref, "command:")); !ok {
		t.Fatal("the rotated token is not stored")
	}
}
