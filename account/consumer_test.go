package account_test

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"keyturn/account"
	"keyturn/config"
	"keyturn/sandbox/mattermostsim"
)

// heldCommands fetches n slash-command tokens into the store and returns
// their secret names.
func (w *world) heldCommands(n int) []string {
	w.t.Helper()
	ctx := context.Background()
	w.sb.Mattermost.SeedCommands(mattermostsim.TeamName, n)
	cmds, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	if err != nil || len(cmds) < n {
		w.t.Fatalf("commands: %d, %v", len(cmds), err)
	}
	var names []string
	for _, c := range cmds[:n] {
		iss, err := w.mgr.Fetch(ctx, "mm", c.Ref)
		if err != nil {
			w.t.Fatal(err)
		}
		names = append(names, iss.Name)
	}
	return names
}

func TestBulkRotationDeliversEachTokenAndAFailureKeepsIt(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	names := w.heldCommands(3)
	dir := t.TempDir()

	// A .env file with other lines that must stay byte for byte: CRLF, a
	// comment, an export, no newline at the end.
	envFile := filepath.Join(dir, "app.env")
	before := "# app settings\r\nexport OTHER=keep me\r\n  MM_TOKEN = old-value\r\nTAIL=1"
	if err := os.WriteFile(envFile, []byte(before), 0o644); err != nil {
		t.Fatal(err)
	}
	whole := filepath.Join(dir, "token")
	got := filepath.Join(dir, "from-stdin")
	for _, c := range []config.Consumer{
		{Secret: names[0], File: envFile, EnvKey: "MM_TOKEN"},
		{Secret: names[1], File: whole},
		{Secret: names[2], Command: "cat > " + got + "; echo oops; exit 3"},
	} {
		if _, err := w.mgr.AddConsumer(ctx, c); err != nil {
			t.Fatalf("AddConsumer %+v: %v", c, err)
		}
	}

	rep, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand, Parallel: 3})
	if err != nil || !rep.AllOK() {
		t.Fatalf("RotateAll: %v %+v", err, rep)
	}
	byName := map[string]account.BulkItem{}
	for _, it := range rep.Items {
		byName[it.Name] = it
	}
	tok0, tok1, tok2 := w.stored(names[0]), w.stored(names[1]), w.stored(names[2])

	data, _ := os.ReadFile(envFile)
	want := "# app settings\r\nexport OTHER=keep me\r\n  MM_TOKEN=" + tok0 + "\r\nTAIL=1"
	if string(data) != want {
		t.Fatalf(".env after the rotation:\n%q\nwant\n%q", redactAll(string(data), tok0), redactAll(want, tok0))
	}
	if fi, _ := os.Stat(envFile); fi.Mode().Perm() != 0o600 {
		t.Fatalf(".env mode %v, want 0600", fi.Mode().Perm())
	}
	if data, _ := os.ReadFile(whole); string(data) != tok1 {
		t.Fatal("the whole-file consumer does not hold exactly the new token")
	}
	if d := byName[names[0]].Deliveries; len(d) != 1 || d[0].Status != account.Delivered {
		t.Fatalf("env consumer report: %+v", d)
	}
	// The failing command got the token on stdin, is reported failed with
	// its exit status and words, and the token stays stored.
	if data, _ := os.ReadFile(got); string(data) != tok2+"\n" {
		t.Fatal("the command did not get the new token on its stdin")
	}
	d := byName[names[2]].Deliveries
	if len(d) != 1 || d[0].Status != account.DeliveryFailed || !strings.Contains(d[0].Error, "exited with status 3: oops") {
		t.Fatalf("failing consumer report: %+v", d)
	}
	if byName[names[2]].Status != account.BulkOK || !byName[names[2]].Stored {
		t.Fatalf("a failed delivery must leave the rotation ok and stored: %+v", byName[names[2]])
	}

	// Each delivery is in the audit log, never a token.
	log, _ := os.ReadFile(filepath.Join(filepath.Dir(w.cfg.Path), "audit.jsonl"))
	if strings.Count(string(log), `"action":"deliver"`) != 3 || !strings.Contains(string(log), `"secret":"`+names[2]+`","outcome":"failed"`) {
		t.Fatalf("audit log: %s", redactAll(redactAll(redactAll(string(log), tok0), tok1), tok2))
	}
	for _, tok := range []string{tok0, tok1, tok2} {
		if strings.Contains(string(log), tok) {
			t.Fatal("the audit log holds a token")
		}
	}

	// deliver retries, from the store.
	os.Remove(envFile)
	ds, err := w.mgr.Deliver(ctx, names[0])
	if err != nil || len(ds) != 1 || ds[0].Status != account.Delivered {
		t.Fatalf("Deliver: %+v %v", ds, err)
	}
	if data, _ := os.ReadFile(envFile); string(data) != "MM_TOKEN="+tok0+"\n" {
		t.Fatal("deliver to a missing .env file must create it with the one line")
	}
}

func TestConsumerFileIsNeverWrittenThroughALink(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	names := w.heldCommands(1)
	dir := t.TempDir()
	target := filepath.Join(dir, "elsewhere")
	os.WriteFile(target, []byte("untouched"), 0o644)
	link := filepath.Join(dir, "token")
	if _, err := w.mgr.AddConsumer(ctx, config.Consumer{Secret: names[0], File: link}); err != nil {
		t.Fatal(err)
	}
	// The link appears after the consumer was added.
	if err := os.Symlink(target, link); err != nil {
		t.Fatal(err)
	}
	ds, err := w.mgr.Deliver(ctx, names[0])
	if err != nil || len(ds) != 1 || ds[0].Status != account.DeliveryFailed || !strings.Contains(ds[0].Error, "symbolic link") {
		t.Fatalf("Deliver through a link: %+v %v", ds, err)
	}
	if data, _ := os.ReadFile(target); string(data) != "untouched" {
		t.Fatal("the link's target was written")
	}
	// Added as a link: refused up front.
	var ie *account.InputError
	if _, err := w.mgr.AddConsumer(ctx, config.Consumer{Secret: names[0], File: link, EnvKey: "X"}); !errors.As(err, &ie) {
		t.Fatalf("AddConsumer on a link: %v", err)
	}
}

func TestConsumerCommandGetsNoSecretsInItsEnvironment(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	names := w.heldCommands(1)
	t.Setenv("KEYTURN_PASSPHRASE", "file-store-passphrase")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "other-secret")
	out := filepath.Join(t.TempDir(), "env")
	if _, err := w.mgr.AddConsumer(ctx, config.Consumer{Secret: names[0], Command: "env > " + out + "; cat >/dev/null"}); err != nil {
		t.Fatal(err)
	}
	if ds, err := w.mgr.Deliver(ctx, names[0]); err != nil || ds[0].Status != account.Delivered {
		t.Fatalf("Deliver: %+v %v", ds, err)
	}
	env, _ := os.ReadFile(out)
	for _, bad := range []string{"KEYTURN_", "AWS_SECRET", w.stored(names[0])} {
		if strings.Contains(string(env), bad) {
			t.Errorf("the consumer's environment holds %s", bad[:min(len(bad), 8)])
		}
	}
	if !strings.Contains(string(env), "PATH=") {
		t.Error("the consumer's environment lacks PATH")
	}
}

func TestConsumerInputErrors(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	names := w.heldCommands(1)
	tok := w.stored(names[0])
	dir := t.TempDir()
	for _, tc := range []struct {
		c    config.Consumer
		want string
	}{
		{config.Consumer{Secret: names[0]}, "a file (--file"},
		{config.Consumer{Secret: names[0], File: "x", Command: "y"}, "not both"},
		{config.Consumer{Secret: names[0], Command: "y", EnvKey: "K"}, "--env-key goes with --file"},
		{config.Consumer{Secret: names[0], File: filepath.Join(dir, "f"), EnvKey: "1BAD"}, "--env-key \"1BAD\""},
		{config.Consumer{Secret: "mm/command/nosuch", File: filepath.Join(dir, "f")}, "no secret named"},
		{config.Consumer{Secret: "mm/credential", File: filepath.Join(dir, "f")}, "not the name of an issued token"},
		{config.Consumer{Secret: names[0], File: filepath.Join(dir, "missing", "f")}, "directory does not exist"},
		{config.Consumer{Secret: names[0], File: filepath.Join(filepath.Dir(w.cfg.Path), "x.env")}, "among keyturn's own files"},
		{config.Consumer{Secret: names[0], Command: "curl -H 'X: " + tok + "' x"}, "holds the secret's value"},
	} {
		_, err := w.mgr.AddConsumer(ctx, tc.c)
		var ie *account.InputError
		if !errors.As(err, &ie) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("AddConsumer(%s): %v, want an InputError with %q", account.DescribeConsumer(tc.c)[:min(20, len(account.DescribeConsumer(tc.c)))], err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), tok) {
			t.Error("an error holds the token")
		}
	}
	f := filepath.Join(dir, "f")
	if _, err := w.mgr.AddConsumer(ctx, config.Consumer{Secret: names[0], File: f}); err != nil {
		t.Fatal(err)
	}
	if _, err := w.mgr.AddConsumer(ctx, config.Consumer{Secret: names[0], File: f}); err == nil || !strings.Contains(err.Error(), "already delivers") {
		t.Fatalf("a second same consumer: %v", err)
	}
	if n, err := w.mgr.RemoveConsumers(ctx, names[0], config.Consumer{Command: "nope"}); n != 0 || err == nil || !strings.Contains(err.Error(), "it has: file "+f) {
		t.Fatalf("remove of no such consumer: %d %v", n, err)
	}
	if n, err := w.mgr.RemoveConsumers(ctx, names[0], config.Consumer{File: f}); n != 1 || err != nil {
		t.Fatalf("remove: %d %v", n, err)
	}
	if cs, _ := w.mgr.Consumers(""); len(cs) != 0 {
		t.Fatalf("consumers left: %+v", cs)
	}
	raw, _ := os.ReadFile(w.cfg.Path)
	if strings.Contains(string(raw), tok) {
		t.Fatal("the config file holds the token")
	}
}

func redactAll(s, tok string) string { return strings.ReplaceAll(s, tok, "[token]") }

// Delivery can be set up before keyturn holds the token: the server lists
// it, and its first rotation delivers. A token the server does not list is
// still refused.
func TestConsumerForATokenNotHeldYet(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	cmds, err := w.mgr.Tokens(ctx, "mm", account.ListFilter{Kind: account.KindCommand})
	if err != nil || len(cmds) == 0 || cmds[0].Stored {
		t.Fatalf("want a command keyturn does not hold: %v %+v", err, cmds)
	}
	ref := cmds[0].Ref
	name := account.SecretName("mm", ref)
	env := filepath.Join(t.TempDir(), "bot.env")
	if _, err := w.mgr.AddConsumer(ctx, config.Consumer{Secret: name, File: env, EnvKey: "BOT_TOKEN"}); err != nil {
		t.Fatalf("AddConsumer for a listed token not held yet: %v", err)
	}
	iss, err := w.mgr.Rotate(ctx, "mm", ref, nil)
	if err != nil {
		t.Fatal(err)
	}
	got, _ := os.ReadFile(env)
	if string(got) != "BOT_TOKEN="+w.stored(iss.Name)+"\n" {
		t.Errorf("the env file after the first rotation: %q", got)
	}
	_, err = w.mgr.AddConsumer(ctx, config.Consumer{Secret: "mm/command/nosuch0000000000000000000", File: env})
	var ie *account.InputError
	if !errors.As(err, &ie) || !strings.Contains(err.Error(), "lists no command:nosuch") {
		t.Errorf("AddConsumer for a command the server does not list: %v", err)
	}
	if _, err := w.mgr.AddConsumer(ctx, config.Consumer{Secret: "other/command/abc", File: env}); err == nil || !strings.Contains(err.Error(), `no account "other"`) {
		t.Errorf("AddConsumer for an unknown account: %v", err)
	}
}

// The audit log tells a rotation before the deliveries it leads to, for
// one token and in a bulk run: read top to bottom, a delivery never comes
// before the token it delivers was issued.
func TestAuditLogsARotationBeforeItsDeliveries(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx := context.Background()
	names := w.heldCommands(2)
	dir := t.TempDir()
	for i, n := range names {
		if _, err := w.mgr.AddConsumer(ctx, config.Consumer{Secret: n, File: filepath.Join(dir, "t"+string(rune('0'+i)))}); err != nil {
			t.Fatal(err)
		}
	}
	_, ref, _ := account.ParseSecretName(names[0])
	if _, err := w.mgr.Rotate(ctx, "mm", ref, nil); err != nil {
		t.Fatal(err)
	}
	if rep, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand}); err != nil || !rep.AllOK() {
		t.Fatalf("RotateAll: %v %+v", err, rep)
	}
	log, err := os.ReadFile(filepath.Join(filepath.Dir(w.cfg.Path), "audit.jsonl"))
	if err != nil {
		t.Fatal(err)
	}
	// Each secret's rotations and deliveries, in file order.
	seen := map[string][]string{}
	for _, line := range strings.Split(strings.TrimSpace(string(log)), "\n") {
		for _, n := range names {
			if !strings.Contains(line, `"secret":"`+n+`"`) {
				continue
			}
			for _, act := range []string{"rotate", "deliver"} {
				if strings.Contains(line, `"action":"`+act+`"`) {
					seen[n] = append(seen[n], act)
				}
			}
		}
	}
	want := map[string]string{
		names[0]: "rotate deliver rotate deliver", // alone, then in the run
		names[1]: "rotate deliver",
	}
	for _, n := range names {
		if got := strings.Join(seen[n], " "); got != want[n] {
			t.Errorf("%s: the audit log says %q, want %q", n, got, want[n])
		}
	}
}
