package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
	"unicode"

	"keyturn/keystore"
	"keyturn/keystore/keystoretest"
	"keyturn/sandbox"
	"keyturn/sandbox/capillarysim"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/rocketchatsim"
	"keyturn/sandbox/simnet"
)

// testStores holds each test's store by config path, so one store lasts
// across the Execute calls of a test, like the keyring does across runs.
var testStores sync.Map

func init() {
	testBackend = func(path string) keystore.Backend {
		if b, ok := testStores.Load(path); ok {
			return b.(keystore.Backend)
		}
		return nil
	}
}

// world is a sandbox, a config file and a store that fails only when told.
type world struct {
	t     *testing.T
	sb    *sandbox.Sandbox
	dir   string
	cfg   string
	store *keystoretest.Failing
	env   map[string]string
}

func newWorld(t *testing.T) *world {
	t.Helper()
	return newWorldWith(t, sandbox.Options{})
}

func newWorldWith(t *testing.T, opts sandbox.Options) *world {
	t.Helper()
	sb, err := sandbox.Start(opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	dir := t.TempDir()
	w := &world{t: t, sb: sb, dir: dir, cfg: filepath.Join(dir, "config.json"),
		store: &keystoretest.Failing{Inner: keystore.NewMemory(), Ops: []string{"none"}},
		env:   map[string]string{keystore.EnvStore: keystore.KindMemory}}
	testStores.Store(w.cfg, keystore.Backend(w.store))
	t.Cleanup(func() { testStores.Delete(w.cfg) })
	return w
}

type result struct {
	code     int
	out, err string
}

// run runs keyturn in-process with no terminal.
func (w *world) run(stdin string, args ...string) result {
	w.t.Helper()
	return w.runIO(IO{In: strings.NewReader(stdin)}, args...)
}

// runTTY runs keyturn as if on a terminal: lines is what the person types
// at echoing prompts, secrets what they type at no-echo prompts.
func (w *world) runTTY(lines string, secrets []string, args ...string) (result, []string) {
	w.t.Helper()
	return w.runIO2(strings.NewReader(lines), secrets, args...)
}

func (w *world) runIO(streams IO, args ...string) result {
	w.t.Helper()
	return w.runCtx(context.Background(), streams, args...)
}

func (w *world) runCtx(ctx context.Context, streams IO, args ...string) result {
	w.t.Helper()
	var out, errb bytes.Buffer
	if streams.Out == nil {
		streams.Out = &out
	}
	streams.Err = &errb
	streams.Getenv = func(k string) string { return w.env[k] }
	code := Execute(ctx, append([]string{"--config", w.cfg}, args...), streams)
	r := result{code: code, out: out.String(), err: errb.String()}
	w.noLeak(r.err, args)
	return r
}

// secrets are every value that must never reach stderr: what the servers
// issued and the seeded passwords.
func (w *world) secrets() []string {
	out := []string{mattermostsim.AdminPassword, mattermostsim.AlicePassword, mattermostsim.BobPassword,
		rocketchatsim.AlicePassword, rocketchatsim.BobPassword, rocketchatsim.CarolPassword, rocketchatsim.AlicePAT,
		capillarysim.AlicePassword, capillarysim.CarolPassword}
	for _, e := range w.sb.Env.Ledger.Entries() {
		out = append(out, e.Token)
	}
	return out
}

// noLeak fails when stderr holds a secret.
func (w *world) noLeak(stderr string, args []string) {
	w.t.Helper()
	for _, s := range w.secrets() {
		if len(s) >= 8 && strings.Contains(stderr, s) {
			w.t.Errorf("keyturn %s: stderr holds a secret", strings.Join(args, " "))
		}
	}
}

// redact hides secrets in text a test prints: every value the sandbox
// issued and every seeded password, then whatever scrub catches.
func (w *world) redact(s string) string {
	for _, sec := range w.secrets() {
		if len(sec) >= 8 {
			s = strings.ReplaceAll(s, sec, "[secret]")
		}
	}
	return scrub(s)
}

var (
	secretLike    = regexp.MustCompile(`[A-Za-z0-9_+/=.-]{8,}`)
	groupedSecret = regexp.MustCompile(`Secret: [A-Z2-7 ]+`)
)

// scrub masks what looks like a secret (TOTP secrets, backup codes,
// tokens: runs of 8 or more characters mixing letters and digits) in text a
// failing test prints.
func scrub(s string) string {
	s = groupedSecret.ReplaceAllString(s, "Secret: [secret]")
	return secretLike.ReplaceAllStringFunc(s, func(m string) string {
		letters, digits := strings.IndexFunc(m, unicode.IsLetter) >= 0, strings.IndexFunc(m, unicode.IsDigit) >= 0
		if letters && digits && !strings.HasPrefix(m, "-") && !strings.HasPrefix(m, "http") && !strings.HasPrefix(m, "127.0.0.1") {
			return "[secret?]"
		}
		return m
	})
}

// want fails unless r exited with code.
func (w *world) want(r result, code int, what string) {
	w.t.Helper()
	if r.code != code {
		w.t.Fatalf("%s: exit %d, want %d\nstdout: %s\nstderr: %s", what, r.code, code, w.redact(r.out), w.redact(r.err))
	}
}

func (w *world) ledger(service, kind string) []simnet.Issued {
	var out []simnet.Issued
	for _, e := range w.sb.Env.Ledger.Entries() {
		if e.Service == service && e.Kind == kind {
			out = append(out, e)
		}
	}
	return out
}

func (w *world) lastIssued(service, kind string) string {
	w.t.Helper()
	l := w.ledger(service, kind)
	if len(l) == 0 {
		w.t.Fatalf("the sandbox issued no %s %s", service, kind)
	}
	return l[len(l)-1].Token
}

// stored reads a secret straight from the test's store.
func (w *world) stored(name string) (string, bool) {
	v, err := w.store.Inner.Get(context.Background(), name)
	if errors.Is(err, keystore.ErrNotFound) {
		return "", false
	}
	if err != nil {
		w.t.Fatal(err)
	}
	return v, true
}

func totp(secret string, at time.Time) string { return simnet.TOTPCode(secret, at) }

// Account helpers: each adds an account for a seeded user.

func (w *world) addMattermost(name, user string) {
	w.t.Helper()
	w.want(w.run("", "account", "add", name, "--service", "mattermost", "--url", w.sb.MattermostURL, "--user", user), 0, "account add "+name)
}

func (w *world) addRocketChat(name, user string) {
	w.t.Helper()
	w.want(w.run("", "account", "add", name, "--service", "rocketchat", "--url", w.sb.RocketChatURL, "--user", user), 0, "account add "+name)
}

func (w *world) addCapillary(name, idType, identifier string) {
	w.t.Helper()
	w.want(w.run("", "account", "add", name, "--service", "capillary", "--url", w.sb.CapillaryURL, "--brand", capillarysim.SeedBrand,
		"--device-id", capillarysim.SeedDeviceID, "--identifier-type", idType, "--identifier", identifier), 0, "account add "+name)
}

// mattermostAdmin adds and signs in the seeded Mattermost admin (MFA on).
func (w *world) mattermostAdmin(name string) {
	w.t.Helper()
	w.addMattermost(name, mattermostsim.AdminUsername)
	r := w.run(mattermostsim.AdminPassword+"\n", "login", name, "--password-stdin", "--code", totp(mattermostsim.AdminTOTPSecret, w.sb.Env.Clock.Now()))
	w.want(r, 0, "login "+name)
}

// rocketAlice adds and signs in Rocket.Chat's alice (TOTP).
func (w *world) rocketAlice(name string) {
	w.t.Helper()
	w.addRocketChat(name, "alice")
	r := w.run(rocketchatsim.AlicePassword+"\n", "login", name, "--password-stdin", "--code", totp(rocketchatsim.AliceTOTP, w.sb.Env.Clock.Now()))
	w.want(r, 0, "login "+name)
}

// capillaryAlice adds and signs in Capillary's alice (password, then MFA
// password from the second line of stdin).
func (w *world) capillaryAlice(name string) {
	w.t.Helper()
	w.addCapillary(name, "MOBILE", capillarysim.AliceMobile)
	r := w.run(capillarysim.AlicePassword+"\n"+capillarysim.AliceMFAPassword+"\n", "login", name, "--password-stdin")
	w.want(r, 0, "login "+name)
}

func decodeJSON[T any](t *testing.T, s string) T {
	t.Helper()
	var v T
	if err := json.Unmarshal([]byte(s), &v); err != nil {
		t.Fatalf("not JSON (%v): %.200q", err, scrub(s))
	}
	return v
}

func mustContain(t *testing.T, what, s string, subs ...string) {
	t.Helper()
	for _, sub := range subs {
		if !strings.Contains(s, sub) {
			t.Errorf("%s: %q lacks %q", what, scrub(s), sub)
		}
	}
}

func keystoreBackend(b keystore.Backend) keystore.Backend { return b }

// runIO2 runs keyturn as if on a terminal: in is what the person types at
// echoing prompts, secrets what they type at no-echo prompts (returned: the
// no-echo prompts shown).
func (w *world) runIO2(in io.Reader, secrets []string, args ...string) (result, []string) {
	w.t.Helper()
	var prompts []string
	streams := IO{In: in, InTerminal: true, ReadSecret: func(prompt string) (string, error) {
		prompts = append(prompts, prompt)
		if len(secrets) == 0 {
			return "", io.EOF
		}
		s := secrets[0]
		secrets = secrets[1:]
		return s, nil
	}}
	return w.runIO(streams, args...), prompts
}
