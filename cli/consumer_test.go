package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// heldCommands fetches every slash-command token of the account into the
// store and returns the secret names.
func (w *world) heldCommands(acct string) []string {
	w.t.Helper()
	r := w.run("", "token", "list", acct, "--kind", "command", "--json")
	w.want(r, ExitOK, "token list")
	var names []string
	for _, tk := range decodeJSON[[]struct{ Ref string }](w.t, r.out) {
		r := w.run("", "token", "fetch", acct, tk.Ref, "--json")
		w.want(r, ExitOK, "token fetch")
		names = append(names, decodeJSON[issuedJSON](w.t, r.out).Name)
	}
	return names
}

func TestConsumerDeliveryAfterBulkRotation(t *testing.T) {
	w := newWorld(t)
	w.mattermostAdmin("mm")
	names := w.heldCommands("mm")
	if len(names) < 2 {
		t.Fatalf("commands: %v", names)
	}
	dir := t.TempDir()
	envFile := filepath.Join(dir, ".env")
	before := "# deploy\nexport A=1\nMM_TOKEN=old\n\nB='two words'\n"
	os.WriteFile(envFile, []byte(before), 0o600)

	// Bad input: exit 2 with what is allowed.
	w.want(w.run("", "consumer", "add", names[0], "--env-key", "K", "--command", "cat"), ExitUsage, "--env-key without --file")
	w.want(w.run("", "consumer", "add", names[0]), ExitUsage, "no --file or --command")
	r := w.run("", "consumer", "add", "mm/command/nosuch", "--file", envFile)
	w.want(r, ExitUsage, "unknown secret")
	mustContain(t, "stderr", r.err, "no secret named", "keyturn token list mm")
	w.want(w.run("", "consumer", "remove", names[0]), ExitUsage, "remove without a consumer")

	w.want(w.run("", "consumer", "add", names[0], "--file", envFile, "--env-key", "MM_TOKEN", "--verify", "grep -q MM_TOKEN "+envFile), ExitOK, "consumer add .env")
	w.want(w.run("", "consumer", "add", names[1], "--command", "cat >/dev/null; echo 'cannot reach app' >&2; exit 7"), ExitOK, "consumer add failing command")
	r = w.run("", "consumer", "list", "--json")
	w.want(r, ExitOK, "consumer list")
	if cs := decodeJSON[[]map[string]string](t, r.out); len(cs) != 2 || cs[0]["env_key"] != "MM_TOKEN" || cs[1]["command"] == "" {
		t.Fatalf("consumer list: %v", cs)
	}

	// The bulk rotation stores every token; the consumers are reported; a
	// failing consumer makes the exit 1 and leaves its token stored.
	r = w.run("", "token", "rotate", "mm", "--all", "--kind", "command")
	w.want(r, ExitFailure, "rotate --all with a failing consumer")
	mustContain(t, "stdout", r.out, "delivered "+names[0]+" to file "+envFile+" (MM_TOKEN=…), verified by grep",
		"delivery FAILED: "+names[1]+" to command", "exited with status 7: cannot reach app")
	mustContain(t, "stderr", r.err, "keyturn deliver SECRET", names[1])
	tok0, ok0 := w.stored(names[0])
	tok1, ok1 := w.stored(names[1])
	if !ok0 || !ok1 || tok1 != w.sb.Mattermost.CommandToken(strings.TrimPrefix(names[1], "mm/command/")) {
		t.Fatal("the rotated tokens must be stored, the failing consumer's too")
	}
	data, _ := os.ReadFile(envFile)
	if want := strings.Replace(before, "MM_TOKEN=old", "MM_TOKEN="+tok0, 1); string(data) != want {
		t.Fatalf(".env after the rotation: %q", w.redact(string(data)))
	}

	// Fixed, the consumer gets the stored token with deliver.
	w.want(w.run("", "consumer", "remove", names[1], "--command", "nope"), ExitUsage, "remove an unknown consumer")
	w.want(w.run("", "consumer", "remove", names[1], "--all"), ExitOK, "consumer remove")
	out := filepath.Join(dir, "tok")
	w.want(w.run("", "consumer", "add", names[1], "--command", "cat > "+out), ExitOK, "consumer add")
	r = w.run("", "deliver", names[1])
	w.want(r, ExitOK, "deliver")
	mustContain(t, "stdout", r.out, "delivered "+names[1]+" to command cat > "+out)
	if data, _ := os.ReadFile(out); string(data) != tok1+"\n" {
		t.Fatal("deliver did not hand the stored token to the command")
	}

	// A single rotation reports its deliveries in JSON.
	r = w.run("", "token", "rotate", "mm", "command:"+strings.TrimPrefix(names[1], "mm/command/"), "--json")
	w.want(r, ExitOK, "token rotate")
	iss := decodeJSON[issuedJSON](t, r.out)
	if len(iss.Deliveries) != 1 || iss.Deliveries[0].Status != "delivered" {
		t.Fatalf("deliveries: %+v", iss.Deliveries)
	}
	if data, _ := os.ReadFile(out); string(data) != w.lastIssued("mattermost", "command")+"\n" {
		t.Fatal("the single rotation did not deliver the new token")
	}
	raw, _ := os.ReadFile(w.cfg)
	for _, s := range w.secrets() {
		if len(s) >= 8 && strings.Contains(string(raw), s) {
			t.Fatal("the config file holds a secret")
		}
	}
}
