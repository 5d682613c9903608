package rocketchat_test

import (
	"context"
	"errors"
	"net/http/httptest"
	"reflect"
	"strings"
	"testing"
	"time"

	"keyturn/client"
	"keyturn/client/rocketchat"
	"keyturn/sandbox/rocketchatsim"
	"keyturn/sandbox/simnet"
)

type sandbox struct {
	env *simnet.Env
	sim *rocketchatsim.Server
	rc  *rocketchat.Client // no credentials
}

func newSandbox(t *testing.T, rateLimit bool) *sandbox {
	t.Helper()
	env := simnet.NewEnv()
	sim := rocketchatsim.New(env)
	sim.SetRateLimit(rateLimit)
	srv := httptest.NewServer(env.Faults.Wrap(sim))
	t.Cleanup(srv.Close)
	rc, err := rocketchat.Open(client.Options{BaseURL: srv.URL, Sleep: func(context.Context, time.Duration) error {
		t.Error("the client slept for a retry")
		return nil
	}}, rocketchat.Credentials{})
	if err != nil {
		t.Fatal(err)
	}
	return &sandbox{env: env, sim: sim, rc: rc}
}

func (s *sandbox) totp() string { return simnet.TOTPCode(rocketchatsim.AliceTOTP, s.env.Clock.Now()) }

func (s *sandbox) login(t *testing.T, user, password, code string) *rocketchat.Client {
	t.Helper()
	res, err := s.rc.Login(context.Background(), user, password, code)
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	return s.rc.WithCredentials(res.Credentials)
}

func (s *sandbox) inLedger(kind, token string) bool {
	for _, e := range s.env.Ledger.Entries() {
		if e.Kind == kind && e.Token == token {
			return true
		}
	}
	return false
}

func asSF(t *testing.T, err error) *client.SecondFactorRequired {
	t.Helper()
	var sf *client.SecondFactorRequired
	if !errors.As(err, &sf) {
		t.Fatalf("err = %T %v, want a second-factor challenge", err, err)
	}
	return sf
}

func asAPI(t *testing.T, err error) *client.APIError {
	t.Helper()
	var ae *client.APIError
	if !errors.As(err, &ae) {
		t.Fatalf("err = %T %v, want *client.APIError", err, err)
	}
	return ae
}

func TestSandboxLoginTOTP(t *testing.T) {
	s := newSandbox(t, false)
	ctx := context.Background()
	_, err := s.rc.Login(ctx, "alice", rocketchatsim.AlicePassword, "")
	sf := asSF(t, err)
	if sf.Method != client.MethodTOTP || !reflect.DeepEqual(sf.Methods, []string{"totp", "email"}) || sf.Invalid || sf.CodeSent {
		t.Errorf("challenge = %+v", sf)
	}
	_, err = s.rc.Login(ctx, "alice", rocketchatsim.AlicePassword, "000000")
	if sf := asSF(t, err); !sf.Invalid || sf.Locked {
		t.Errorf("wrong code: %+v", sf)
	}
	res, err := s.rc.Login(ctx, "alice", rocketchatsim.AlicePassword, s.totp())
	if err != nil {
		t.Fatal(err)
	}
	if res.Credentials.UserID != rocketchatsim.AliceID || !s.inLedger("session", res.Credentials.AuthToken) {
		t.Error("login credentials are not the ledger's")
	}
	if !reflect.DeepEqual(res.Me.SecondFactorMethods(), []string{"totp", "email"}) || res.Me.Username != "alice" {
		t.Errorf("me = %+v", res.Me)
	}
	// A backup code works once.
	if _, err := s.rc.Login(ctx, "alice", rocketchatsim.AlicePassword, rocketchatsim.AliceBackupCodes[0]); err != nil {
		t.Fatal(err)
	}
	_, err = s.rc.Login(ctx, "alice@example.com", rocketchatsim.AlicePassword, rocketchatsim.AliceBackupCodes[0])
	if sf := asSF(t, err); !sf.Invalid {
		t.Errorf("reused backup code: %+v", sf)
	}
	_, err = s.rc.Login(ctx, "alice", "wrong", s.totp())
	if ae := asAPI(t, err); !ae.Unauthorized() || ae.Code != "Unauthorized" {
		t.Errorf("wrong password: %+v", ae)
	}
}

func TestSandboxLoginEmailCode(t *testing.T) {
	s := newSandbox(t, false)
	ctx := context.Background()
	_, err := s.rc.Login(ctx, "bob", rocketchatsim.BobPassword, "")
	sf := asSF(t, err)
	if sf.Method != client.MethodEmail || !sf.CodeSent || sf.SentTo != "bob" || !sf.Expires.IsZero() {
		t.Errorf("first challenge = %+v", sf)
	}
	_, err = s.rc.Login(ctx, "bob", rocketchatsim.BobPassword, "")
	sf = asSF(t, err)
	if sf.CodeSent || sf.Expires.Sub(s.env.Clock.Now()) < 59*time.Minute {
		t.Errorf("second challenge = %+v", sf)
	}
	// A fresh code on request; the old one is replaced.
	if err := s.rc.SendEmailCode(ctx, "bob@example.com"); err != nil {
		t.Fatal(err)
	}
	if n := len(s.sim.Outbox()); n != 2 {
		t.Fatalf("outbox has %d mails", n)
	}
	code := s.sim.LastEmailCode("bob")
	wrong := "000000"
	if code == wrong {
		wrong = "111111"
	}
	for i := 1; i <= 5; i++ {
		_, err = s.rc.Login(ctx, "bob", rocketchatsim.BobPassword, wrong)
		if sf := asSF(t, err); !sf.Invalid || sf.Locked != (i == 5) {
			t.Fatalf("wrong code %d: %+v", i, sf)
		}
	}
	if err := s.rc.SendEmailCode(ctx, "bob"); err != nil {
		t.Fatal(err)
	}
	bob := s.login(t, "bob", rocketchatsim.BobPassword, s.sim.LastEmailCode("bob"))
	me, err := bob.Me(ctx)
	if err != nil || !me.EmailTwoFactorEnabled() || me.TOTPEnabled() {
		t.Fatalf("me: %v", err)
	}
}

func TestSandboxPATLifecycleWithPasswordFallback(t *testing.T) {
	s := newSandbox(t, false)
	ctx := context.Background()
	carol := s.login(t, "carol", rocketchatsim.CarolPassword, "")
	if pats, err := carol.ListPATs(ctx); err != nil || len(pats) != 0 {
		t.Fatalf("list: %v, %d", err, len(pats))
	}
	_, err := carol.GeneratePAT(ctx, "cli", false, nil)
	sf := asSF(t, err)
	if sf.Method != client.MethodPassword || len(sf.Methods) != 0 {
		t.Fatalf("challenge = %+v", sf)
	}
	_, err = carol.GeneratePAT(ctx, "cli", false, &rocketchat.SecondFactor{Method: sf.Method, Code: "not the password"})
	if sf := asSF(t, err); !sf.Invalid {
		t.Fatalf("wrong password accepted: %+v", sf)
	}
	tok, err := carol.GeneratePAT(ctx, "cli", false, &rocketchat.SecondFactor{Method: sf.Method, Code: rocketchatsim.CarolPassword})
	if err != nil {
		t.Fatal(err)
	}
	if !s.inLedger("pat", tok) {
		t.Error("the PAT is not in the ledger")
	}
	// The passed second factor is remembered for this session.
	if _, err := carol.GeneratePAT(ctx, "cli", false, nil); !rocketchat.IsTokenExists(err) {
		t.Errorf("duplicate: %v", err)
	}
	pats, err := carol.ListPATs(ctx)
	if err != nil || len(pats) != 1 || pats[0].Name != "cli" || pats[0].LastTokenPart != tok[len(tok)-6:] ||
		pats[0].BypassTwoFactor == nil || *pats[0].BypassTwoFactor || time.Since(pats[0].CreatedAt) > time.Minute {
		t.Fatalf("list: %v %+v", err, pats)
	}
	withPAT := carol.WithCredentials(rocketchat.Credentials{UserID: rocketchatsim.CarolID, AuthToken: tok, IsPAT: true})
	if me, err := withPAT.Me(ctx); err != nil || me.ID != rocketchatsim.CarolID {
		t.Fatalf("me with PAT: %v", err)
	}
	if err := withPAT.Logout(ctx); !errors.Is(err, rocketchat.ErrLogoutWithPAT) {
		t.Errorf("logout with PAT: %v", err)
	}

	s.env.Clock.Advance(time.Second)
	tok2, err := carol.RegeneratePAT(ctx, "cli", nil)
	if err != nil {
		t.Fatal(err)
	}
	if tok2 == tok || !s.inLedger("pat", tok2) {
		t.Error("regenerate did not issue a new, recorded token")
	}
	if _, err := withPAT.Me(ctx); !asAPI(t, err).Unauthorized() {
		t.Errorf("old PAT: %v", err)
	}
	if _, err := carol.RegeneratePAT(ctx, "nope", nil); !rocketchat.IsTokenMissing(err) {
		t.Errorf("regenerate missing: %v", err)
	}
	if err := carol.RemovePAT(ctx, "cli", nil); err != nil {
		t.Fatal(err)
	}
	if err := carol.RemovePAT(ctx, "cli", nil); !rocketchat.IsTokenMissing(err) {
		t.Errorf("remove twice: %v", err)
	}
	if err := carol.Logout(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := carol.Me(ctx); !asAPI(t, err).Unauthorized() {
		t.Errorf("me after logout: %v", err)
	}
}

func TestSandboxBypassPATAndMethodChoice(t *testing.T) {
	s := newSandbox(t, false)
	ctx := context.Background()
	alice := s.login(t, "alice", rocketchatsim.AlicePassword, s.totp())
	_, err := alice.GeneratePAT(ctx, "bot", true, nil)
	sf := asSF(t, err)
	if sf.Method != client.MethodTOTP {
		t.Fatalf("challenge = %+v", sf)
	}
	// Echoing another offered method works: email mails a code on a wrong try.
	_, err = alice.GeneratePAT(ctx, "bot", true, &rocketchat.SecondFactor{Method: "email", Code: "1"})
	if sf := asSF(t, err); sf.Method != "email" || !sf.CodeSent || !sf.Invalid {
		t.Fatalf("email challenge = %+v", sf)
	}
	bot, err := alice.GeneratePAT(ctx, "bot", true, &rocketchat.SecondFactor{Method: "email", Code: s.sim.LastEmailCode("alice")})
	if err != nil {
		t.Fatal(err)
	}
	viaBot := alice.WithCredentials(rocketchat.Credentials{UserID: rocketchatsim.AliceID, AuthToken: bot, IsPAT: true})
	if _, err := viaBot.GeneratePAT(ctx, "made-by-bot", false, nil); err != nil {
		t.Errorf("bypass PAT was challenged: %v", err)
	}
	seeded := alice.WithCredentials(rocketchat.Credentials{UserID: rocketchatsim.AliceID, AuthToken: rocketchatsim.AlicePAT, IsPAT: true})
	_, err = seeded.RegeneratePAT(ctx, rocketchatsim.AlicePATName, nil)
	asSF(t, err)
	if _, err := seeded.RegeneratePAT(ctx, rocketchatsim.AlicePATName, &rocketchat.SecondFactor{Method: "totp", Code: s.totp()}); err != nil {
		t.Fatal(err)
	}
	pats, err := viaBot.ListPATs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range pats {
		if p.Name == "bot" && (p.BypassTwoFactor == nil || !*p.BypassTwoFactor) {
			t.Error("bot lost bypassTwoFactor")
		}
	}
	if len(pats) != 3 {
		t.Errorf("%d PATs listed", len(pats))
	}
}

func TestSandboxPermissionDenied(t *testing.T) {
	s := newSandbox(t, false)
	ctx := context.Background()
	dave := s.login(t, "dave", rocketchatsim.DavePassword, "")
	_, err := dave.GeneratePAT(ctx, "x", false, &rocketchat.SecondFactor{Method: "password", Code: rocketchatsim.DavePassword})
	if ae := asAPI(t, err); ae.Status != 403 || !rocketchat.IsPermissionDenied(err) {
		t.Errorf("generate: %+v", ae)
	}
	if _, err := dave.ListPATs(ctx); !rocketchat.IsPermissionDenied(err) {
		t.Errorf("list: %v", err)
	}
	if err := dave.RemovePAT(ctx, "x", nil); !rocketchat.IsPermissionDenied(err) {
		t.Errorf("remove: %v", err)
	}
}

func TestSandboxTOTPSetup(t *testing.T) {
	s := newSandbox(t, false)
	ctx := context.Background()
	carol := s.login(t, "carol", rocketchatsim.CarolPassword, "")
	_, err := carol.EnableTOTP(ctx, nil)
	sf := asSF(t, err)
	setup, err := carol.EnableTOTP(ctx, &rocketchat.SecondFactor{Method: sf.Method, Code: rocketchatsim.CarolPassword})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(setup.URL, "otpauth://totp/Rocket.Chat%3Acarol?secret=") || !strings.HasSuffix(setup.URL, setup.Secret) {
		t.Error("the setup URL is not the otpauth URL of the secret")
	}
	_, err = carol.ValidateTOTP(ctx, "000000", nil)
	if ae := asAPI(t, err); ae.Code != rocketchat.CodeInvalidTOTP || ae.Status != 400 {
		t.Errorf("wrong code: %+v", ae)
	}
	codes, err := carol.ValidateTOTP(ctx, simnet.TOTPCode(setup.Secret, s.env.Clock.Now()), nil)
	if err != nil {
		t.Fatal(err)
	}
	if len(codes) != 12 || len(codes[0]) != 8 {
		t.Errorf("%d backup codes", len(codes))
	}
	me, err := carol.Me(ctx)
	if err != nil || !me.TOTPEnabled() {
		t.Fatalf("me after setup: %v", err)
	}
	if _, err := carol.EnableTOTP(ctx, nil); asAPI(t, err).Code != rocketchat.CodeTOTPAlreadyEnabled {
		t.Errorf("enable twice: %v", err)
	}
	_, err = s.rc.Login(ctx, "carol", rocketchatsim.CarolPassword, "")
	if sf := asSF(t, err); sf.Method != client.MethodTOTP {
		t.Errorf("login after setup: %+v", sf)
	}
	if err := carol.DisableTOTP(ctx, "000000"); asAPI(t, err).Code != rocketchat.CodeInvalidTOTP {
		t.Errorf("disable with a wrong code: %v", err)
	}
	if err := carol.DisableTOTP(ctx, codes[5]); err != nil {
		t.Fatal(err)
	}
	if _, err := s.rc.Login(ctx, "carol", rocketchatsim.CarolPassword, ""); err != nil {
		t.Errorf("login after disable: %v", err)
	}
}

func TestSandboxRateLimit(t *testing.T) {
	s := newSandbox(t, true)
	ctx := context.Background()
	carol := s.login(t, "carol", rocketchatsim.CarolPassword, "")
	for i := 0; i < 10; i++ {
		if _, err := carol.Me(ctx); err != nil {
			t.Fatalf("call %d: %v", i+1, err)
		}
	}
	_, err := carol.Me(ctx)
	var rl *client.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter < 55*time.Second || rl.RetryAfter > 61*time.Second {
		t.Fatalf("11th call: %v", err)
	}
	// A POST is never retried; it gets the same typed error.
	for i := 0; i < 10; i++ {
		_ = s.rc.SendEmailCode(ctx, "nobody")
	}
	if err := s.rc.SendEmailCode(ctx, "nobody"); !errors.As(err, &rl) {
		t.Fatalf("11th POST: %v", err)
	}
	// The admin is exempt.
	alice := s.rc.WithCredentials(rocketchat.Credentials{UserID: rocketchatsim.AliceID, AuthToken: rocketchatsim.AlicePAT, IsPAT: true})
	for i := 0; i < 12; i++ {
		if _, err := alice.Me(ctx); err != nil {
			t.Fatalf("admin call %d: %v", i+1, err)
		}
	}
}

func TestSandboxFaultsLeaveNoTokenUnaccounted(t *testing.T) {
	s := newSandbox(t, false)
	ctx := context.Background()
	carol := s.login(t, "carol", rocketchatsim.CarolPassword, "")
	pw := &rocketchat.SecondFactor{Method: "password", Code: rocketchatsim.CarolPassword}
	tok, err := carol.GeneratePAT(ctx, "ci", false, pw)
	if err != nil {
		t.Fatal(err)
	}
	before, err := carol.ListPATs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	s.env.Clock.Advance(time.Second)
	s.env.Faults.Add(simnet.Rule{Path: "regeneratePersonalAccessToken", Fault: simnet.DropAfterApply, Times: 1})
	_, err = carol.RegeneratePAT(ctx, "ci", nil)
	var te *client.TransportError
	if !errors.As(err, &te) || !client.MayHaveApplied(err) {
		t.Fatalf("dropped regenerate: %v", err)
	}
	after, err := carol.ListPATs(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(after) != 1 || !after[0].CreatedAt.After(before[0].CreatedAt) || after[0].LastTokenPart == tok[len(tok)-6:] {
		t.Error("the list does not show that the server rotated")
	}
	var lost string
	for _, e := range s.env.Ledger.Entries() {
		if e.Kind == "pat" && e.ID == "ci" && e.Token != tok {
			lost = e.Token
		}
	}
	if lost == "" || lost[len(lost)-6:] != after[0].LastTokenPart {
		t.Error("the ledger does not hold the token the client never saw")
	}
	s.env.Faults.Add(simnet.Rule{Path: "generatePersonalAccessToken", Fault: simnet.HTMLBody, Times: 1})
	_, err = carol.GeneratePAT(ctx, "ci2", false, nil)
	var be *client.BadResponseError
	if !errors.As(err, &be) || !client.MayHaveApplied(err) {
		t.Errorf("HTML answer: %v", err)
	}
	s.env.Faults.Add(simnet.Rule{Path: "generatePersonalAccessToken", Fault: simnet.TruncatedJSON, Times: 1})
	if _, err = carol.GeneratePAT(ctx, "ci3", false, nil); !errors.As(err, &be) {
		t.Errorf("truncated answer: %v", err)
	}
	if pats, _ := carol.ListPATs(ctx); len(pats) != 3 {
		t.Errorf("%d PATs after the faults, want 3", len(pats))
	}
}
