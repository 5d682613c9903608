package account_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/config"
	"keyturn/keystore"
	"keyturn/keystore/keystoretest"
	"keyturn/sandbox"
	"keyturn/sandbox/capillarysim"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/rocketchatsim"
	"keyturn/sandbox/simnet"
)

// switchable is a store that works until a test makes it fail or hang.
type switchable struct {
	mu   sync.Mutex
	ok   keystore.Backend
	bad  keystore.Backend
	fail bool
}

func (s *switchable) cur() keystore.Backend {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.fail && s.bad != nil {
		return s.bad
	}
	return s.ok
}
func (s *switchable) Name() string { return "switchable" }
func (s *switchable) Set(ctx context.Context, n, v string) error {
	return s.cur().Set(ctx, n, v)
}
func (s *switchable) Get(ctx context.Context, n string) (string, error) {
	return s.cur().Get(ctx, n)
}
func (s *switchable) Delete(ctx context.Context, n string) error {
	return s.cur().Delete(ctx, n)
}
func (s *switchable) breakWith(b keystore.Backend) {
	s.mu.Lock()
	s.bad, s.fail = b, true
	s.mu.Unlock()
}

// fault is one way things go wrong.
type fault struct {
	name string
	// store, when set, replaces the store just before the operation.
	store func(inner keystore.Backend) keystore.Backend
	// rule, when set, is added to the sandbox for the operation's request.
	rule func(path, method string) simnet.Rule
	// cancelAfter cancels the operation's context mid-request.
	cancelAfter time.Duration
	// spoiled: the server applied the change but the answer never arrived
	// whole, so keyturn cannot hold the token.
	spoiled bool
	// person, when set, is what the person does once the server has
	// applied the request and before its answer arrives: it returns the
	// operation's context and the act that ends it (quit, Esc, a signal).
	person func(t *testing.T) (context.Context, func())
	// pass, when set, runs the operation over a real pass store and
	// breaks it just before the operation (faults_pass_test.go).
	pass *passFault
}

// op is one operation that issues a token.
type op struct {
	name    string
	service string
	kind    string // ledger kind of the token it issues
	path    string // substring of the issuing request's path
	method  string
	inPlace bool // the server replaces the token in place
	setup   func(t *testing.T, w *faultWorld) func(ctx context.Context) (*account.Issued, error)
}

type faultWorld struct {
	sb    *sandbox.Sandbox
	mgr   *account.Manager
	store *switchable
	pass  *passWorld // set over a pass store
}

func newFaultWorld(t *testing.T) *faultWorld {
	sb, err := sandbox.Start(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	cf := config.Open(filepath.Join(t.TempDir(), "config.json"))
	st := &switchable{ok: keystore.NewMemory()}
	mgr := account.New(cf, keystore.NewVault(keystore.WithTimeout(st, 300*time.Millisecond), cf), account.Options{Timeout: time.Second})
	return &faultWorld{sb: sb, mgr: mgr, store: st}
}

func (w *faultWorld) ledger(service, kind string) []string {
	var out []string
	for _, e := range w.sb.Env.Ledger.Entries() {
		if e.Service == service && e.Kind == kind {
			out = append(out, e.Token)
		}
	}
	return out
}

func mmSignIn(t *testing.T, w *faultWorld) {
	t.Helper()
	ctx := context.Background()
	if _, err := w.mgr.Add(ctx, config.Account{Name: "mm", Service: account.Mattermost, URL: w.sb.MattermostURL, User: mattermostsim.AdminUsername}); err != nil {
		t.Fatal(err)
	}
	req := account.LoginRequest{Account: "mm", Password: mattermostsim.AdminPassword, Answer: &account.Answer{Code: simnet.TOTPCode(mattermostsim.AdminTOTPSecret, time.Now())}}
	if _, err := w.mgr.Login(ctx, req); err != nil {
		t.Fatal(err)
	}
}

func rcSignIn(t *testing.T, w *faultWorld) {
	t.Helper()
	ctx := context.Background()
	if _, err := w.mgr.Add(ctx, config.Account{Name: "rc", Service: account.RocketChat, URL: w.sb.RocketChatURL, User: "alice"}); err != nil {
		t.Fatal(err)
	}
	req := account.LoginRequest{Account: "rc", Password: rocketchatsim.AlicePassword, Answer: &account.Answer{Code: simnet.TOTPCode(rocketchatsim.AliceTOTP, time.Now())}}
	if _, err := w.mgr.Login(ctx, req); err != nil {
		t.Fatal(err)
	}
}

func capAdd(t *testing.T, w *faultWorld) {
	t.Helper()
	_, err := w.mgr.Add(context.Background(), config.Account{Name: "cap", Service: account.Capillary, URL: w.sb.CapillaryURL, Brand: capillarysim.SeedBrand,
		DeviceID: capillarysim.SeedDeviceID, IdentifierType: "MOBILE", Identifier: capillarysim.AliceMobile})
	if err != nil {
		t.Fatal(err)
	}
}

func capLogin(ctx context.Context, w *faultWorld) (*account.Issued, error) {
	_, err := w.mgr.Login(ctx, account.LoginRequest{Account: "cap", Password: capillarysim.AlicePassword, MFAPassword: capillarysim.AliceMFAPassword})
	return nil, err
}

// mmUserTokenRotation signs in, makes a user token that expires in 30
// days, and rotates it.
func mmUserTokenRotation(t *testing.T, w *faultWorld) func(context.Context) (*account.Issued, error) {
	mmSignIn(t, w)
	iss, err := w.mgr.CreateExpiring(context.Background(), "mm", "matrix", false, nil, time.Now().Add(30*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := account.ParseRef(iss.Ref)
	return func(ctx context.Context) (*account.Issued, error) { return w.mgr.Rotate(ctx, "mm", ref, nil) }
}

func firstRef(t *testing.T, w *faultWorld, acct, kind string) account.Ref {
	t.Helper()
	toks, err := w.mgr.Tokens(context.Background(), acct, account.ListFilter{Kind: kind})
	if err != nil || len(toks) == 0 {
		t.Fatalf("listing %s: %v (%d)", kind, err, len(toks))
	}
	return toks[0].Ref
}

var faultOps = []op{
	{name: "mattermost login", service: "mattermost", kind: "session", path: "/users/login", method: "POST",
		setup: func(t *testing.T, w *faultWorld) func(context.Context) (*account.Issued, error) {
			if _, err := w.mgr.Add(context.Background(), config.Account{Name: "mm", Service: account.Mattermost, URL: w.sb.MattermostURL, User: mattermostsim.AdminUsername}); err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) (*account.Issued, error) {
				_, err := w.mgr.Login(ctx, account.LoginRequest{Account: "mm", Password: mattermostsim.AdminPassword,
					Answer: &account.Answer{Code: simnet.TOTPCode(mattermostsim.AdminTOTPSecret, time.Now())}})
				return nil, err
			}
		}},
	{name: "mattermost user-token create", service: "mattermost", kind: "user-token", path: "/tokens", method: "POST",
		setup: func(t *testing.T, w *faultWorld) func(context.Context) (*account.Issued, error) {
			mmSignIn(t, w)
			return func(ctx context.Context) (*account.Issued, error) {
				return w.mgr.Create(ctx, "mm", "matrix", false, nil)
			}
		}},
	{name: "mattermost user-token rotate (create, revoke: before 11.10)", service: "mattermost", kind: "user-token", path: "/tokens", method: "POST",
		setup: func(t *testing.T, w *faultWorld) func(context.Context) (*account.Issued, error) {
			w.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.OlderServer = true })
			return mmUserTokenRotation(t, w)
		}},
	{name: "mattermost user-token rotate in place", service: "mattermost", kind: "user-token", path: "/users/tokens/rotate", method: "POST", inPlace: true,
		setup: mmUserTokenRotation},
	{name: "mattermost command regen", service: "mattermost", kind: "command", path: "/regen_token", method: "PUT", inPlace: true,
		setup: func(t *testing.T, w *faultWorld) func(context.Context) (*account.Issued, error) {
			mmSignIn(t, w)
			ref := firstRef(t, w, "mm", account.KindCommand)
			return func(ctx context.Context) (*account.Issued, error) { return w.mgr.Rotate(ctx, "mm", ref, nil) }
		}},
	{name: "mattermost webhook regen", service: "mattermost", kind: "webhook", path: "/regen_token", method: "POST", inPlace: true,
		setup: func(t *testing.T, w *faultWorld) func(context.Context) (*account.Issued, error) {
			mmSignIn(t, w)
			ref := firstRef(t, w, "mm", account.KindWebhook)
			return func(ctx context.Context) (*account.Issued, error) { return w.mgr.Rotate(ctx, "mm", ref, nil) }
		}},
	{name: "rocketchat login", service: "rocketchat", kind: "session", path: "/api/v1/login", method: "POST",
		setup: func(t *testing.T, w *faultWorld) func(context.Context) (*account.Issued, error) {
			if _, err := w.mgr.Add(context.Background(), config.Account{Name: "rc", Service: account.RocketChat, URL: w.sb.RocketChatURL, User: "alice"}); err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) (*account.Issued, error) {
				_, err := w.mgr.Login(ctx, account.LoginRequest{Account: "rc", Password: rocketchatsim.AlicePassword,
					Answer: &account.Answer{Code: simnet.TOTPCode(rocketchatsim.AliceTOTP, time.Now())}})
				return nil, err
			}
		}},
	{name: "rocketchat PAT generate", service: "rocketchat", kind: "pat", path: "generatePersonalAccessToken", method: "POST",
		setup: func(t *testing.T, w *faultWorld) func(context.Context) (*account.Issued, error) {
			rcSignIn(t, w)
			return func(ctx context.Context) (*account.Issued, error) {
				return w.mgr.Create(ctx, "rc", "matrix", false, &account.Answer{Method: "totp", Code: simnet.TOTPCode(rocketchatsim.AliceTOTP, time.Now())})
			}
		}},
	{name: "rocketchat PAT regenerate", service: "rocketchat", kind: "pat", path: "regeneratePersonalAccessToken", method: "POST", inPlace: true,
		setup: func(t *testing.T, w *faultWorld) func(context.Context) (*account.Issued, error) {
			rcSignIn(t, w)
			ans := &account.Answer{Method: "totp", Code: simnet.TOTPCode(rocketchatsim.AliceTOTP, time.Now())}
			if _, err := w.mgr.Create(context.Background(), "rc", "matrix", false, ans); err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) (*account.Issued, error) {
				return w.mgr.Rotate(ctx, "rc", account.Ref{Kind: account.KindPAT, ID: "matrix"}, ans)
			}
		}},
	{name: "capillary login", service: "capillary", kind: "capillary-token", path: "mfa/password/validate", method: "POST",
		setup: func(t *testing.T, w *faultWorld) func(context.Context) (*account.Issued, error) {
			capAdd(t, w)
			return func(ctx context.Context) (*account.Issued, error) { return capLogin(ctx, w) }
		}},
	{name: "capillary regenerate", service: "capillary", kind: "capillary-token", path: "mfa/token/regenerate", method: "POST", inPlace: true,
		setup: func(t *testing.T, w *faultWorld) func(context.Context) (*account.Issued, error) {
			capAdd(t, w)
			if _, err := capLogin(context.Background(), w); err != nil {
				t.Fatal(err)
			}
			return func(ctx context.Context) (*account.Issued, error) {
				return w.mgr.Rotate(ctx, "cap", account.Ref{Kind: account.KindSession}, nil)
			}
		}},
}

var faultKinds = []fault{
	{name: "store write fails", store: func(in keystore.Backend) keystore.Backend {
		return &keystoretest.Failing{Inner: in, Ops: []string{"set"}}
	}},
	{name: "store hangs past its timeout", store: func(in keystore.Backend) keystore.Backend {
		return &keystoretest.Hanging{Inner: in, Ops: []string{"set"}}
	}},
	{name: "dropped after apply", spoiled: true, rule: func(p, m string) simnet.Rule {
		return simnet.Rule{Path: p, Method: m, Fault: simnet.DropAfterApply, Times: 1}
	}},
	{name: "500 after apply", spoiled: true, rule: func(p, m string) simnet.Rule {
		return simnet.Rule{Path: p, Method: m, Fault: simnet.ErrorAfterApply, Times: 1}
	}},
	{name: "HTML body", spoiled: true, rule: func(p, m string) simnet.Rule {
		return simnet.Rule{Path: p, Method: m, Fault: simnet.HTMLBody, Times: 1}
	}},
	{name: "truncated JSON", spoiled: true, rule: func(p, m string) simnet.Rule {
		return simnet.Rule{Path: p, Method: m, Fault: simnet.TruncatedJSON, Times: 1}
	}},
	{name: "429 storm", rule: func(p, m string) simnet.Rule {
		return simnet.Rule{Path: p, Method: m, Fault: simnet.RateLimit, RetryAfter: 30}
	}},
	{name: "slower than the timeout", spoiled: true, rule: func(p, m string) simnet.Rule {
		return simnet.Rule{Path: p, Method: m, Fault: simnet.Slow, Delay: 3 * time.Second, Times: 1}
	}},
	// Cancelled, and the answer then takes longer than the client's timeout:
	// the request runs on past the cancellation, but not past the timeout.
	{name: "cancelled, answer past the timeout", spoiled: true, cancelAfter: 200 * time.Millisecond, rule: func(p, m string) simnet.Rule {
		return simnet.Rule{Path: p, Method: m, Fault: simnet.Slow, Delay: 3 * time.Second, Times: 1}
	}},
	{name: "person quits mid-request", rule: slowAnswer, person: func(t *testing.T) (context.Context, func()) {
		ctx, cancel := context.WithCancelCause(context.Background())
		return ctx, func() { cancel(errors.New("the person quit")) }
	}},
	{name: "person presses Esc mid-request", rule: slowAnswer, person: func(t *testing.T) (context.Context, func()) {
		return context.WithCancel(context.Background())
	}},
	{name: "SIGINT mid-request", rule: slowAnswer, person: signalled(syscall.SIGINT)},
	{name: "SIGTERM mid-request", rule: slowAnswer, person: signalled(syscall.SIGTERM)},
	{name: "SIGHUP mid-request", rule: slowAnswer, person: signalled(syscall.SIGHUP)},
}

// slowAnswer holds the issuing request's answer well within the client's
// timeout, long enough for the person to act while it is on its way.
func slowAnswer(p, m string) simnet.Rule {
	return simnet.Rule{Path: p, Method: m, Fault: simnet.Slow, Delay: 400 * time.Millisecond, Times: 1}
}

// signalled is a context the process's own signal ends, as the CLI's is,
// and the act of sending that signal to this process.
func signalled(sig syscall.Signal) func(t *testing.T) (context.Context, func()) {
	return func(t *testing.T) (context.Context, func()) {
		ctx, stop := signal.NotifyContext(context.Background(), sig)
		t.Cleanup(stop)
		return ctx, func() {
			if err := syscall.Kill(os.Getpid(), sig); err != nil {
				t.Error(err)
			}
			<-ctx.Done()
		}
	}
}

// actWhenApplied does the person's act as soon as the server has applied
// the issuing request (its token is in the ledger), while the answer is
// still on its way back.
func actWhenApplied(w *faultWorld, o op, want int, act func()) {
	for deadline := time.Now().Add(5 * time.Second); time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		if len(w.ledger(o.service, o.kind)) >= want {
			act()
			return
		}
	}
}

// inStore reports whether a token is in the store, as an issued secret or
// inside a sign-in credential.
func inStore(t *testing.T, w *faultWorld, token string) bool {
	t.Helper()
	ctx := context.Background()
	entries, err := w.mgr.Vault().List(ctx, false)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		v, err := w.mgr.Vault().Get(ctx, e.Name)
		if err == nil && strings.Contains(v, token) {
			return true
		}
	}
	return false
}

// Outcomes counted in the matrix.
const (
	outStored  = "stored"
	outHanded  = "handed back (not stored)"
	outUnknown = "unknown (exit 5)"
	outFailed  = "failed cleanly"
)

// TestFaultMatrix crosses every operation that issues a token with every
// fault, and checks against the sandbox's ledger that no token the client
// received was lost and no non-idempotent request was sent twice.
func TestFaultMatrix(t *testing.T) {
	if testing.Short() {
		t.Skip("the fault matrix takes a while; run without -short")
	}
	counts := map[string]map[string]int{}
	var mu sync.Mutex
	for _, o := range faultOps {
		// A clean run tells how many tokens the operation issues when all
		// goes well (Capillary's sign-in issues one per step).
		clean := newFaultWorld(t)
		cleanRun := o.setup(t, clean)
		base := len(clean.ledger(o.service, o.kind))
		if _, err := cleanRun(context.Background()); err != nil {
			t.Fatalf("%s without faults: %v", o.name, err)
		}
		perRun := len(clean.ledger(o.service, o.kind)) - base
		for _, f := range faultKinds {
			t.Run(o.name+"/"+f.name, func(t *testing.T) {
				w := newFaultWorld(t)
				if f.pass != nil {
					w = newPassFaultWorld(t)
				}
				run := o.setup(t, w)
				before := len(w.ledger(o.service, o.kind))
				if f.store != nil {
					w.store.breakWith(f.store(w.store.ok))
				}
				if f.rule != nil {
					w.sb.Env.Faults.Add(f.rule(o.path, o.method))
				}
				if f.pass != nil {
					f.pass.breakIt(t, w)
				}
				ctx := context.Background()
				if f.person != nil {
					var act func()
					ctx, act = f.person(t)
					go actWhenApplied(w, o, before+perRun, act)
				}
				if f.cancelAfter > 0 {
					var cancel context.CancelFunc
					ctx, cancel = context.WithTimeout(ctx, f.cancelAfter)
					defer cancel()
				}
				iss, err := run(ctx)
				w.sb.Env.Faults.Clear()
				issued := w.ledger(o.service, o.kind)[before:]
				if len(issued) > perRun {
					t.Fatalf("the server issued %d tokens where a clean run issues %d: a non-idempotent request was sent more than once", len(issued), perRun)
				}
				out := classify(t, err, iss)
				switch {
				case f.spoiled:
					// The answer never arrived whole: nothing to hold, and the
					// person must be told the server may have acted.
					if out == outStored || out == outHanded {
						t.Fatalf("a spoiled answer cannot yield a token, got %s", out)
					}
					if o.inPlace && len(issued) == perRun && out != outUnknown {
						t.Fatalf("an in-place rotation with no answer must be unknown, got %s: %v", out, err)
					}
				case f.store != nil:
					if len(issued) != perRun {
						t.Fatalf("the server issued %d tokens, a clean run %d", len(issued), perRun)
					}
					if out != outHanded {
						t.Fatalf("a store failure must hand the token back, got %s: %v", out, err)
					}
					var ns *account.NotStoredError
					errors.As(err, &ns)
					last := issued[len(issued)-1]
					if ns.Issued.Value != last {
						t.Fatal("the token handed back is not the one the server issued")
					}
					if strings.Contains(err.Error(), last) {
						t.Fatal("the error text holds the token")
					}
				case f.person != nil:
					// The request was sent: the person's act must not drop
					// its answer. It runs to its end and is stored.
					if ctx.Err() == nil {
						t.Fatal("the person's act never came: the request was not seen applied")
					}
					if len(issued) != perRun || out != outStored {
						t.Fatalf("%s after the request was sent: issued %d (clean %d), outcome %s: %v", f.name, len(issued), perRun, out, err)
					}
					if last := issued[len(issued)-1]; !inStore(t, w, last) {
						t.Fatal("the token the server issued is not in the store")
					}
				case f.pass != nil:
					if len(issued) != perRun {
						t.Fatalf("the server issued %d tokens, a clean run %d", len(issued), perRun)
					}
					f.pass.check(t, w, out, err, issued[len(issued)-1])
				case f.name == "429 storm":
					if len(issued) >= perRun || out != outFailed {
						t.Fatalf("a 429 applies nothing: issued %d, outcome %s", len(issued), out)
					}
				}
				mu.Lock()
				if counts[f.name] == nil {
					counts[f.name] = map[string]int{}
				}
				counts[f.name][out]++
				mu.Unlock()
			})
		}
	}
	printMatrix(t, counts)
}

func classify(t *testing.T, err error, iss *account.Issued) string {
	var ns *account.NotStoredError
	var uo *account.UnknownOutcomeError
	switch {
	case err == nil:
		return outStored
	case errors.As(err, &ns):
		if ns.Issued == nil || ns.Issued.Value == "" {
			t.Fatal("a NotStoredError without its token")
		}
		return outHanded
	case errors.As(err, &uo):
		return outUnknown
	}
	if err.Error() == "" {
		t.Fatal("an error with no message")
	}
	return outFailed
}

func printMatrix(t *testing.T, counts map[string]map[string]int) {
	outs := []string{outStored, outHanded, outUnknown, outFailed}
	var b strings.Builder
	fmt.Fprintf(&b, "\nfault matrix: %d operations × %d faults\n", len(faultOps), len(faultKinds))
	fmt.Fprintf(&b, "%-30s", "fault")
	for _, o := range outs {
		fmt.Fprintf(&b, " | %-24s", o)
	}
	b.WriteString("\n")
	names := make([]string, 0, len(counts))
	for _, f := range faultKinds {
		if counts[f.name] != nil {
			names = append(names, f.name)
		}
	}
	for _, n := range names {
		fmt.Fprintf(&b, "%-30s", n)
		for _, o := range outs {
			fmt.Fprintf(&b, " | %-24d", counts[n][o])
		}
		b.WriteString("\n")
	}
	t.Log(b.String())
}

// TestIssuingCancelledBeforeSendSendsNothing: a caller that gave up before
// the issuing request left (Esc during the lookups before it) stops it:
// nothing reaches the server and nothing is listed in flight.
func TestIssuingCancelledBeforeSendSendsNothing(t *testing.T) {
	for _, o := range faultOps {
		t.Run(o.name, func(t *testing.T) {
			w := newFaultWorld(t)
			run := o.setup(t, w)
			before := len(w.ledger(o.service, o.kind))
			ctx, cancel := context.WithCancel(context.Background())
			cancel()
			_, err := run(ctx)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("a cancelled caller got %v, want context.Canceled", err)
			}
			if n := len(w.ledger(o.service, o.kind)) - before; n != 0 {
				t.Fatalf("the server issued %d tokens for a caller that had given up", n)
			}
			if fl := w.mgr.InFlight(); len(fl) != 0 {
				t.Fatalf("still in flight: %v", fl)
			}
		})
	}
}

// TestInFlightNamesTheRequestUntilStored: while an issuing request is on
// its way, InFlight names it and how to recover its token; once the answer
// is stored, it is gone.
func TestInFlightNamesTheRequestUntilStored(t *testing.T) {
	w := newFaultWorld(t)
	mmSignIn(t, w)
	ref := firstRef(t, w, "mm", account.KindCommand)
	w.sb.Env.Faults.Add(slowAnswer("/regen_token", "PUT"))
	done := make(chan error, 1)
	go func() {
		_, err := w.mgr.Rotate(context.Background(), "mm", ref, nil)
		done <- err
	}()
	var fl []account.InFlight
	for deadline := time.Now().Add(5 * time.Second); len(fl) == 0 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		fl = w.mgr.InFlight()
	}
	if len(fl) != 1 || fl[0].Account != "mm" || fl[0].What != "the regeneration of mm "+ref.String() ||
		!strings.Contains(fl[0].Recover, "'keyturn token fetch mm "+ref.String()+"'") {
		t.Fatalf("in flight: %+v", fl)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if fl := w.mgr.InFlight(); len(fl) != 0 {
		t.Fatalf("still in flight once stored: %v", fl)
	}
}

// TestRocketChatMFAActivationOutlivesTheCaller: the activation's answer
// holds backup codes shown only once, so a caller that gives up once the
// request is sent still gets them.
func TestRocketChatMFAActivationOutlivesTheCaller(t *testing.T) {
	w := newFaultWorld(t)
	ctx := context.Background()
	if _, err := w.mgr.Add(ctx, config.Account{Name: "rc-bob", Service: account.RocketChat, URL: w.sb.RocketChatURL, User: "bob"}); err != nil {
		t.Fatal(err)
	}
	emailCode := func() *account.Answer {
		for _, c := range w.sb.Codes() {
			if strings.Contains(c.Label, "rocketchat bob email") {
				return &account.Answer{Method: "email", Code: c.Code}
			}
		}
		t.Fatalf("no email code for bob in %v", w.sb.Codes())
		return nil
	}
	req := account.LoginRequest{Account: "rc-bob", Password: rocketchatsim.BobPassword}
	var ch *account.Challenge
	if _, err := w.mgr.Login(ctx, req); errors.As(err, &ch) {
		req.Answer = emailCode()
		_, err = w.mgr.Login(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
	} else if err != nil {
		t.Fatal(err)
	}
	setup, err := w.mgr.BeginMFA(ctx, "rc-bob", false, nil)
	if errors.As(err, &ch) {
		setup, err = w.mgr.BeginMFA(ctx, "rc-bob", false, emailCode())
	}
	if err != nil {
		t.Fatal(err)
	}
	w.sb.Env.Faults.Add(slowAnswer("users.validateTotp", "POST"))
	cctx, cancel := context.WithCancel(ctx)
	go func() {
		for w.sb.Env.Faults.Hits()[simnet.Slow] == 0 {
			time.Sleep(time.Millisecond)
		}
		cancel()
	}()
	codes, err := w.mgr.ActivateMFA(cctx, "rc-bob", simnet.TOTPCode(setup.Secret, time.Now()), nil)
	if cctx.Err() == nil {
		t.Fatal("the caller never gave up")
	}
	if err != nil || len(codes) == 0 {
		t.Fatalf("activation after the caller gave up: %d codes, %v", len(codes), err)
	}
}
