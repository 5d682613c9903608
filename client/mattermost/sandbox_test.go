package mattermost

import (
	"bytes"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"rsc.io/qr"

	"keyturn/client"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/simnet"
)

// Tests of every client call against the simulated server, end to end.

type rig struct {
	env  *simnet.Env
	sim  *mattermostsim.Server
	base string
	anon *Client
}

func newRig(t *testing.T) *rig {
	t.Helper()
	env := simnet.NewEnv()
	sim := mattermostsim.New(env)
	srv := httptest.NewServer(env.Faults.Wrap(sim))
	t.Cleanup(srv.Close)
	core, err := client.New(client.Options{Service: "mattermost", BaseURL: srv.URL, GETRetries: -1})
	if err != nil {
		t.Fatal(err)
	}
	return &rig{env: env, sim: sim, base: srv.URL, anon: New(core, "")}
}

// wrongCode is a six-digit code that is not valid for secret near now.
func wrongCode(secret string, now time.Time) string {
	valid := map[string]bool{}
	for d := -2; d <= 2; d++ {
		valid[simnet.TOTPCode(secret, now.Add(time.Duration(d)*30*time.Second))] = true
	}
	for i := 0; ; i++ {
		c := fmt.Sprintf("%06d", 111111*(i%10)+i/10)
		if !valid[c] {
			return c
		}
	}
}

// login signs in; for admin it takes the current TOTP code.
func (r *rig) login(t *testing.T, user, password, secret string) *Client {
	t.Helper()
	code := ""
	if secret != "" {
		code = simnet.TOTPCode(secret, r.env.Clock.Now())
	}
	tok, u, err := r.anon.Login(bg, user, password, code)
	if err != nil {
		t.Fatalf("login %s: %v", user, err)
	}
	if u.Username != user {
		t.Fatalf("logged in as %q", u.Username)
	}
	return r.anon.WithToken(tok)
}

func (r *rig) admin(t *testing.T) *Client {
	return r.login(t, mattermostsim.AdminUsername, mattermostsim.AdminPassword, mattermostsim.AdminTOTPSecret)
}

// lastToken is the newest token the ledger holds for an id.
func (r *rig) lastToken(kind, id string) string {
	tok := ""
	for _, e := range r.env.Ledger.Entries() {
		if e.Service == mattermostsim.Service && e.Kind == kind && e.ID == id {
			tok = e.Token
		}
	}
	return tok
}

func TestSandboxLoginWithTOTP(t *testing.T) {
	r := newRig(t)
	now := r.env.Clock.Now()
	_, _, err := r.anon.Login(bg, "admin", mattermostsim.AdminPassword, "")
	wantSecondFactor(false)(t, err)
	_, _, err = r.anon.Login(bg, "admin", mattermostsim.AdminPassword, wrongCode(mattermostsim.AdminTOTPSecret, now))
	wantSecondFactor(true)(t, err)
	_, _, err = r.anon.Login(bg, "admin", "wrong", "")
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Code != ErrInvalidLogin || ae.RequestID == "" {
		t.Fatalf("wrong password: %v", err)
	}

	code := simnet.TOTPCode(mattermostsim.AdminTOTPSecret, now)
	tok, u, err := r.anon.Login(bg, "admin@example.com", mattermostsim.AdminPassword, code)
	if err != nil {
		t.Fatal(err)
	}
	if !u.MFAActive || !u.IsSystemAdmin() || u.ID != mattermostsim.AdminID {
		t.Errorf("login user %+v", u)
	}
	found := false
	for _, e := range r.env.Ledger.Entries() {
		found = found || (e.Kind == mattermostsim.KindSession && e.Token == tok)
	}
	if !found {
		t.Error("session token not in the ledger")
	}
	// The same code again is a replay.
	_, _, err = r.anon.Login(bg, "admin", mattermostsim.AdminPassword, code)
	wantSecondFactor(true)(t, err)

	m := r.anon.WithToken(tok)
	me, err := m.Me(bg)
	if err != nil || me.Email != mattermostsim.AdminEmail || !me.MFAActive {
		t.Fatalf("Me = %+v, %v", me, err)
	}
	teams, err := m.MyTeams(bg)
	if err != nil || len(teams) != 1 || teams[0].Name != mattermostsim.TeamName || teams[0].ID != mattermostsim.TeamID {
		t.Fatalf("MyTeams = %+v, %v", teams, err)
	}
	if err := m.Logout(bg); err != nil {
		t.Fatal(err)
	}
	_, err = m.Me(bg)
	if !errors.As(err, &ae) || ae.Code != ErrSessionExpired || !ae.Unauthorized() {
		t.Fatalf("after logout: %v", err)
	}
}

func TestSandboxLockout(t *testing.T) {
	r := newRig(t)
	for i := 0; i < 10; i++ {
		if _, _, err := r.anon.Login(bg, "bob", "nope", ""); err == nil {
			t.Fatal("wrong password accepted")
		}
	}
	_, _, err := r.anon.Login(bg, "bob", mattermostsim.BobPassword, "")
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Code != ErrLocked {
		t.Fatalf("after 10 failures: %v", err)
	}
}

func TestSandboxMFASetup(t *testing.T) {
	r := newRig(t)
	alice := r.login(t, "alice", mattermostsim.AlicePassword, "")
	me, err := alice.Me(bg)
	if err != nil || me.MFAActive {
		t.Fatalf("alice starts without MFA: %+v, %v", me, err)
	}
	sec, err := alice.GenerateMFA(bg, "me")
	if err != nil {
		t.Fatal(err)
	}
	code, err := qr.Encode(OTPAuthURL(r.base, me.Email, sec.Secret), qr.H)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(code.PNG(), sec.QRCode) {
		t.Error("the sandbox's QR code does not hold OTPAuthURL(base URL, email, secret)")
	}
	now := r.env.Clock.Now()
	wantSecondFactor(true)(t, alice.ActivateMFA(bg, me.ID, wrongCode(sec.Secret, now)))
	act := simnet.TOTPCode(sec.Secret, now)
	if err := alice.ActivateMFA(bg, me.ID, act); err != nil {
		t.Fatal(err)
	}
	if me, err := alice.Me(bg); err != nil || !me.MFAActive {
		t.Fatalf("after activation: %+v, %v", me, err)
	}
	// The activation code cannot be used to log in.
	_, _, err = r.anon.Login(bg, "alice", mattermostsim.AlicePassword, act)
	wantSecondFactor(true)(t, err)
	r.env.Clock.Advance(30 * time.Second)
	alice2 := r.login(t, "alice", mattermostsim.AlicePassword, sec.Secret)
	if err := alice2.DeactivateMFA(bg, "me"); err != nil {
		t.Fatal(err)
	}
	if me, err := alice2.Me(bg); err != nil || me.MFAActive {
		t.Fatalf("after deactivation: %+v, %v", me, err)
	}
	r.login(t, "alice", mattermostsim.AlicePassword, "")
}

func TestSandboxCommands(t *testing.T) {
	r := newRig(t)
	admin := r.admin(t)
	cs, err := admin.ListCommands(bg, mattermostsim.TeamID)
	if err != nil || len(cs) != 3 {
		t.Fatalf("ListCommands = %d, %v", len(cs), err)
	}
	for _, c := range cs {
		if c.ID == "" || c.Token == "" || c.CreatorID != mattermostsim.AdminID || c.TeamID != mattermostsim.TeamID {
			t.Errorf("command %s incomplete", c.Trigger)
		}
	}
	id := cs[0].ID
	old := cs[0].Token
	tok, err := admin.RegenCommandToken(bg, id)
	if err != nil || tok == "" || tok == old {
		t.Fatalf("RegenCommandToken: changed=%v, %v", tok != old, err)
	}
	c, err := admin.GetCommand(bg, id)
	if err != nil || c.Token != tok {
		t.Fatalf("GetCommand after regen: same=%v, %v", c != nil && c.Token == tok, err)
	}
	if r.lastToken(mattermostsim.KindCommand, id) != tok {
		t.Error("ledger does not hold the new command token")
	}

	bob := r.login(t, "bob", mattermostsim.BobPassword, "")
	_, err = bob.ListCommands(bg, mattermostsim.TeamID)
	wantCode(t, err, 403, ErrPermission)
	_, err = bob.GetCommand(bg, id)
	wantCode(t, err, 404, ErrCommandNotFound)
	_, err = bob.RegenCommandToken(bg, id)
	wantCode(t, err, 404, ErrCommandNotFound)
	_, err = admin.RegenCommandToken(bg, "aaaaaaaaaaaaaaaaaaaaaaaaaa")
	wantCode(t, err, 404, ErrCommandNotFound)
}

func wantCode(t *testing.T, err error, status int, code string) {
	t.Helper()
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Status != status || ae.Code != code {
		t.Fatalf("got %v, want HTTP %d %s", err, status, code)
	}
}

func TestSandboxOutgoingWebhooks(t *testing.T) {
	r := newRig(t)
	admin := r.admin(t)
	hs, err := admin.ListOutgoingWebhooks(bg, mattermostsim.TeamID)
	if err != nil || len(hs) != 2 {
		t.Fatalf("ListOutgoingWebhooks = %d, %v", len(hs), err)
	}
	// 250 more make the list span two pages.
	for i := 0; i < 250; i++ {
		resp, err := admin.Core().Do(bg, &client.Request{Method: "POST", Path: "/api/v4/hooks/outgoing",
			Header: http.Header{"Authorization": {"Bearer " + admin.Token()}},
			Body: map[string]any{"team_id": mattermostsim.TeamID, "channel_id": mattermostsim.TownSquareID, "display_name": fmt.Sprint("h", i),
				"trigger_words": []string{fmt.Sprint("w", i)}, "callback_urls": []string{"https://cb.example.com/x"}, "content_type": "application/json"}})
		if err != nil || resp.Status != http.StatusCreated {
			t.Fatalf("create hook %d: %v %v", i, resp, err)
		}
	}
	all, err := admin.ListOutgoingWebhooks(bg, mattermostsim.TeamID)
	if err != nil || len(all) != 252 {
		t.Fatalf("after creating 250: %d, %v", len(all), err)
	}
	h, err := admin.RegenOutgoingWebhookToken(bg, hs[1].ID)
	if err != nil || h.ID != hs[1].ID || h.Token == hs[1].Token || h.TeamID != mattermostsim.TeamID {
		t.Fatalf("RegenOutgoingWebhookToken: %v", err)
	}
	if r.lastToken(mattermostsim.KindWebhook, h.ID) != h.Token {
		t.Error("ledger does not hold the new webhook token")
	}
	if g, err := admin.GetOutgoingWebhook(bg, h.ID); err != nil || g.Token != h.Token {
		t.Fatalf("GetOutgoingWebhook after the regen: %+v, %v", g, err)
	}
	bob := r.login(t, "bob", mattermostsim.BobPassword, "")
	_, err = bob.RegenOutgoingWebhookToken(bg, h.ID)
	wantCode(t, err, 403, ErrPermission)
	_, err = bob.ListOutgoingWebhooks(bg, mattermostsim.TeamID)
	wantCode(t, err, 403, ErrPermission)
	_, err = admin.RegenOutgoingWebhookToken(bg, "aaaaaaaaaaaaaaaaaaaaaaaaaa")
	wantCode(t, err, 404, ErrWebhookNotFound)
}

func TestSandboxUserAccessTokens(t *testing.T) {
	r := newRig(t)
	alice := r.login(t, "alice", mattermostsim.AlicePassword, "")
	pat, err := alice.CreateUserAccessToken(bg, "me", "keyturn rotation")
	if err != nil || pat.Token == "" || pat.UserID != mattermostsim.AliceID || !pat.IsActive {
		t.Fatalf("CreateUserAccessToken: %v", err)
	}
	if r.lastToken(mattermostsim.KindUserToken, pat.ID) != pat.Token {
		t.Error("ledger does not hold the user access token")
	}
	viaPAT := alice.WithToken(pat.Token)
	if me, err := viaPAT.Me(bg); err != nil || me.ID != mattermostsim.AliceID {
		t.Fatalf("Me with the PAT: %v", err)
	}
	list, err := alice.ListUserAccessTokens(bg, mattermostsim.AliceID)
	if err != nil || len(list) != 1 || list[0].ID != pat.ID || list[0].Token != "" {
		t.Fatalf("ListUserAccessTokens: %d tokens or fields wrong, %v", len(list), err)
	}
	got, err := alice.GetUserAccessToken(bg, pat.ID)
	if err != nil || got.Description != "keyturn rotation" || got.Token != "" {
		t.Fatalf("GetUserAccessToken = %+v, %v", got, err)
	}
	if err := alice.DisableUserAccessToken(bg, pat.ID); err != nil {
		t.Fatal(err)
	}
	_, err = viaPAT.Me(bg)
	wantCode(t, err, 401, ErrSessionExpired)
	if err := alice.EnableUserAccessToken(bg, pat.ID); err != nil {
		t.Fatal(err)
	}
	// Logging out with a PAT leaves it working.
	if err := viaPAT.Logout(bg); err != nil {
		t.Fatal(err)
	}
	if _, err := viaPAT.Me(bg); err != nil {
		t.Fatalf("PAT after logout: %v", err)
	}
	// A PAT session may make another PAT.
	second, err := viaPAT.CreateUserAccessToken(bg, "me", "made by a PAT")
	if err != nil {
		t.Fatal(err)
	}
	if err := alice.RevokeUserAccessToken(bg, pat.ID); err != nil {
		t.Fatal(err)
	}
	_, err = viaPAT.Me(bg)
	wantCode(t, err, 401, ErrSessionExpired)
	_, err = alice.GetUserAccessToken(bg, pat.ID)
	wantCode(t, err, 404, ErrTokenNotFound)
	wantCode(t, alice.RevokeUserAccessToken(bg, pat.ID), 404, ErrTokenNotFound)
	if _, err := alice.WithToken(second.Token).Me(bg); err != nil {
		t.Fatalf("the second PAT must survive the first's revocation: %v", err)
	}

	bob := r.login(t, "bob", mattermostsim.BobPassword, "")
	_, err = bob.CreateUserAccessToken(bg, "me", "bob")
	wantCode(t, err, 403, ErrPermission)
	_, err = bob.ListUserAccessTokens(bg, mattermostsim.AliceID)
	wantCode(t, err, 403, ErrPermission)
}

func TestSandboxListUserAccessTokensPages(t *testing.T) {
	r := newRig(t)
	admin := r.admin(t)
	for i := 0; i < PerPage+5; i++ {
		if _, err := admin.CreateUserAccessToken(bg, mattermostsim.AdminID, fmt.Sprint("t", i)); err != nil {
			t.Fatal(err)
		}
	}
	list, err := admin.ListUserAccessTokens(bg, "me")
	if err != nil || len(list) != PerPage+5 {
		t.Fatalf("listed %d, %v", len(list), err)
	}
	if list[PerPage+4].Description != fmt.Sprint("t", PerPage+4) {
		t.Error("order not kept across pages")
	}
}

func TestSandboxGenerateReplacesActiveSecret(t *testing.T) {
	r := newRig(t)
	admin := r.admin(t)
	sec, err := admin.GenerateMFA(bg, mattermostsim.AdminID)
	if err != nil || sec.Secret == mattermostsim.AdminTOTPSecret {
		t.Fatalf("generate while active must succeed with a new secret: %v", err)
	}
	r.env.Clock.Advance(30 * time.Second)
	_, _, err = r.anon.Login(bg, "admin", mattermostsim.AdminPassword, simnet.TOTPCode(mattermostsim.AdminTOTPSecret, r.env.Clock.Now()))
	wantSecondFactor(true)(t, err)
	r.login(t, "admin", mattermostsim.AdminPassword, sec.Secret)
}

func TestSandboxRateLimit(t *testing.T) {
	r := newRig(t)
	r.sim.EnableRateLimit(1, 2)
	var rl *client.RateLimitedError
	for i := 0; i < 10 && rl == nil; i++ {
		err := r.anon.Logout(bg)
		errors.As(err, &rl)
	}
	if rl == nil || rl.RetryAfter < time.Second || rl.Message != "limit exceeded" {
		t.Fatalf("no 429 with Retry-After: %+v", rl)
	}
	r.env.Clock.Advance(5 * time.Second)
	if err := r.anon.Logout(bg); err != nil {
		t.Fatalf("after waiting: %v", err)
	}
}

// A regen whose answer is lost or spoiled leaves the rotation ambiguous:
// the client says so, and the server and ledger have moved on.
func TestSandboxAmbiguousRegen(t *testing.T) {
	r := newRig(t)
	admin := r.admin(t)
	cs, err := admin.ListCommands(bg, mattermostsim.TeamID)
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range []simnet.Fault{simnet.DropAfterApply, simnet.TruncatedJSON, simnet.ErrorAfterApply, simnet.HTMLBody} {
		before, _ := admin.GetCommand(bg, cs[0].ID)
		r.env.Faults.Add(simnet.Rule{Method: "PUT", Path: "/regen_token", Fault: f, Times: 1})
		_, err := admin.RegenCommandToken(bg, cs[0].ID)
		if err == nil || !client.MayHaveApplied(err) {
			t.Fatalf("%s: want an ambiguous error, got %v", f, err)
		}
		after, err := admin.GetCommand(bg, cs[0].ID)
		if err != nil || after.Token == before.Token || r.lastToken(mattermostsim.KindCommand, cs[0].ID) != after.Token {
			t.Fatalf("%s: the server should have rotated and the ledger should show it (%v)", f, err)
		}
	}
	r.env.Faults.Add(simnet.Rule{Method: "POST", Path: "/regen_token", Fault: simnet.DropAfterApply, Times: 1})
	hs, _ := admin.ListOutgoingWebhooks(bg, mattermostsim.TeamID)
	_, err = admin.RegenOutgoingWebhookToken(bg, hs[0].ID)
	var te *client.TransportError
	if !errors.As(err, &te) || !te.MayHaveReached {
		t.Fatalf("dropped hook regen: %v", err)
	}
}

// Expiry, the lifetime policy and in-place rotation against the simulated
// 11.10 server, and the older-server switch.
func TestSandboxExpiryAndRotation(t *testing.T) {
	r := newRig(t)
	alice := r.login(t, mattermostsim.AliceUsername, mattermostsim.AlicePassword, "")
	cc, err := alice.ClientConfig(bg)
	if err != nil || cc.Version != "11.10.0" || !cc.LifetimePolicyKnown || cc.MaxTokenLifetimeDays != 0 || !cc.UserAccessTokens {
		t.Fatalf("config = %+v, %v", cc, err)
	}
	at := r.env.Clock.Now().Add(7 * 24 * time.Hour).Truncate(time.Millisecond)
	pat, err := alice.CreateExpiringUserAccessToken(bg, "me", "ci", at)
	if err != nil || !pat.Expires().Equal(at) {
		t.Fatalf("create = %+v, %v", pat, err)
	}
	later := at.Add(7 * 24 * time.Hour)
	rot, err := alice.RotateUserAccessToken(bg, pat.ID, later)
	if err != nil || rot.ID != pat.ID || rot.Token == pat.Token || !rot.Expires().Equal(later) || rot.Token != r.lastToken(mattermostsim.KindUserToken, pat.ID) {
		t.Fatalf("rotate = %+v, %v", rot, err)
	}
	if _, err := alice.WithToken(pat.Token).Me(bg); err == nil {
		t.Fatal("the old secret still works after rotation")
	}
	r.sim.Configure(func(s *mattermostsim.Settings) { s.MaximumPersonalAccessTokenLifetimeDays = 3 })
	if cc, _ := alice.ClientConfig(bg); cc == nil || cc.MaxTokenLifetimeDays != 3 {
		t.Fatalf("policy not read: %+v", cc)
	}
	_, err = alice.RotateUserAccessToken(bg, pat.ID, later)
	var le *LifetimeError
	if !errors.As(err, &le) || !le.TooFar() || le.MaxDays != 3 {
		t.Fatalf("rotate beyond the policy: %v", err)
	}
	if _, err := alice.CreateUserAccessToken(bg, "me", "no expiry"); !errors.As(err, &le) || !le.Required() {
		t.Fatalf("create without expiry under the policy: %v", err)
	}
	r.sim.Configure(func(s *mattermostsim.Settings) { s.OlderServer = true; s.MaximumPersonalAccessTokenLifetimeDays = 0 })
	if _, err := alice.RotateUserAccessToken(bg, pat.ID, later); !RotateUnsupported(err) {
		t.Fatalf("older server: %v, want RotateUnsupported", err)
	}
	old, err := alice.CreateExpiringUserAccessToken(bg, "me", "old", at)
	if err != nil || old.ExpiresAt != 0 {
		t.Fatalf("older server ignores the expiry: %+v, %v", old, err)
	}
	if cc, _ := alice.ClientConfig(bg); cc == nil || cc.LifetimePolicyKnown || cc.Version != "11.2.0" {
		t.Fatalf("older config: %+v", cc)
	}
}
