package cli

import (
	"strings"
	"testing"

	"keyturn/config"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/rocketchatsim"
)

// A resume over tokens the store refused in the stopped run reports them
// NOT saved and exits 3: keyturn has no copy of a PAT it never stored.
func TestTokenRotateAllResumeReportsUnsavedTokens(t *testing.T) {
	w := newWorld(t)
	w.addRocketChat("rc", "carol")
	w.want(w.run(rocketchatsim.CarolPassword+"\n", "login", "rc", "--password-stdin"), ExitOK, "login carol")
	pw := []string{"--method", "password", "--code", rocketchatsim.CarolPassword}
	w.want(w.run("", append([]string{"token", "create", "rc", "deploy"}, pw...)...), ExitOK, "create")
	w.store.Ops = []string{"set"}
	sel := append([]string{"token", "rotate", "rc", "--all"}, pw...)
	w.want(w.run("", sel...), ExitNotStored, "rotate --all with a failing store")
	w.store.Ops = []string{"none"}
	r := w.run("", append(sel, "--resume")...)
	w.want(r, ExitNotStored, "resume over an unsaved PAT")
	mustContain(t, "stdout", r.out, "NOT SAVED pat:deploy", "rc/pat/deploy")
	mustContain(t, "stderr", r.err, "NOT saved")
	if v, ok := w.stored("rc/pat/deploy"); ok && v == w.lastIssued("rocketchat", "pat") {
		t.Fatal("the test store holds the token the store refused")
	}
}

// The text report names the secret an unsaved Mattermost user token
// belongs under (a new token, under a new name) and never points at the
// old ref's secret, which holds the old token.
func TestTokenRotateAllNamesTheNewSecretOfAnUnsavedUserToken(t *testing.T) {
	w := newWorld(t)
	// Before 11.10 a rotation makes a new token under a new name.
	w.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.OlderServer = true })
	w.mattermostAdmin("mm")
	w.want(w.run("", "token", "create", "mm", "ci"), ExitOK, "create a user token")
	old := w.ledger("mattermost", "user-token")
	oldID := old[len(old)-1].ID
	w.store.Ops = []string{"set"}
	r := w.run("", "token", "rotate", "mm", "--all", "--kind", "user-token")
	w.want(r, ExitNotStored, "rotate --all with a failing store")
	issued := w.ledger("mattermost", "user-token")
	newer := issued[len(issued)-1]
	if newer.ID == oldID {
		t.Fatal("no new user token was issued")
	}
	newName := "mm/user-token/" + newer.ID
	var line string
	for _, l := range strings.Split(r.out, "\n") {
		if strings.Contains(l, newer.Token) {
			line = l
		}
	}
	if !strings.Contains(line, newName) {
		t.Fatalf("the line with the unsaved token does not name %s: %q", newName, strings.ReplaceAll(line, newer.Token, "<token>"))
	}
	mustContain(t, "stderr", r.err, "keyturn secret set "+newName)
	if strings.Contains(r.err, "secret set mm/user-token/"+oldID) {
		t.Fatal("the hint points at the old token's secret")
	}
}

// 'secret list' puts back index entries a crash lost, from a store that
// can list what it holds, and says so.
func TestSecretListRepairsTheIndex(t *testing.T) {
	w := newWorld(t)
	w.mattermostAdmin("mm")
	w.want(w.run("", "token", "create", "mm", "ci"), ExitOK, "create a user token")
	l := w.ledger("mattermost", "user-token")
	name := "mm/user-token/" + l[len(l)-1].ID
	err := config.Open(w.cfg).Update(func(c *config.Config) error {
		if !c.RemoveSecret(name) {
			t.Fatalf("%s was not indexed", name)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	r := w.run("", "secret", "list")
	w.want(r, ExitOK, "secret list")
	mustContain(t, "stdout", r.out, name)
	mustContain(t, "stderr", r.err, "put back 1 index entry", name)
	w.want(w.run("", "secret", "list"), ExitOK, "secret list again")
	if r := w.run("", "secret", "list"); strings.Contains(r.err, "put back") {
		t.Fatal("the second list found something to repair again")
	}
}
