package capillary

import (
	"bytes"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"keyturn/client"
	"keyturn/sandbox/capillarysim"
	"keyturn/sandbox/simnet"
)

// world is the client against the sandbox engine, with a trace that must
// never show a secret.
type world struct {
	t     *testing.T
	env   *simnet.Env
	sim   *capillarysim.Server
	url   string
	trace *safeBuffer
	// secrets seen in this test, checked against the trace at the end.
	secrets []string
}

type safeBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *safeBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *safeBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func newWorld(t *testing.T) *world {
	t.Helper()
	env := simnet.NewEnv()
	sim := capillarysim.New(env)
	srv := httptest.NewServer(env.Faults.Wrap(sim))
	w := &world{t: t, env: env, sim: sim, url: srv.URL, trace: &safeBuffer{}}
	t.Cleanup(func() {
		srv.Close()
		out := w.trace.String()
		if !strings.Contains(out, "/auth/v1/") || !strings.Contains(out, client.Redacted) {
			t.Error("the trace recorded nothing, or redacted nothing")
		}
		for _, s := range w.secrets {
			if s != "" && strings.Contains(out, s) {
				t.Error("a secret appears in the debug trace")
			}
		}
	})
	return w
}

func (w *world) client(idType, value string) *Client {
	w.t.Helper()
	hc, err := client.New(client.Options{Service: "capillary", BaseURL: w.url, Trace: client.NewTracer(w.trace)})
	if err != nil {
		w.t.Fatal(err)
	}
	return New(hc, Identity{IdentifierType: idType, IdentifierValue: value, Brand: capillarysim.SeedBrand, DeviceID: capillarysim.SeedDeviceID})
}

func (w *world) secret(s ...string) { w.secrets = append(w.secrets, s...) }

func (w *world) ledgerHas(kind, tok string) bool {
	for _, e := range w.env.Ledger.Entries() {
		if e.Kind == kind && e.Token == tok {
			return true
		}
	}
	return false
}

// must(call(...))(t) fails the test on an error.
func must[T any](v T, err error) func(*testing.T) T {
	return func(t *testing.T) T {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
		return v
	}
}

func wantCode(t *testing.T, err error, code string) {
	t.Helper()
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Code != code || ae.Service != "capillary" {
		t.Fatalf("want capillary APIError %s, got %T %v", code, err, err)
	}
}

func TestSandboxPasswordThenMFAPassword(t *testing.T) {
	w := newWorld(t)
	w.secret(capillarysim.AlicePassword, capillarysim.AliceMFAPassword)
	c := w.client(IdentifierMobile, capillarysim.AliceMobile)
	now := w.env.Clock.Now()

	s := must(c.GenerateToken(ctx, "", ""))(t)
	w.secret(s.Token)
	if !strings.HasPrefix(s.SessionID, "P-") || s.Role != "VIEW" || !s.UserRegisteredForPassword {
		t.Fatalf("session %q role %q registered %v", s.SessionID, s.Role, s.UserRegisteredForPassword)
	}
	if d := s.Expires.Sub(now); d < 14*time.Minute || d > 16*time.Minute {
		t.Errorf("session token expires in %v", d)
	}
	_, err := c.ValidatePassword(ctx, s.SessionID, "wrong-password")
	wantCode(t, err, CodeInvalidPassword)
	if !IsInvalidCode(err) || strings.Contains(err.Error(), "wrong-password") {
		t.Errorf("wrong password error: %v", err)
	}
	first := must(c.ValidatePassword(ctx, s.SessionID, capillarysim.AlicePassword))(t)
	w.secret(first.Token, first.Key)
	if first.Role != "MFA_PENDING" || first.Key == "" || first.Expires.IsZero() {
		t.Fatalf("first factor: role %q key %v expires %v", first.Role, first.Key != "", first.Expires)
	}
	if !w.ledgerHas("capillary-token", first.Token) || !w.ledgerHas("capillary-key", first.Key) {
		t.Error("the ledger misses the first-factor token or key")
	}

	m := must(c.GenerateMFAToken(ctx, first.Token, "", ""))(t)
	w.secret(m.Token)
	if !m.UserRegisteredForPassword || m.SessionID == s.SessionID {
		t.Fatal("MFA session: alice has an MFA password; the session is new")
	}
	_, err = c.ValidateMFAPassword(ctx, m.SessionID, "0000")
	wantCode(t, err, CodeInvalidPassword)
	mfa := must(c.ValidateMFAPassword(ctx, m.SessionID, capillarysim.AliceMFAPassword))(t)
	w.secret(mfa.Token, mfa.Key)
	if mfa.Role != "USER" || mfa.Key == "" {
		t.Fatalf("MFA: role %q", mfa.Role)
	}
	claims, err := ParseToken(mfa.Token)
	if err != nil || claims.Expires.Sub(claims.IssuedAt) != 900*time.Second || claims.UserID != capillarysim.AliceUID {
		t.Errorf("MFA token claims %+v %v", claims, err)
	}
	if k, _ := ParseToken(mfa.Key); k == nil || !k.MFA || k.Role != "AUTH" {
		t.Error("MFA key is not an AUTH key with mfa:true")
	}

	again := must(c.RegenerateMFAToken(ctx, mfa.Key))(t)
	w.secret(again.Token)
	if again.Key != "" || again.Token == mfa.Token || again.Role != "USER" || !w.ledgerHas("capillary-token", again.Token) {
		t.Fatal("mfa/token/regenerate: want a new token, no key")
	}
	// The MFA key does not fit the first-factor regenerate, and vice versa.
	_, err = c.RegenerateToken(ctx, mfa.Key)
	wantCode(t, err, CodeKeyInvalid)
	if !IsSessionExpired(err) {
		t.Error("1597 should mean sign in again")
	}
	_, err = c.RegenerateMFAToken(ctx, first.Key)
	wantCode(t, err, CodeKeyInvalid)

	if err := c.ExpireMFAToken(ctx, again.Token); err != nil {
		t.Fatal(err)
	}
	if !w.sim.TokenExpired(again.Token) {
		t.Error("the server still honours the expired token")
	}
	wantCode(t, c.ExpireMFAToken(ctx, again.Token), CodeExpireFailed)
}

func TestSandboxOTPAndMFAOTP(t *testing.T) {
	w := newWorld(t)
	c := w.client(IdentifierMobile, capillarysim.AliceMobile)
	s := must(c.GenerateToken(ctx, "", ""))(t)
	_, err := c.ValidateOTP(ctx, s.SessionID, "123456")
	wantCode(t, err, CodeOTPNotGenerated)
	if err := c.GenerateOTP(ctx, s.SessionID); err != nil {
		t.Fatal(err)
	}
	otp := w.sim.LastOTP(capillarysim.AliceMobile)
	w.secret(otp)
	first := must(c.ValidateOTP(ctx, s.SessionID, otp))(t)
	w.secret(first.Token, first.Key)
	// Single use.
	_, err = c.ValidateOTP(ctx, s.SessionID, otp)
	wantCode(t, err, CodeInvalidSession)
	if !IsSessionExpired(err) {
		t.Error("1505 should mean sign in again")
	}

	m := must(c.GenerateMFAToken(ctx, first.Token, "", ""))(t)
	if err := c.GenerateMFAOTP(ctx, m.SessionID); err != nil {
		t.Fatal(err)
	}
	code := w.sim.LastMFAOTP(capillarysim.AliceMobile)
	w.secret(code)
	got := must(c.ValidateMFAOTP(ctx, m.SessionID, code))(t)
	w.secret(got.Token, got.Key)
	if got.Role != "USER" || got.Key == "" {
		t.Errorf("MFA OTP: role %q", got.Role)
	}
}

func TestSandboxRegistrationFlows(t *testing.T) {
	w := newWorld(t)
	const pw, mfaPW = "Bob-secret1", "1357"
	w.secret(pw, mfaPW)
	c := w.client(IdentifierMobile, capillarysim.BobMobile)
	_, err := c.GenerateToken(ctx, pw, pw+"x")
	wantCode(t, err, CodePasswordMismatch)
	s := must(c.GenerateToken(ctx, pw, pw))(t)
	if s.UserRegisteredForPassword {
		t.Fatal("bob has no password yet")
	}
	if err := c.GenerateOTP(ctx, s.SessionID); err != nil {
		t.Fatal(err)
	}
	otp := w.sim.LastOTP(capillarysim.BobMobile)
	w.secret(otp)
	first := must(c.ValidateOTP(ctx, s.SessionID, otp))(t)
	w.secret(first.Token, first.Key)
	if first.Role != "MFA_PENDING" {
		t.Errorf("role %q", first.Role)
	}
	// The password now works.
	s2 := must(c.GenerateToken(ctx, "", ""))(t)
	if !s2.UserRegisteredForPassword {
		t.Error("password not registered")
	}
	tk := must(c.ValidatePassword(ctx, s2.SessionID, pw))(t)
	w.secret(tk.Token, tk.Key)

	// First-time MFA password, set while passing the MFA OTP.
	m := must(c.GenerateMFAToken(ctx, first.Token, mfaPW, mfaPW))(t)
	if m.UserRegisteredForPassword {
		t.Fatal("bob has no MFA password yet")
	}
	if err := c.GenerateMFAOTP(ctx, m.SessionID); err != nil {
		t.Fatal(err)
	}
	code := w.sim.LastMFAOTP(capillarysim.BobMobile)
	w.secret(code)
	got := must(c.ValidateMFAOTP(ctx, m.SessionID, code))(t)
	w.secret(got.Token, got.Key)
	m2 := must(c.GenerateMFAToken(ctx, first.Token, "", ""))(t)
	if !m2.UserRegisteredForPassword {
		t.Error("MFA password not registered")
	}
	got = must(c.ValidateMFAPassword(ctx, m2.SessionID, mfaPW))(t)
	w.secret(got.Token, got.Key)
}

func TestSandboxErrors(t *testing.T) {
	w := newWorld(t)
	w.secret(capillarysim.CarolPassword)
	carol := w.client(IdentifierEmail, capillarysim.CarolEmail)

	// Locked after five wrong OTPs.
	s := must(carol.GenerateToken(ctx, "", ""))(t)
	if err := carol.GenerateOTP(ctx, s.SessionID); err != nil {
		t.Fatal(err)
	}
	var err error
	for i := 0; i < 5; i++ {
		_, err = carol.ValidateOTP(ctx, s.SessionID, "not-it")
	}
	wantCode(t, err, CodeOTPRetriesExceeded)
	if !IsLocked(err) || Hint(err) == "" {
		t.Error("1518 should be a lock with a hint")
	}

	// An expired session.
	s = must(carol.GenerateToken(ctx, "", ""))(t)
	w.env.Clock.Advance(16 * time.Minute)
	_, err = carol.ValidatePassword(ctx, s.SessionID, capillarysim.CarolPassword)
	wantCode(t, err, CodeInvalidSession)

	// An expired first-factor token cannot open MFA.
	s = must(carol.GenerateToken(ctx, "", ""))(t)
	tk := must(carol.ValidatePassword(ctx, s.SessionID, capillarysim.CarolPassword))(t)
	w.secret(tk.Token, tk.Key)
	if tk.Role != "USER" {
		t.Errorf("carol has no MFA: role %q", tk.Role)
	}
	w.env.Clock.Advance(16 * time.Minute)
	_, err = carol.GenerateMFAToken(ctx, tk.Token, "", "")
	wantCode(t, err, CodeTokenExpired)
	if !IsSessionExpired(err) {
		t.Error("1529 should mean sign in again")
	}
	// The key still works (no expiry).
	re := must(carol.RegenerateToken(ctx, tk.Key))(t)
	w.secret(re.Token)

	// Identity mismatch: the same key from another device.
	hc, _ := client.New(client.Options{Service: "capillary", BaseURL: w.url})
	other := New(hc, Identity{IdentifierType: IdentifierEmail, IdentifierValue: capillarysim.CarolEmail, Brand: capillarysim.SeedBrand, DeviceID: "another-phone"})
	_, err = other.RegenerateToken(ctx, tk.Key)
	wantCode(t, err, CodeDeviceMismatch)
	if !IsIdentityMismatch(err) {
		t.Error("1508 is an identity mismatch")
	}

	// Unknown brand and user, EXTERNALID.
	nobrand := New(hc, Identity{IdentifierType: IdentifierEmail, IdentifierValue: capillarysim.CarolEmail, Brand: "NoSuch", DeviceID: "d"})
	_, err = nobrand.GenerateToken(ctx, "", "")
	wantCode(t, err, CodeTokenGenerateFailed)
	_, err = w.client(IdentifierMobile, "910000000000").GenerateToken(ctx, "", "")
	wantCode(t, err, CodeUserNotFound)
	// EXTERNALID is refused before any request (the docs do not list it
	// for the first-factor calls).
	if _, err = w.client(IdentifierExternalID, "ext-1").GenerateToken(ctx, "", ""); !errors.Is(err, ErrExternalIDUnsupported) {
		t.Errorf("EXTERNALID: %v", err)
	}
}

// An answer lost after the server applied a regenerate: the client says
// the server may have rotated, and the ledger holds the token.
func TestSandboxFaults(t *testing.T) {
	w := newWorld(t)
	c := w.client(IdentifierEmail, capillarysim.CarolEmail)
	w.secret(capillarysim.CarolPassword)
	s := must(c.GenerateToken(ctx, "", ""))(t)
	tk := must(c.ValidatePassword(ctx, s.SessionID, capillarysim.CarolPassword))(t)
	w.secret(tk.Token, tk.Key)
	for _, tc := range []struct {
		fault simnet.Fault
		check func(error) bool
	}{
		{simnet.DropAfterApply, func(err error) bool {
			var te *client.TransportError
			return errors.As(err, &te) && te.MayHaveReached
		}},
		{simnet.ErrorAfterApply, func(err error) bool {
			var ae *client.APIError
			return errors.As(err, &ae) && ae.Status == 500
		}},
		{simnet.HTMLBody, func(err error) bool {
			var be *client.BadResponseError
			return errors.As(err, &be) && strings.Contains(be.Reason, "HTML")
		}},
		{simnet.TruncatedJSON, func(err error) bool {
			var be *client.BadResponseError
			return errors.As(err, &be) && strings.Contains(be.Reason, "truncated")
		}},
	} {
		before := len(w.env.Ledger.Entries())
		w.env.Faults.Add(simnet.Rule{Path: "/token/regenerate", Fault: tc.fault, Times: 1})
		_, err := c.RegenerateToken(ctx, tk.Key)
		if !tc.check(err) || !client.MayHaveApplied(err) {
			t.Errorf("%s: got %T %v", tc.fault, err, err)
		}
		entries := w.env.Ledger.Entries()
		if len(entries) != before+1 || entries[len(entries)-1].Kind != "capillary-token" {
			t.Errorf("%s: the ledger does not hold the token the client lost", tc.fault)
		} else {
			w.secret(entries[len(entries)-1].Token)
		}
	}
	// A 429 is refused before anything happens.
	before := len(w.env.Ledger.Entries())
	w.env.Faults.Add(simnet.Rule{Path: "/token/regenerate", Fault: simnet.RateLimit, Times: 1, RetryAfter: 3})
	_, err := c.RegenerateToken(ctx, tk.Key)
	var rl *client.RateLimitedError
	if !errors.As(err, &rl) || rl.RetryAfter != 3*time.Second || len(w.env.Ledger.Entries()) != before {
		t.Errorf("rate limit: %T %v", err, err)
	}
}
