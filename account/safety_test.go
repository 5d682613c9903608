package account_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/config"
	"keyturn/keystore"
	"keyturn/sandbox"
	"keyturn/sandbox/capillarysim"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/rocketchatsim"
	"keyturn/sandbox/simnet"
	"keyturn/textsafe"
)

// hostileName is a token name a server (or whoever made the token) chose:
// an OSC 52 clipboard write and a screen clear.
const hostileName = "ci\x1b]52;c;cHduZWQ=\x07\x1b[2J"

// TestInFlightIsTerminalSafe: what InFlight says of a request reaches a
// terminal raw (the CLI's signal handler prints it), and a PAT's name is
// the server's text: it must come out cleaned.
func TestInFlightIsTerminalSafe(t *testing.T) {
	w := newFaultWorld(t)
	rcSignIn(t, w)
	ans := &account.Answer{Method: "totp", Code: simnet.TOTPCode(rocketchatsim.AliceTOTP, time.Now())}
	if _, err := w.mgr.Create(context.Background(), "rc", hostileName, false, ans); err != nil {
		t.Fatal(err)
	}
	w.sb.Env.Faults.Add(slowAnswer("regeneratePersonalAccessToken", "POST"))
	done := make(chan error, 1)
	go func() {
		_, err := w.mgr.Rotate(context.Background(), "rc", account.Ref{Kind: account.KindPAT, ID: hostileName}, ans)
		done <- err
	}()
	var fl []account.InFlight
	for deadline := time.Now().Add(5 * time.Second); len(fl) == 0 && time.Now().Before(deadline); time.Sleep(time.Millisecond) {
		fl = w.mgr.InFlight()
	}
	if len(fl) != 1 {
		t.Fatalf("in flight: %+v", fl)
	}
	for _, s := range []string{fl[0].What, fl[0].Recover} {
		if textsafe.Line(s) != s {
			t.Errorf("in flight description holds what a terminal acts on: %q", s)
		}
	}
	if !strings.Contains(fl[0].What, "pat:ci") {
		t.Errorf("in flight description does not name the token: %q", fl[0].What)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestChallengeMethodsAreTerminalSafe: Rocket.Chat names the other
// methods a person may use (availableMethods); the CLI lists them on the
// terminal ("To use … instead"), so they come out of account cleaned.
func TestChallengeMethodsAreTerminalSafe(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(http.StatusUnauthorized)
		_, _ = w.Write([]byte(`{"status":"error","error":"totp-required","message":"TOTP Required [totp-required]",` +
			`"details":{"method":"totp","codeGenerated":false,"availableMethods":["totp","email\u001b]52;c;cHduZWQ=\u0007"]}}`))
	}))
	defer srv.Close()
	ctx := context.Background()
	cf := config.Open(filepath.Join(t.TempDir(), "config.json"))
	mgr := account.New(cf, keystore.NewVault(keystore.NewMemory(), cf), account.Options{Timeout: 5 * time.Second})
	if _, err := mgr.Add(ctx, config.Account{Name: "rc", Service: account.RocketChat, URL: srv.URL, User: "alice"}); err != nil {
		t.Fatal(err)
	}
	_, err := mgr.Login(ctx, account.LoginRequest{Account: "rc", Password: "pw"})
	var ch *account.Challenge
	if !errors.As(err, &ch) {
		t.Fatalf("want a challenge, got %v", err)
	}
	if len(ch.Methods) != 2 || ch.Methods[0] != "totp" || !strings.HasPrefix(ch.Methods[1], "email") {
		t.Fatalf("methods: %q", ch.Methods)
	}
	for _, m := range ch.Methods {
		if textsafe.Line(m) != m {
			t.Errorf("a method holds what a terminal acts on: %q", m)
		}
	}
}

// TestCapillaryWrongCodeMessageIsTerminalSafe: a wrong code keeps the
// challenge open with the server's words, which the CLI prints in "That
// was not accepted (…)": they come out of account cleaned.
func TestCapillaryWrongCodeMessageIsTerminalSafe(t *testing.T) {
	sb, err := sandbox.Start(sandbox.Options{Hostile: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	ctx := context.Background()
	cf := config.Open(filepath.Join(t.TempDir(), "config.json"))
	mgr := account.New(cf, keystore.NewVault(keystore.NewMemory(), cf), account.Options{Timeout: 5 * time.Second})
	if _, err := mgr.Add(ctx, config.Account{Name: "cap", Service: account.Capillary, URL: sb.CapillaryURL, Brand: capillarysim.SeedBrand,
		DeviceID: capillarysim.SeedDeviceID, IdentifierType: "MOBILE", Identifier: capillarysim.AliceMobile}); err != nil {
		t.Fatal(err)
	}
	_, err = mgr.Login(ctx, account.LoginRequest{Account: "cap", Password: capillarysim.AlicePassword, MFAPassword: "wrong-mfa-password"})
	var ch *account.Challenge
	if !errors.As(err, &ch) || !ch.Invalid {
		t.Fatalf("want a challenge for a wrong code, got %v", err)
	}
	if ch.Message == "" || textsafe.Line(ch.Message) != ch.Message {
		t.Fatalf("the challenge's message holds what a terminal acts on (or is empty): %q", ch.Message)
	}
}

// TestConcurrentSignInsStoreTheNewestSession: two keyturn processes
// signing in to one account at once must not store the older session
// last. The first sign-in's answer is slow; the second starts while it is
// on its way. Sign-ins take the account's lock, so the second waits and
// its session, the newest, is the credential.
func TestConcurrentSignInsStoreTheNewestSession(t *testing.T) {
	sb, err := sandbox.Start(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	ctx := context.Background()
	cf := config.Open(filepath.Join(t.TempDir(), "config.json"))
	store := keystore.NewMemory()
	// Two managers over one config and store: two processes.
	first := account.New(cf, keystore.NewVault(store, cf), account.Options{Timeout: 5 * time.Second})
	second := account.New(cf, keystore.NewVault(store, cf), account.Options{Timeout: 5 * time.Second, LockWait: 5 * time.Second})
	if _, err := first.Add(ctx, config.Account{Name: "mm", Service: account.Mattermost, URL: sb.MattermostURL, User: mattermostsim.AliceUsername}); err != nil {
		t.Fatal(err)
	}
	login := func(m *account.Manager) error {
		_, err := m.Login(ctx, account.LoginRequest{Account: "mm", Password: mattermostsim.AlicePassword})
		return err
	}
	sb.Env.Faults.Add(simnet.Rule{Path: "/users/login", Method: "POST", Fault: simnet.Slow, Delay: 600 * time.Millisecond, Times: 1})
	done := make(chan error, 1)
	go func() { done <- login(first) }()
	for deadline := time.Now().Add(5 * time.Second); len(first.InFlight()) == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the first sign-in never left")
		}
	}
	if err := login(second); err != nil {
		t.Fatalf("second sign-in: %v", err)
	}
	if err := <-done; err != nil {
		t.Fatalf("first sign-in: %v", err)
	}
	var sessions []string
	for _, e := range sb.Env.Ledger.Entries() {
		if e.Service == "mattermost" && e.Kind == "session" {
			sessions = append(sessions, e.Token)
		}
	}
	if len(sessions) != 2 {
		t.Fatalf("%d sessions issued, want 2", len(sessions))
	}
	raw, err := keystore.NewVault(store, cf).Get(ctx, "mm/credential")
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case strings.Contains(raw, sessions[1]):
	case strings.Contains(raw, sessions[0]):
		t.Fatal("the credential holds the older session: the slower sign-in stored last")
	default:
		t.Fatal("the credential holds neither session")
	}
}

// TestReplacingMFASecretOutlivesTheCaller: on Mattermost a new TOTP secret
// replaces the active one as soon as the server makes it. A caller that
// gives up once the request is sent (Esc, Ctrl-C) must still get it, or
// the person is left with an authenticator that no longer signs in.
func TestReplacingMFASecretOutlivesTheCaller(t *testing.T) {
	w := newFaultWorld(t)
	mmSignIn(t, w)
	w.sb.Env.Faults.Add(simnet.Rule{Path: "/mfa/generate", Method: "POST", Fault: simnet.Slow, Delay: 600 * time.Millisecond, Times: 1})
	ctx, cancel := context.WithCancel(context.Background())
	time.AfterFunc(200*time.Millisecond, cancel)
	setup, err := w.mgr.BeginMFA(ctx, "mm", true, nil)
	if err != nil {
		t.Fatalf("a caller that gave up after the request left lost the new secret: %v", err)
	}
	// The secret handed back is the one the server now holds: a code from
	// it signs in (the next step's: the sandbox, like Mattermost, takes
	// each step once, and the sign-in above used this one).
	_, err = w.mgr.Login(context.Background(), account.LoginRequest{Account: "mm", Password: mattermostsim.AdminPassword,
		Answer: &account.Answer{Code: simnet.TOTPCode(setup.Secret, time.Now().Add(30*time.Second))}})
	if err != nil {
		t.Fatalf("signing in with the new secret: %v", err)
	}
}

// TestLogoutDoesNotDeleteATokenRotatedMeanwhile: signing out deletes the
// account's session secret. A rotation in another process while the
// sign-out's request is on its way must not have its new token deleted
// (still valid on the server, with no copy left): Logout takes the lock.
func TestLogoutDoesNotDeleteATokenRotatedMeanwhile(t *testing.T) {
	sb, err := sandbox.Start(sandbox.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	ctx := context.Background()
	cf := config.Open(filepath.Join(t.TempDir(), "config.json"))
	store := keystore.NewMemory()
	first := account.New(cf, keystore.NewVault(store, cf), account.Options{Timeout: 5 * time.Second})
	second := account.New(cf, keystore.NewVault(store, cf), account.Options{Timeout: 5 * time.Second, LockWait: 5 * time.Second})
	if _, err := first.Add(ctx, config.Account{Name: "cap", Service: account.Capillary, URL: sb.CapillaryURL, Brand: capillarysim.SeedBrand,
		DeviceID: capillarysim.SeedDeviceID, IdentifierType: "MOBILE", Identifier: capillarysim.AliceMobile}); err != nil {
		t.Fatal(err)
	}
	if _, err := first.Login(ctx, account.LoginRequest{Account: "cap", Password: capillarysim.AlicePassword, MFAPassword: capillarysim.AliceMFAPassword}); err != nil {
		t.Fatal(err)
	}
	issued := func() []string {
		var out []string
		for _, e := range sb.Env.Ledger.Entries() {
			if e.Service == "capillary" {
				out = append(out, e.Token)
			}
		}
		return out
	}
	before := len(issued())
	sb.Env.Faults.Add(simnet.Rule{Path: "mfa/token/expire", Fault: simnet.Slow, Delay: 600 * time.Millisecond, Times: 1})
	done := make(chan error, 1)
	go func() { done <- first.Logout(ctx, "cap") }()
	for deadline := time.Now().Add(5 * time.Second); sb.Env.Faults.Hits()[simnet.Slow] == 0; time.Sleep(time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatal("the sign-out never reached the server")
		}
	}
	_, rerr := second.Rotate(ctx, "cap", account.Ref{Kind: account.KindSession}, nil)
	if err := <-done; err != nil {
		t.Fatalf("logout: %v", err)
	}
	now := issued()
	if len(now) == before {
		if !errors.Is(rerr, account.ErrNotSignedIn) {
			t.Fatalf("the rotation after the sign-out: %v, want not signed in", rerr)
		}
		return // the rotation waited for the sign-out and found no session: nothing issued, nothing lost
	}
	last := now[len(now)-1]
	v, err := keystore.NewVault(store, cf).Get(ctx, "cap/session")
	if err != nil || v != last {
		t.Fatalf("the rotation's token, valid on the server, is not in the store (rotate: %v; get: %v)", rerr, err)
	}
}

// TestRemoveKeepsTheIssuedSessionToken: removing an account does not sign
// out on the server, and both faces promise that the tokens keyturn issued
// for it stay in the store. Capillary's session token is such a token: it
// keeps working, so deleting keyturn's copy would lose it.
func TestRemoveKeepsTheIssuedSessionToken(t *testing.T) {
	w := newFaultWorld(t)
	capAdd(t, w)
	ctx := context.Background()
	if _, err := capLogin(ctx, w); err != nil {
		t.Fatal(err)
	}
	before, err := w.mgr.Vault().Get(ctx, "cap/session")
	if err != nil {
		t.Fatal(err)
	}
	if err := w.mgr.Remove(ctx, "cap"); err != nil {
		t.Fatal(err)
	}
	after, err := w.mgr.Vault().Get(ctx, "cap/session")
	if err != nil || after != before {
		t.Fatalf("the session token, still valid on the server, is gone from the store: %v", err)
	}
	if _, err := w.mgr.Vault().Get(ctx, "cap/credential"); !errors.Is(err, keystore.ErrNotFound) {
		t.Fatalf("the credential outlived its account: %v", err)
	}
}
