package capillarysim

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"keyturn/sandbox/simnet"
)

type harness struct {
	t   *testing.T
	env *simnet.Env
	sim *Server
	srv *httptest.Server
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	env := simnet.NewEnv()
	sim := New(env)
	srv := httptest.NewServer(env.Faults.Wrap(sim))
	t.Cleanup(srv.Close)
	return &harness{t: t, env: env, sim: sim, srv: srv}
}

type body map[string]any

func ident(idType, value string) body {
	return body{"identifierType": idType, "identifierValue": value, "brand": SeedBrand, "deviceId": SeedDeviceID}
}

func (b body) with(kv ...any) body {
	out := body{}
	for k, v := range b {
		out[k] = v
	}
	for i := 0; i+1 < len(kv); i += 2 {
		out[kv[i].(string)] = kv[i+1]
	}
	return out
}

// reply is a decoded answer.
type reply struct {
	Status struct {
		Success bool   `json:"success"`
		Code    int    `json:"code"`
		Message string `json:"message"`
	} `json:"status"`
	Auth *struct {
		Token string  `json:"token"`
		Key   *string `json:"key"`
	} `json:"auth"`
	User *struct {
		AppRegistered             bool    `json:"appRegistered"`
		SessionID                 *string `json:"sessionId"`
		Role                      string  `json:"role"`
		UserRegisteredForPassword bool    `json:"userRegisteredForPassword"`
	} `json:"user"`
	Identifiers *struct {
		IdentifierList any `json:"identifierList"`
	} `json:"identifiers"`
}

func (h *harness) raw(method, path string, payload []byte) (*http.Response, []byte) {
	h.t.Helper()
	req, err := http.NewRequest(method, h.srv.URL+path, bytes.NewReader(payload))
	if err != nil {
		h.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		h.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return resp, data
}

func (h *harness) call(method, path string, b body) *reply {
	h.t.Helper()
	payload, _ := json.Marshal(b)
	resp, data := h.raw(method, "/auth/v1/"+path, payload)
	if resp.StatusCode != 200 {
		h.t.Fatalf("%s: HTTP %d", path, resp.StatusCode)
	}
	if ct := resp.Header.Get("Content-Type"); ct != "application/json" {
		h.t.Fatalf("%s: content type %q", path, ct)
	}
	var r reply
	if err := json.Unmarshal(data, &r); err != nil {
		h.t.Fatalf("%s: %v", path, err)
	}
	return &r
}

func (h *harness) post(path string, b body) *reply { return h.call(http.MethodPost, path, b) }

// ok asserts success and returns the answer.
func (h *harness) ok(path string, b body) *reply {
	h.t.Helper()
	r := h.post(path, b)
	if !r.Status.Success || r.Status.Code != 200 {
		h.t.Fatalf("%s: want success, got code %d %q", path, r.Status.Code, r.Status.Message)
	}
	return r
}

// failsWith asserts a business error with code.
func (h *harness) failsWith(code int, path string, b body) {
	h.t.Helper()
	h.failsWithMethod(code, http.MethodPost, path, b)
}

func (h *harness) failsWithMethod(code int, method, path string, b body) {
	h.t.Helper()
	r := h.call(method, path, b)
	if r.Status.Success || r.Status.Code != code {
		h.t.Fatalf("%s: want code %d, got success=%v code %d", path, code, r.Status.Success, r.Status.Code)
	}
	if r.Status.Message == "" {
		h.t.Fatalf("%s: code %d without a message", path, code)
	}
	if r.Auth != nil || r.User != nil {
		h.t.Fatalf("%s: an error answer carries auth or user", path)
	}
}

func (h *harness) session(id body, kv ...any) string {
	h.t.Helper()
	r := h.ok("token/generate", id.with(kv...))
	if r.User == nil || r.User.SessionID == nil || r.User.Role != RoleView || r.Auth == nil || r.Auth.Key != nil {
		h.t.Fatalf("token/generate answer has the wrong shape")
	}
	return *r.User.SessionID
}

type claims struct {
	header map[string]any
	body   map[string]any
}

func (h *harness) decode(tok string) claims {
	h.t.Helper()
	hd, _, err := verifyJWT(h.sim.secret, tok)
	if err != nil {
		h.t.Fatalf("token does not verify: %v", err)
	}
	if hd.Alg != "HS256" {
		h.t.Fatalf("alg %q", hd.Alg)
	}
	parts := strings.Split(tok, ".")
	var out claims
	for i, dst := range []*map[string]any{&out.header, &out.body} {
		raw, err := base64.RawURLEncoding.DecodeString(parts[i])
		if err != nil {
			h.t.Fatal(err)
		}
		if err := json.Unmarshal(raw, dst); err != nil {
			h.t.Fatal(err)
		}
	}
	return out
}

func num(v any) int64 {
	f, _ := v.(float64)
	return int64(f)
}

func (h *harness) ledgerHas(kind, token string) bool {
	for _, e := range h.env.Ledger.Entries() {
		if e.Service == Service && e.Kind == kind && e.Token == token {
			return true
		}
	}
	return false
}

var sessionRE = regexp.MustCompile(`^P-[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$`)

func TestOTPFirstFactorWithoutMFA(t *testing.T) {
	h := newHarness(t)
	id := ident("EMAIL", CarolEmail)
	r := h.ok("token/generate", id)
	sid := *r.User.SessionID
	if !sessionRE.MatchString(sid) {
		t.Errorf("session id %q is not P-<uuid v4>", sid)
	}
	if !r.User.UserRegisteredForPassword {
		t.Error("carol has a password: userRegisteredForPassword should be true")
	}
	view := h.decode(r.Auth.Token)
	if view.body["rol"] != RoleView || view.body["uid"] != nil {
		t.Errorf("VIEW token claims: rol %v, uid present %v", view.body["rol"], view.body["uid"] != nil)
	}
	if idv := view.header["idv"].([]any); len(idv) != 1 || idv[0] != "EMAIL|"+CarolEmail {
		t.Errorf("header idv %v", idv)
	}
	if view.header["org"] != "DEMOBRAND" || view.header["dev"] != SeedDeviceID {
		t.Errorf("header org %v dev %v", view.header["org"], view.header["dev"])
	}
	if !h.ledgerHas(KindToken, r.Auth.Token) {
		t.Error("VIEW token not in the ledger")
	}

	h.failsWith(1537, "otp/validate", id.with("sessionId", sid, "otp", "123456"))
	h.ok("otp/generate", id.with("sessionId", sid))
	otp := h.sim.LastOTP(CarolEmail)
	if !regexp.MustCompile(`^\d{6}$`).MatchString(otp) {
		t.Fatalf("OTP is not 6 digits (len %d)", len(otp))
	}
	wrong := "000000"
	if otp == wrong {
		wrong = "111111"
	}
	h.failsWith(1506, "otp/validate", id.with("sessionId", sid, "otp", wrong))
	r = h.ok("otp/validate", id.with("sessionId", sid, "otp", otp))
	if r.Auth.Key == nil || r.User.Role != RoleUser || r.User.SessionID != nil {
		t.Fatal("otp/validate answer: want key, role USER, sessionId null")
	}
	tok := h.decode(r.Auth.Token)
	if tok.body["rol"] != RoleUser || tok.body["uid"] != CarolUID || tok.body["iss"] != "CAPILLARY TECHNOLOGIES" || tok.body["isc"] != "false" {
		t.Errorf("token claims %v", tok.body)
	}
	if ogc := tok.body["ogc"].([]any); len(ogc) != 1 || ogc[0] != SeedOrgID+"|"+SeedOrgCode {
		t.Errorf("ogc %v", ogc)
	}
	if d := num(tok.body["exp"]) - num(tok.body["iat"]); d != 900 {
		t.Errorf("default primary token lifetime: exp-iat = %d, want 900", d)
	}
	key := h.decode(*r.Auth.Key)
	if key.body["rol"] != RoleAuth || key.body["exp"] != nil || key.body["mfa"] != false || key.body["uid"] != CarolUID {
		t.Errorf("key claims %v", key.body)
	}
	if !h.ledgerHas(KindToken, r.Auth.Token) || !h.ledgerHas(KindKey, *r.Auth.Key) {
		t.Error("token or key not in the ledger")
	}
	// Single use: the session is gone, and with it the code.
	h.failsWith(1505, "otp/validate", id.with("sessionId", sid, "otp", otp))
	h.failsWith(1505, "otp/generate", id.with("sessionId", sid))

	// A regenerated token for the key; key null.
	r2 := h.ok("token/regenerate", id.with("key", *r.Auth.Key))
	if r2.Auth.Key != nil || r2.Auth.Token == r.Auth.Token || r2.User.Role != RoleUser {
		t.Error("token/regenerate: want key null, a new token, role USER")
	}
	if !h.ledgerHas(KindToken, r2.Auth.Token) {
		t.Error("regenerated token not in the ledger")
	}
	// The key of the first factor does not regenerate MFA tokens.
	h.failsWith(1597, "mfa/token/regenerate", id.with("key", *r.Auth.Key))
	h.failsWith(1597, "token/regenerate", id.with("key", "not-a-key"))
}

func TestNewOTPReplacesOld(t *testing.T) {
	h := newHarness(t)
	id := ident("EMAIL", CarolEmail)
	sid := h.session(id)
	h.ok("otp/generate", id.with("sessionId", sid))
	first := h.sim.LastOTP(CarolEmail)
	var second string
	for second == "" || second == first {
		h.ok("otp/generate", id.with("sessionId", sid))
		second = h.sim.LastOTP(CarolEmail)
	}
	h.failsWith(1506, "otp/validate", id.with("sessionId", sid, "otp", first))
	h.ok("otp/validate", id.with("sessionId", sid, "otp", second))
}

func TestPasswordAndMFAPassword(t *testing.T) {
	h := newHarness(t)
	id := ident("MOBILE", AliceMobile)
	sid := h.session(id)
	h.failsWith(1528, "password/validate", id.with("sessionId", sid, "password", "wrong"))
	r := h.ok("password/validate", id.with("sessionId", sid, "password", AlicePassword))
	if r.Identifiers == nil || r.Identifiers.IdentifierList != nil {
		t.Error("password/validate: want identifiers.identifierList null")
	}
	if r.User.Role != RoleMFAPending || h.decode(r.Auth.Token).body["rol"] != RoleMFAPending {
		t.Fatal("alice is enrolled in MFA: first-factor token should be MFA_PENDING")
	}
	h.failsWith(1505, "password/validate", id.with("sessionId", sid, "password", AlicePassword))
	first := r.Auth.Token

	m := h.ok("mfa/token/generate", id.with("authorizedToken", first))
	if m.User.SessionID == nil || m.User.Role != RoleView || !m.User.UserRegisteredForPassword || m.Auth.Key != nil {
		t.Fatal("mfa/token/generate answer has the wrong shape")
	}
	if v := h.decode(m.Auth.Token); num(v.body["exp"])-num(v.body["iat"]) != 900 {
		t.Error("MFA VIEW token should live 900 s")
	}
	msid := *m.User.SessionID
	// An MFA session is not a first-factor session and vice versa.
	h.failsWith(1505, "password/validate", id.with("sessionId", msid, "password", AlicePassword))
	h.failsWith(1505, "mfa/password/validate", id.with("sessionId", h.session(id), "password", AliceMFAPassword))

	h.failsWith(1528, "mfa/password/validate", id.with("sessionId", msid, "password", "1111"))
	r = h.ok("mfa/password/validate", id.with("sessionId", msid, "password", AliceMFAPassword))
	if r.Identifiers == nil || r.Auth.Key == nil || r.User.Role != RoleUser {
		t.Fatal("mfa/password/validate answer has the wrong shape")
	}
	tok := h.decode(r.Auth.Token)
	if d := num(tok.body["exp"]) - num(tok.body["iat"]); d != 900 || tok.body["rol"] != RoleUser {
		t.Errorf("MFA token: exp-iat %d rol %v", d, tok.body["rol"])
	}
	key := h.decode(*r.Auth.Key)
	if key.body["mfa"] != true || key.body["rol"] != RoleAuth || key.body["exp"] != nil {
		t.Errorf("MFA key claims %v", key.body)
	}
	mfaKey := *r.Auth.Key

	g := h.ok("mfa/token/regenerate", id.with("key", mfaKey))
	if g.Auth.Key != nil || g.Auth.Token == r.Auth.Token || g.User.SessionID != nil {
		t.Fatal("mfa/token/regenerate: want key null and a new token")
	}
	if d := num(h.decode(g.Auth.Token).body["exp"]) - num(h.decode(g.Auth.Token).body["iat"]); d != 900 {
		t.Errorf("regenerated MFA token exp-iat = %d", d)
	}
	h.failsWith(1597, "token/regenerate", id.with("key", mfaKey))

	// Expire the regenerated token; the call is a DELETE with a body.
	e := h.call(http.MethodDelete, "mfa/token/expire", id.with("token", g.Auth.Token))
	if !e.Status.Success || e.Status.Message != "Token expired successfully" || e.Auth != nil {
		t.Fatalf("mfa/token/expire: code %d %q", e.Status.Code, e.Status.Message)
	}
	if !h.sim.TokenExpired(g.Auth.Token) || h.sim.TokenExpired(r.Auth.Token) {
		t.Error("only the expired token should be expired")
	}
	h.failsWithMethod(1531, http.MethodDelete, "mfa/token/expire", id.with("token", g.Auth.Token))
	h.failsWithMethod(1531, http.MethodDelete, "mfa/token/expire", id.with("token", "garbage"))
	h.failsWithMethod(1531, http.MethodDelete, "mfa/token/expire", id.with("token", mfaKey))
	h.failsWithMethod(1508, http.MethodDelete, "mfa/token/expire", id.with("token", r.Auth.Token, "deviceId", "other"))

	// The docs limit mfa/token/expire to the MFA step's tokens: a
	// first-factor token is refused and keeps working.
	h.failsWithMethod(1531, http.MethodDelete, "mfa/token/expire", id.with("token", first))
	h.ok("mfa/token/generate", id.with("authorizedToken", first))
}

func TestRegistrationAndFirstTimeMFAPassword(t *testing.T) {
	h := newHarness(t)
	id := ident("MOBILE", BobMobile)
	h.failsWith(1521, "token/generate", id.with("password", "secret-1", "confirmPassword", "secret-2"))
	h.failsWith(1521, "token/generate", id.with("password", "secret-1"))
	// The docs set no rule for first-factor passwords: a short one is taken.
	h.ok("token/generate", id.with("password", "abc", "confirmPassword", "abc"))
	r := h.ok("token/generate", id.with("password", "Bob-secret1", "confirmPassword", "Bob-secret1"))
	if r.User.UserRegisteredForPassword {
		t.Fatal("bob has no password yet")
	}
	sid := *r.User.SessionID
	// Not registered yet: password/validate cannot work.
	h.failsWith(1526, "password/validate", id.with("sessionId", sid, "password", "Bob-secret1"))
	h.ok("otp/generate", id.with("sessionId", sid))
	r = h.ok("otp/validate", id.with("sessionId", sid, "otp", h.sim.LastOTP(BobMobile)))
	if !r.User.UserRegisteredForPassword || r.User.Role != RoleMFAPending {
		t.Fatal("after OTP validation bob's password is registered and he is MFA_PENDING")
	}
	first := r.Auth.Token
	r = h.ok("token/generate", id)
	if !r.User.UserRegisteredForPassword {
		t.Fatal("registered password not reported")
	}
	h.ok("password/validate", id.with("sessionId", *r.User.SessionID, "password", "Bob-secret1"))

	// MFA: bob has no MFA password; he sets one while passing the MFA OTP.
	h.failsWith(1521, "mfa/token/generate", id.with("authorizedToken", first, "password", "1357", "confirmPassword", "1358"))
	// MFA passwords follow the brand's MFA_PASSWORD_REGEX, when it has one.
	h.ok("mfa/token/generate", id.with("authorizedToken", first, "password", "13", "confirmPassword", "13"))
	if err := h.sim.SetMFAPasswordRule(`^[0-9]{4,}$`); err != nil {
		t.Fatal(err)
	}
	h.failsWith(1542, "mfa/token/generate", id.with("authorizedToken", first, "password", "13", "confirmPassword", "13"))
	m := h.ok("mfa/token/generate", id.with("authorizedToken", first, "password", "1357", "confirmPassword", "1357"))
	if m.User.UserRegisteredForPassword {
		t.Fatal("bob has no MFA password yet")
	}
	msid := *m.User.SessionID
	h.failsWith(1526, "mfa/password/validate", id.with("sessionId", msid, "password", "1357"))
	h.failsWith(1537, "mfa/otp/validate", id.with("sessionId", msid, "otp", "123456"))
	h.ok("mfa/otp/generate", id.with("sessionId", msid))
	if h.sim.LastMFAOTP(BobMobile) == "" {
		t.Fatal("no MFA OTP in the outbox")
	}
	// The MFA sample sends the OTP as a bare number; accept it.
	code := h.sim.LastMFAOTP(BobMobile)
	var n json.Number = json.Number(strings.TrimLeft(code, "0"))
	if n == "" {
		n = "0"
	}
	r = h.ok("mfa/otp/validate", id.with("sessionId", msid, "otp", n))
	if !r.User.UserRegisteredForPassword || r.Auth.Key == nil || h.decode(*r.Auth.Key).body["mfa"] != true {
		t.Fatal("mfa/otp/validate: want MFA key and the MFA password registered")
	}
	m = h.ok("mfa/token/generate", id.with("authorizedToken", first))
	h.ok("mfa/password/validate", id.with("sessionId", *m.User.SessionID, "password", "1357"))
}

func TestOTPLockout(t *testing.T) {
	for _, mfa := range []bool{false, true} {
		h := newHarness(t)
		id := ident("MOBILE", BobMobile)
		sid, gen, val, last := h.session(id), "otp/generate", "otp/validate", h.sim.LastOTP
		if mfa {
			h.ok("otp/generate", id.with("sessionId", sid))
			r := h.ok("otp/validate", id.with("sessionId", sid, "otp", h.sim.LastOTP(BobMobile)))
			sid = *h.ok("mfa/token/generate", id.with("authorizedToken", r.Auth.Token)).User.SessionID
			gen, val, last = "mfa/otp/generate", "mfa/otp/validate", h.sim.LastMFAOTP
		}
		h.ok(gen, id.with("sessionId", sid))
		code := last(BobMobile)
		wrong := "999999"
		if code == wrong {
			wrong = "888888"
		}
		for i := 1; i < MaxOTPRetries; i++ {
			h.failsWith(1506, val, id.with("sessionId", sid, "otp", wrong))
		}
		h.failsWith(1518, val, id.with("sessionId", sid, "otp", wrong))
		h.failsWith(1518, val, id.with("sessionId", sid, "otp", code))
		h.failsWith(1518, gen, id.with("sessionId", sid))
	}
}

func TestPasswordLockout(t *testing.T) {
	h := newHarness(t)
	id := ident("MOBILE", AliceMobile)
	sid := h.session(id)
	for i := 1; i < MaxPasswordRetries; i++ {
		h.failsWith(1528, "password/validate", id.with("sessionId", sid, "password", "nope"))
	}
	h.failsWith(1530, "password/validate", id.with("sessionId", sid, "password", "nope"))
	h.failsWith(1530, "password/validate", id.with("sessionId", sid, "password", AlicePassword))
	// The OTP still works while the password is locked.
	h.ok("otp/generate", id.with("sessionId", sid))
	h.ok("otp/validate", id.with("sessionId", sid, "otp", h.sim.LastOTP(AliceMobile)))
	h.env.Clock.Advance(PasswordLockPeriod + time.Minute)
	h.ok("password/validate", id.with("sessionId", h.session(id), "password", AlicePassword))

	// The MFA password locks on its own.
	h.SetLifetime(time.Hour)
	first := h.ok("password/validate", id.with("sessionId", h.session(id), "password", AlicePassword)).Auth.Token
	msid := *h.ok("mfa/token/generate", id.with("authorizedToken", first)).User.SessionID
	for i := 1; i < MaxPasswordRetries; i++ {
		h.failsWith(1528, "mfa/password/validate", id.with("sessionId", msid, "password", "0000"))
	}
	h.failsWith(1530, "mfa/password/validate", id.with("sessionId", msid, "password", "0000"))
	h.failsWith(1530, "mfa/password/validate", id.with("sessionId", msid, "password", AliceMFAPassword))
	h.ok("password/validate", id.with("sessionId", h.session(id), "password", AlicePassword))
}

func (h *harness) SetLifetime(d time.Duration) { h.sim.SetPrimaryTokenLifetime(d) }

func TestExpiry(t *testing.T) {
	h := newHarness(t)
	h.SetLifetime(2 * time.Minute)
	id := ident("MOBILE", AliceMobile)
	sid := h.session(id)
	h.ok("otp/generate", id.with("sessionId", sid))
	if len(h.sim.Codes(h.env.Clock.Now())) != 1 {
		t.Fatal("Codes should list the OTP just sent")
	}
	h.env.Clock.Advance(SessionLifetime + time.Second)
	if len(h.sim.Codes(h.env.Clock.Now())) != 0 {
		t.Error("Codes should drop an OTP whose session expired")
	}
	h.failsWith(1505, "otp/validate", id.with("sessionId", sid, "otp", h.sim.LastOTP(AliceMobile)))

	r := h.ok("password/validate", id.with("sessionId", h.session(id), "password", AlicePassword))
	if d := num(h.decode(r.Auth.Token).body["exp"]) - num(h.decode(r.Auth.Token).body["iat"]); d != 120 {
		t.Errorf("configured primary lifetime: exp-iat = %d, want 120", d)
	}
	h.env.Clock.Advance(3 * time.Minute)
	h.failsWith(1529, "mfa/token/generate", id.with("authorizedToken", r.Auth.Token))
	h.failsWithMethod(1531, http.MethodDelete, "mfa/token/expire", id.with("token", r.Auth.Token))
	// The key has no expiry.
	r = h.ok("token/regenerate", id.with("key", *r.Auth.Key))
	h.ok("mfa/token/generate", id.with("authorizedToken", r.Auth.Token))
}

func TestIdentityChecks(t *testing.T) {
	h := newHarness(t)
	h.sim.mu.Lock()
	h.sim.brands["OTHER"] = &brand{name: "Other", orgID: "1", orgCode: "other", users: map[string]*user{
		userKey("MOBILE", AliceMobile): {uid: "9", idType: "MOBILE", value: AliceMobile, password: "Other-pass1"},
	}}
	h.sim.mu.Unlock()
	id := ident("MOBILE", AliceMobile)
	sid := h.session(id)
	other := id.with("brand", "Other")
	h.failsWith(1509, "otp/generate", id.with("sessionId", sid, "brand", "Other"))
	h.failsWith(1508, "otp/generate", id.with("sessionId", sid, "deviceId", "another"))
	h.failsWith(1541, "otp/generate", id.with("sessionId", sid, "identifierValue", BobMobile))
	h.failsWith(1541, "otp/validate", id.with("sessionId", sid, "identifierType", "EMAIL", "otp", "1"))
	h.failsWith(1507, "password/validate", id.with("sessionId", sid, "identifierValue", BobMobile, "password", "x"))
	// Brand names are case-insensitive.
	h.ok("password/validate", id.with("sessionId", sid, "brand", "demobrand", "password", AlicePassword))

	r := h.ok("password/validate", id.with("sessionId", h.session(id), "password", AlicePassword))
	h.failsWith(1508, "token/regenerate", id.with("key", *r.Auth.Key, "deviceId", "another"))
	h.failsWith(1507, "token/regenerate", id.with("key", *r.Auth.Key, "identifierValue", BobMobile))
	h.failsWith(1509, "token/regenerate", other.with("key", *r.Auth.Key))
	h.failsWith(1508, "mfa/token/generate", id.with("authorizedToken", r.Auth.Token, "deviceId", "another"))
	h.failsWith(1509, "mfa/token/generate", other.with("authorizedToken", r.Auth.Token))
	h.failsWith(1507, "mfa/token/generate", ident("MOBILE", BobMobile).with("authorizedToken", r.Auth.Token))
	// Forged, malformed or VIEW tokens do not open MFA.
	view := h.ok("token/generate", id).Auth.Token
	h.failsWith(1505, "mfa/token/generate", id.with("authorizedToken", view))
	h.failsWith(1505, "mfa/token/generate", id.with("authorizedToken", "a.b.c"))
	parts := strings.Split(r.Auth.Token, ".")
	h.failsWith(1505, "mfa/token/generate", id.with("authorizedToken", parts[0]+"."+parts[1]+".AAAA"))
	h.failsWith(1519, "mfa/token/generate", id)
	// A token from another server instance is not this server's.
	h2 := newHarness(t)
	r2 := h2.ok("password/validate", id.with("sessionId", h2.session(id), "password", AlicePassword))
	h.failsWith(1505, "mfa/token/generate", id.with("authorizedToken", r2.Auth.Token))
	h.failsWith(1597, "token/regenerate", id.with("key", *r2.Auth.Key))
}

func TestRequestValidation(t *testing.T) {
	h := newHarness(t)
	id := ident("MOBILE", AliceMobile)
	h.failsWith(1504, "token/generate", id.with("brand", "NoSuchBrand"))
	h.failsWith(1515, "token/generate", id.with("identifierValue", "910000000000"))
	h.failsWith(1515, "token/generate", ident("USERNAME", "alice"))
	h.failsWith(3005, "token/generate", ident("EXTERNALID", "x-1"))
	h.failsWith(1546, "token/generate", id.with("identifierType", ""))
	h.failsWith(1519, "token/generate", id.with("deviceId", ""))
	h.failsWith(1519, "token/generate", id.with("identifierValue", " "))
	h.failsWith(1505, "otp/generate", id.with("sessionId", "P-00000000-0000-4000-8000-000000000000"))
	h.failsWith(1519, "otp/validate", id.with("sessionId", h.session(id)))

	// Emails match case-insensitively.
	h.ok("token/generate", ident("EMAIL", strings.ToUpper(CarolEmail)))

	for _, tc := range []struct {
		name, method, path, payload string
		status                      int
		want                        string
	}{
		{"bad enum", "POST", "/auth/v1/token/generate", `{"identifierType":"MOBIL","identifierValue":"1","brand":"DemoBrand","deviceId":"d"}`, 400, "Can not deserialize value of type com.capillary.solutions.auth.domain.IdentifierType"},
		{"bad enum type", "POST", "/auth/v1/otp/generate", `{"identifierType":7}`, 400, "Can not deserialize"},
		{"malformed json", "POST", "/auth/v1/token/generate", `{"identifierType":`, 400, ""},
		{"unknown path", "POST", "/auth/v1/nothing", `{}`, 404, ""},
		{"wrong method", "GET", "/auth/v1/token/generate", ``, 405, ""},
		{"expire is DELETE", "POST", "/auth/v1/mfa/token/expire", `{}`, 405, ""},
	} {
		resp, data := h.raw(tc.method, tc.path, []byte(tc.payload))
		if resp.StatusCode != tc.status {
			t.Errorf("%s: HTTP %d, want %d", tc.name, resp.StatusCode, tc.status)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
			t.Errorf("%s: content type %q, want plain text", tc.name, ct)
		}
		if json.Valid(data) {
			t.Errorf("%s: body is JSON", tc.name)
		}
		if !strings.Contains(string(data), tc.want) {
			t.Errorf("%s: body %q lacks %q", tc.name, data, tc.want)
		}
	}
}

func TestOTPRateLimit(t *testing.T) {
	h := newHarness(t)
	id := ident("EMAIL", CarolEmail)
	sid := h.session(id)
	for i := 0; i < MaxOTPsPerWindow; i++ {
		h.ok("otp/generate", id.with("sessionId", sid))
	}
	h.failsWith(1534, "otp/generate", id.with("sessionId", sid))
	h.env.Clock.Advance(OTPWindow)
	h.ok("otp/generate", id.with("sessionId", h.session(id)))
}

// Faults apply the change first: the ledger still holds what the client
// never saw, and the server state moved on.
func TestFaultsKeepLedger(t *testing.T) {
	for _, fault := range []simnet.Fault{simnet.DropAfterApply, simnet.ErrorAfterApply, simnet.HTMLBody, simnet.TruncatedJSON} {
		h := newHarness(t)
		id := ident("EMAIL", CarolEmail)
		r := h.ok("password/validate", id.with("sessionId", h.session(id), "password", CarolPassword))
		before := len(h.env.Ledger.Entries())
		h.env.Faults.Add(simnet.Rule{Path: "/token/regenerate", Fault: fault, Times: 1})
		payload, _ := json.Marshal(id.with("key", *r.Auth.Key))
		req, _ := http.NewRequest(http.MethodPost, h.srv.URL+"/auth/v1/token/regenerate", bytes.NewReader(payload))
		if resp, err := http.DefaultClient.Do(req); err == nil {
			resp.Body.Close()
		}
		entries := h.env.Ledger.Entries()
		if len(entries) != before+1 {
			t.Fatalf("%s: ledger grew by %d, want 1", fault, len(entries)-before)
		}
		lost := entries[len(entries)-1]
		if lost.Kind != KindToken || lost.ID != "DEMOBRAND/EMAIL|"+CarolEmail || lost.Service != Service {
			t.Errorf("%s: ledger entry %s %s", fault, lost.Kind, lost.ID)
		}
		// The token the client never saw is real: it opens MFA.
		h.ok("mfa/token/generate", id.with("authorizedToken", lost.Token))
		if h.env.Faults.Hits()[fault] != 1 {
			t.Errorf("%s did not fire", fault)
		}
	}
}

func TestLedgerRecordsEverything(t *testing.T) {
	h := newHarness(t)
	id := ident("MOBILE", AliceMobile)
	r := h.ok("password/validate", id.with("sessionId", h.session(id), "password", AlicePassword))
	m := h.ok("mfa/token/generate", id.with("authorizedToken", r.Auth.Token))
	v := h.ok("mfa/password/validate", id.with("sessionId", *m.User.SessionID, "password", AliceMFAPassword))
	g := h.ok("mfa/token/regenerate", id.with("key", *v.Auth.Key))
	for _, tok := range []string{r.Auth.Token, m.Auth.Token, v.Auth.Token, g.Auth.Token} {
		if !h.ledgerHas(KindToken, tok) {
			t.Error("a token is missing from the ledger")
		}
	}
	for _, k := range []string{*r.Auth.Key, *v.Auth.Key} {
		if !h.ledgerHas(KindKey, k) {
			t.Error("a key is missing from the ledger")
		}
	}
	// session VIEW + first token + first key + MFA VIEW + MFA token + MFA key + regenerated
	if n := len(h.env.Ledger.Entries()); n != 7 {
		t.Errorf("ledger has %d entries, want 7", n)
	}
}

func TestSeedsAndCodes(t *testing.T) {
	h := newHarness(t)
	b, err := json.Marshal(h.sim.Seeds())
	if err != nil {
		t.Fatal(err)
	}
	var info SeedInfo
	if err := json.Unmarshal(b, &info); err != nil {
		t.Fatal(err)
	}
	if info.Brand != SeedBrand || info.DeviceID != SeedDeviceID || len(info.Users) != 4 {
		t.Fatalf("seeds: brand %q device %q users %d", info.Brand, info.DeviceID, len(info.Users))
	}
	alice, bob, carol, dave := info.Users[0], info.Users[1], info.Users[2], info.Users[3]
	if dave.IdentifierType != "USERNAME" || dave.IdentifierValue != DaveUsername || dave.Mobile != DaveMobile || dave.Email != DaveEmail || dave.Password != DavePassword {
		t.Error("dave's seed is wrong")
	}
	if alice.IdentifierValue != AliceMobile || alice.Password != AlicePassword || alice.MFAPassword != AliceMFAPassword || !alice.MFA {
		t.Error("alice's seed is wrong")
	}
	if bob.IdentifierValue != BobMobile || bob.Password != "" || !bob.MFA || bob.MFAPassword != "" {
		t.Error("bob's seed is wrong")
	}
	if carol.IdentifierType != "EMAIL" || carol.IdentifierValue != CarolEmail || carol.MFA {
		t.Error("carol's seed is wrong")
	}

	id := ident("MOBILE", AliceMobile)
	sid := h.session(id)
	h.ok("otp/generate", id.with("sessionId", sid))
	tok := h.ok("otp/validate", id.with("sessionId", sid, "otp", h.sim.LastOTP(AliceMobile))).Auth.Token
	msid := *h.ok("mfa/token/generate", id.with("authorizedToken", tok)).User.SessionID
	h.ok("mfa/otp/generate", id.with("sessionId", msid))
	codes := h.sim.Codes(h.env.Clock.Now())
	if len(codes) != 2 {
		t.Fatalf("codes: %d, want the OTP and the MFA OTP", len(codes))
	}
	if codes[0].Label != "Capillary MFA OTP for MOBILE 919999000001 (DemoBrand)" || codes[0].Code != h.sim.LastMFAOTP(AliceMobile) {
		t.Errorf("MFA code label %q", codes[0].Label)
	}
	if codes[1].Label != "Capillary OTP for MOBILE 919999000001 (DemoBrand)" || codes[1].Code != h.sim.LastOTP(AliceMobile) {
		t.Errorf("OTP code label %q", codes[1].Label)
	}
	if n := len(h.sim.Outbox()); n != 2 {
		t.Errorf("outbox has %d entries", n)
	}
	if h.sim.LastOTP("nobody") != "" {
		t.Error("LastOTP for an unknown identifier")
	}
}

// A USERNAME identifier needs mobile or email alongside on token/generate
// and token/regenerate; a password is compared exactly, spaces included.
func TestUsernameIdentifier(t *testing.T) {
	h := newHarness(t)
	id := ident("USERNAME", DaveUsername)
	h.failsWith(1540, "token/generate", id)
	h.failsWith(1507, "token/generate", id.with("mobile", "910000000000"))
	r := h.ok("token/generate", id.with("mobile", DaveMobile))
	h.failsWith(1528, "password/validate", id.with("sessionId", *r.User.SessionID, "password", "dave pass"))
	r = h.ok("token/generate", id.with("email", DaveEmail))
	v := h.ok("password/validate", id.with("sessionId", *r.User.SessionID, "password", DavePassword))
	if v.User.Role != RoleUser || v.Auth.Key == nil {
		t.Fatalf("dave signed in: role %q", v.User.Role)
	}
	h.failsWith(1540, "token/regenerate", id.with("key", *v.Auth.Key))
	h.ok("token/regenerate", id.with("key", *v.Auth.Key, "mobile", DaveMobile))
}

// A brand that does not mark MFA in the first-factor role answers USER for
// a person enrolled in MFA; the MFA step still works.
func TestMFARoleUnmarked(t *testing.T) {
	h := newHarness(t)
	h.sim.SetMFARoleMarked(false)
	id := ident("MOBILE", AliceMobile)
	r := h.ok("token/generate", id)
	v := h.ok("password/validate", id.with("sessionId", *r.User.SessionID, "password", AlicePassword))
	if v.User.Role != RoleUser {
		t.Fatalf("first-factor role %q, want USER", v.User.Role)
	}
	m := h.ok("mfa/token/generate", id.with("authorizedToken", v.Auth.Token))
	h.ok("mfa/password/validate", id.with("sessionId", *m.User.SessionID, "password", AliceMFAPassword))
}
