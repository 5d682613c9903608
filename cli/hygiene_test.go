package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"keyturn/sandbox"
	"keyturn/sandbox/capillarysim"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/rocketchatsim"
	"keyturn/sandbox/simnet"
)

// TestSecretHygiene runs every command of a full session through the built
// binary with debug logging on, then searches stdout, stderr, the debug log,
// the config file, the rotation journal, the audit log and every process argument seen
// during the run for every password, code and token involved: a secret may
// appear only on the stdout of a command that was asked to reveal it.
func TestSecretHygiene(t *testing.T) {
	if testing.Short() {
		t.Skip("builds the binary")
	}
	if runtime.GOOS != "linux" {
		t.Skip("reads process arguments from /proc")
	}
	dir := t.TempDir()
	bin := filepath.Join(dir, "keyturn")
	build := exec.Command("go", "build", "-o", bin, ".")
	build.Dir = ".."
	if out, err := build.CombinedOutput(); err != nil {
		t.Fatalf("go build: %v\n%s", err, out)
	}
	sb, err := sandbox.Start(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer sb.Close()

	cfg := filepath.Join(dir, "config.json")
	logFile := filepath.Join(dir, "debug.log")
	const passphrase = "SENTINEL-passphrase-4242"
	env := append(os.Environ(),
		"KEYTURN_CONFIG="+cfg, "KEYTURN_STORE=file", "KEYTURN_STORE_FILE="+filepath.Join(dir, "secrets.enc"),
		"KEYTURN_FILE_PASSPHRASE="+passphrase, "KEYTURN_DEBUG="+logFile, "NO_COLOR=1")

	// Every argument of this test's descendants (keyturn and whatever it
	// runs) while the session runs. Other processes on the machine are not
	// ours to judge: another test's sandbox sends the same seeded codes.
	argvs := map[string]bool{}
	var argMu sync.Mutex
	stop := make(chan struct{})
	var watch sync.WaitGroup
	watch.Add(1)
	go func() {
		defer watch.Done()
		for {
			matches, _ := filepath.Glob("/proc/[0-9]*/cmdline")
			parents := procParents()
			for _, m := range matches {
				if !descendsFrom(parents, filepath.Base(filepath.Dir(m)), strconv.Itoa(os.Getpid())) {
					continue
				}
				if b, err := os.ReadFile(m); err == nil && len(b) > 0 {
					argMu.Lock()
					argvs[string(b)] = true
					argMu.Unlock()
				}
			}
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
		}
	}()

	type run struct {
		args   []string
		reveal bool // the person asked to see a secret on stdout
		out    string
		err    string
		code   int
	}
	var runs []*run
	do := func(stdin string, reveal bool, args ...string) *run {
		t.Helper()
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		c := exec.CommandContext(ctx, bin, args...)
		c.Env = env
		c.Stdin = strings.NewReader(stdin)
		var out, errb bytes.Buffer
		c.Stdout, c.Stderr = &out, &errb
		_ = c.Run()
		r := &run{args: args, reveal: reveal, out: out.String(), err: errb.String(), code: c.ProcessState.ExitCode()}
		runs = append(runs, r)
		return r
	}
	must := func(r *run, code int) {
		t.Helper()
		if r.code != code {
			t.Fatalf("keyturn %s: exit %d, want %d", strings.Join(r.args, " "), r.code, code)
		}
	}
	now := func() time.Time { return sb.Env.Clock.Now() }
	var codes []string
	code := func(secret string, shift time.Duration) string {
		c := simnet.TOTPCode(secret, now().Add(shift))
		codes = append(codes, c)
		return c
	}

	must(do("", false, "account", "add", "mm", "--service", "mattermost", "--url", sb.MattermostURL, "--user", mattermostsim.AdminUsername), 0)
	must(do("", false, "account", "add", "rc", "--service", "rocketchat", "--url", sb.RocketChatURL, "--user", "alice"), 0)
	must(do("", false, "account", "add", "cap", "--service", "capillary", "--url", sb.CapillaryURL, "--brand", capillarysim.SeedBrand,
		"--device-id", capillarysim.SeedDeviceID, "--identifier-type", "MOBILE", "--identifier", capillarysim.AliceMobile), 0)
	must(do(mattermostsim.AdminPassword+"\n"+code(mattermostsim.AdminTOTPSecret, 0)+"\n", false, "login", "mm", "--password-stdin", "--code", "-"), 0)
	must(do(rocketchatsim.AlicePassword+"\n"+code(rocketchatsim.AliceTOTP, 0)+"\n", false, "login", "rc", "--password-stdin", "--code", "-"), 0)
	must(do(capillarysim.AlicePassword+"\n"+capillarysim.AliceMFAPassword+"\n", false, "login", "cap", "--password-stdin"), 0)
	must(do("", false, "account", "list", "--json"), 0)
	must(do("", false, "account", "show", "cap"), 0)

	list := do("", false, "token", "list", "mm", "--json")
	must(list, 0)
	var toks []struct {
		Ref  string `json:"ref"`
		Kind string `json:"kind"`
	}
	if err := json.Unmarshal([]byte(list.out), &toks); err != nil || len(toks) == 0 {
		t.Fatalf("token list: %v", err)
	}
	var cmdRef string
	for _, tk := range toks {
		if tk.Kind == "command" {
			cmdRef = tk.Ref
			break
		}
	}
	must(do("", false, "token", "rotate", "mm", cmdRef), 0)
	// Consumers get each rotated token on stdin or in a file, never in an
	// argument; leak reads it from stdin; doctor reads no secret.
	cmdSecret := "mm/command/" + strings.TrimPrefix(cmdRef, "command:")
	consumers := t.TempDir() // not keyturn's directory: a consumer may not write there
	delivered := filepath.Join(consumers, "delivered")
	must(do("", false, "consumer", "add", cmdSecret, "--command", "cat > "+delivered+"; sleep 0.05", "--verify", "sleep 0.05; test -s "+delivered), 0)
	must(do("", false, "consumer", "add", cmdSecret, "--file", filepath.Join(consumers, "app.env"), "--env-key", "MM_TOKEN"), 0)
	must(do("", true, "token", "rotate", "mm", cmdRef, "--json", "--reveal"), 0)
	must(do("", false, "deliver", cmdSecret), 0)
	current, _ := os.ReadFile(delivered)
	must(do(string(current), false, "leak"), 0)
	must(do(string(current), false, "leak", "--rotate", "--json"), 0)
	must(do("", false, "consumer", "list"), 0)
	must(do("", false, "doctor", "--json"), 0)
	must(do("", false, "token", "rotate", "mm", "--all", "--kind", "webhook", "--json"), 0)
	created := do("", false, "token", "create", "mm", "hygiene", "--json")
	must(created, 0)
	var iss struct {
		Ref  string `json:"ref"`
		Name string `json:"name"`
	}
	_ = json.Unmarshal([]byte(created.out), &iss)
	must(do("", false, "token", "rotate", "mm", iss.Ref), 0)
	must(do(code(rocketchatsim.AliceTOTP, 0)+"\n", false, "token", "create", "rc", "hygiene", "--code", "-", "--method", "totp"), 0)
	must(do(code(rocketchatsim.AliceTOTP, 0)+"\n", false, "token", "rotate", "rc", "pat:hygiene", "--code", "-", "--method", "totp"), 0)
	must(do("", false, "token", "list", "rc"), 0)
	must(do(code(rocketchatsim.AliceTOTP, 0)+"\n", false, "token", "revoke", "rc", "pat:hygiene", "--yes", "--code", "-", "--method", "totp"), 0)
	must(do("", false, "token", "rotate", "cap", "session"), 0)
	must(do("", true, "secret", "get", "cap/session"), 0)
	must(do("", false, "secret", "list", "--json"), 0)
	must(do("", false, "exec", "cap/session=TOK", "--", "sh", "-c", `test -n "$TOK" && echo "got ${#TOK} characters"`), 0)

	setup := do("", true, "mfa", "setup", "mm", "--replace", "--yes", "--json")
	must(setup, 0)
	var mfa struct {
		Secret string `json:"secret"`
	}
	if err := json.Unmarshal([]byte(setup.out), &mfa); err != nil || mfa.Secret == "" {
		t.Fatalf("mfa setup --json: %v", err)
	}
	must(do(code(mfa.Secret, 30*time.Second)+"\n", false, "mfa", "activate", "mm", "--code", "-"), 0)
	// A failing call still says nothing secret.
	must(do("wrong-password\n000000\n", false, "login", "rc", "--password-stdin", "--code", "-"), 1)
	must(do("", false, "policy", "set", "command", "90d"), 0)
	must(do("", false, "status", "--json"), 0)
	must(do("", false, "check"), 0)
	must(do("", false, "logout", "mm"), 0)
	must(do("", false, "logout", "rc"), 0)
	must(do("", false, "logout", "cap"), 0)
	must(do("", false, "log"), 0)
	must(do("", false, "log", "--json"), 0)

	close(stop)
	watch.Wait()

	secrets := map[string]string{"passphrase": passphrase, "mfa secret": mfa.Secret}
	for i, p := range []string{mattermostsim.AdminPassword, rocketchatsim.AlicePassword, capillarysim.AlicePassword, capillarysim.AliceMFAPassword} {
		secrets["password "+string(rune('A'+i))] = p
	}
	for i, c := range codes {
		secrets["code "+string(rune('a'+i))] = c
	}
	for _, e := range sb.Env.Ledger.Entries() {
		secrets[e.Service+" "+e.Kind+" "+e.ID] = e.Token
	}
	// Numeric secrets (codes, a PIN) are matched as whole numbers only: the
	// digits of one may recur inside a timestamp or a longer number.
	leaks := func(where, text string) {
		t.Helper()
		for what, s := range secrets {
			if len(s) < 4 || !containsSecret(text, s) {
				continue
			}
			t.Errorf("%s holds a secret (%s)", where, what)
		}
	}
	for _, r := range runs {
		name := "keyturn " + strings.Join(r.args, " ")
		leaks("stderr of "+name, r.err)
		if !r.reveal {
			leaks("stdout of "+name, r.out)
		}
	}
	journals, _ := filepath.Glob(filepath.Join(dir, "journal", "*.jsonl"))
	if len(journals) == 0 {
		t.Fatal("the bulk rotation left no journal to check")
	}
	auditLog := filepath.Join(dir, "audit.jsonl")
	for _, f := range append([]string{logFile, cfg, auditLog}, journals...) {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if len(b) == 0 {
			t.Fatalf("%s is empty: the run wrote nothing to check", f)
		}
		leaks(filepath.Base(f), string(b))
	}
	// The audit log saw the whole session, so its check means something.
	audited, _ := os.ReadFile(auditLog)
	for _, act := range []string{"login", "rotate", "create", "revoke", "reveal", "exec", "mfa-setup", "mfa-activate", "logout"} {
		if !strings.Contains(string(audited), `"action":"`+act+`"`) {
			t.Errorf("the audit log has no %s entry", act)
		}
	}
	if log, _ := os.ReadFile(logFile); !strings.Contains(string(log), "[redacted]") {
		t.Error("the debug log shows no redaction: was debug logging on?")
	}
	argMu.Lock()
	sawKeyturn := false
	for a := range argvs {
		leaks("a process argument", strings.ReplaceAll(a, "\x00", " "))
		sawKeyturn = sawKeyturn || strings.HasPrefix(a, bin+"\x00")
	}
	argMu.Unlock()
	if !sawKeyturn {
		t.Error("the process watch never saw keyturn's own arguments: is it watching the right processes?")
	}
	// And the reveals really revealed.
	for _, r := range runs {
		if r.reveal && strings.TrimSpace(r.out) == "" {
			t.Errorf("keyturn %s printed nothing", strings.Join(r.args, " "))
		}
	}
}

// containsSecret finds s in text; an all-digit s only where no digit is
// next to it.
func containsSecret(text, s string) bool {
	if strings.Trim(s, "0123456789") != "" {
		return strings.Contains(text, s)
	}
	isDigit := func(b byte) bool { return b >= '0' && b <= '9' }
	for i := 0; ; {
		j := strings.Index(text[i:], s)
		if j < 0 {
			return false
		}
		at := i + j
		end := at + len(s)
		if (at == 0 || !isDigit(text[at-1])) && (end == len(text) || !isDigit(text[end])) {
			return true
		}
		i = at + 1
	}
}

func TestContainsSecret(t *testing.T) {
	for _, c := range []struct {
		text, s string
		want    bool
	}{
		{"code 123456 sent", "123456", true},
		{"t=2026-11-23T14:55:12.1234567Z", "123456", false},
		{"pin:2468.", "2468", true},
		{"x24689", "2468", false},
		{"token abcDEF123", "abcDEF123", true},
	} {
		if got := containsSecret(c.text, c.s); got != c.want {
			t.Errorf("containsSecret(%q, %q) = %v", c.text, c.s, got)
		}
	}
}

// procParents maps every process id to its parent's, from /proc/PID/stat.
func procParents() map[string]string {
	out := map[string]string{}
	stats, _ := filepath.Glob("/proc/[0-9]*/stat")
	for _, st := range stats {
		b, err := os.ReadFile(st)
		if err != nil {
			continue
		}
		// "pid (comm) state ppid ...": comm may hold spaces and parentheses.
		rest := string(b[strings.LastIndexByte(string(b), ')')+1:])
		if f := strings.Fields(rest); len(f) >= 2 {
			out[filepath.Base(filepath.Dir(st))] = f[1]
		}
	}
	return out
}

// descendsFrom reports whether pid is root or one of its descendants.
func descendsFrom(parents map[string]string, pid, root string) bool {
	for range 64 {
		if pid == root {
			return true
		}
		next, ok := parents[pid]
		if !ok || next == "0" || next == pid {
			return false
		}
		pid = next
	}
	return false
}
