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
	capillarysim "keyturn/sandbox/capillary"
	rocketchatsim "keyturn/sandbox/rocketchat"
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
