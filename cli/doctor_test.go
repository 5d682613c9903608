package cli

import (
	"os"
	"testing"
)

func TestDoctorHealthyThenBroken(t *testing.T) {
	w := newWorld(t)
	w.mattermostAdmin("mm")
	w.rocketAlice("rc")
	r := w.run("", "doctor")
	w.want(r, ExitOK, "doctor on a healthy setup")
	mustContain(t, "stdout", r.out, "account mm\n", "ok      version: 11.10.0", "ok      clock: within", "0 problem(s)",
		"ok      answers: the store answered a read")

	// A server nobody answers at, and a config file others can read.
	w.want(w.run("", "account", "add", "gone", "--service", "mattermost", "--url", "http://127.0.0.1:1", "--user", "x"), ExitOK, "account add")
	if err := os.Chmod(w.cfg, 0o644); err != nil {
		t.Fatal(err)
	}
	r = w.run("", "doctor")
	w.want(r, ExitFailure, "doctor on a broken setup")
	mustContain(t, "stdout", r.out, "PROBLEM reachable: mattermost: GET /api/v4/system/ping", "→ check the URL (http://127.0.0.1:1)",
		"PROBLEM config file: "+w.cfg+" has mode 0644", "→ chmod 600 "+w.cfg, "2 problem(s)")
	mustContain(t, "stderr", r.err, "2 problem(s) found")

	r = w.run("", "doctor", "--json")
	w.want(r, ExitFailure, "doctor --json")
	rep := decodeJSON[struct {
		Problems int
		Checks   []struct{ Area, Check, Status, Fix string }
	}](t, r.out)
	if rep.Problems != 2 || len(rep.Checks) < 10 {
		t.Fatalf("doctor --json: %+v", rep)
	}
	w.want(w.run("", "doctor", "extra"), ExitUsage, "doctor with an argument")
}
