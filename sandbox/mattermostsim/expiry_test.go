package mattermostsim

import (
	"reflect"
	"testing"
	"time"
)

const (
	idRequired = "app.user_access_token.expires_at_required.app_error"
	idInPast   = "app.user_access_token.expires_at_in_past.app_error"
	idTooFar   = "app.user_access_token.expires_at_too_far.app_error"
	idRoute404 = "api.context.404.app_error"
	idSessExp  = "api.context.session_expired.app_error"
)

type expBody struct {
	Description string `json:"description,omitempty"`
	TokenID     string `json:"token_id,omitempty"`
	ExpiresAt   int64  `json:"expires_at"`
}

func (h *harness) inMillis(d time.Duration) int64 { return h.env.Clock.Now().Add(d).UnixMilli() }

// The expiry rules of create, as recorded on 11.10 without a policy.
func TestCreateExpiryNoPolicy(t *testing.T) {
	h := start(t)
	alice := h.session("alice", AlicePassword, "")
	tokens := "/api/v4/users/" + AliceID + "/tokens"
	var never accessToken
	h.call("POST", tokens, alice, map[string]string{"description": "pat-a"}).decode(t, &never)
	if never.ExpiresAt != 0 || never.Token == "" {
		t.Fatalf("create without expires_at: %+v", never.ExpiresAt)
	}
	week := h.inMillis(7 * 24 * time.Hour)
	var b accessToken
	h.call("POST", tokens, alice, expBody{Description: "pat-b", ExpiresAt: week}).decode(t, &b)
	if b.ExpiresAt != week {
		t.Fatalf("expires_at not echoed: %d, want %d", b.ExpiresAt, week)
	}
	h.expectErr(h.call("POST", tokens, alice, expBody{Description: "past", ExpiresAt: h.inMillis(-time.Minute)}), 400, idInPast, "The provided expires_at is in the past.")
	h.expectErr(h.call("POST", tokens, alice, expBody{Description: "neg", ExpiresAt: -1}), 400, idInPast, "")
	h.expectErr(h.call("POST", tokens, alice, `{"description":"string","expires_at":"soon"}`), 400, idBodyParam, "Invalid or missing user_access_token in request body.")
	var list []map[string]any
	h.call("GET", tokens, alice, nil).decode(t, &list)
	if len(list) != 2 || list[0]["expires_at"] != float64(0) || list[1]["expires_at"] != float64(week) {
		t.Fatalf("list does not carry expires_at: %v", list)
	}
	cfg := h.call("GET", "/api/v4/config/client?format=old", alice, nil)
	var cc map[string]any
	cfg.decode(t, &cc)
	if cc["MaximumPersonalAccessTokenLifetimeDays"] != "0" || cc["EnableUserAccessTokens"] != "true" || cfg.header.Get("X-Version-Id") != "11.10.0..sandbox.false" {
		t.Fatalf("client config %v, version %q", cc, cfg.header.Get("X-Version-Id"))
	}
}

// With MaximumPersonalAccessTokenLifetimeDays the rules apply to create and
// rotate alike, and the client config shows the value as a string.
func TestLifetimePolicy(t *testing.T) {
	h := start(t)
	alice := h.session("alice", AlicePassword, "")
	tokens := "/api/v4/users/" + AliceID + "/tokens"
	var old accessToken
	h.call("POST", tokens, alice, map[string]string{"description": "before the policy"}).decode(t, &old)
	h.s.Configure(func(s *Settings) { s.MaximumPersonalAccessTokenLifetimeDays = 30 })
	var cc map[string]any
	h.call("GET", "/api/v4/config/client?format=old", alice, nil).decode(t, &cc)
	if cc["MaximumPersonalAccessTokenLifetimeDays"] != "30" {
		t.Fatalf("policy in client config: %v", cc["MaximumPersonalAccessTokenLifetimeDays"])
	}
	msgReq := "Personal access tokens must include an expiry date because the server enforces a maximum token lifetime."
	h.expectErr(h.call("POST", tokens, alice, map[string]string{"description": "none"}), 400, idRequired, msgReq)
	h.expectErr(h.call("POST", tokens, alice, expBody{Description: "zero"}), 400, idRequired, msgReq)
	h.expectErr(h.call("POST", tokens, alice, expBody{Description: "past", ExpiresAt: h.inMillis(-time.Second)}), 400, idInPast, "")
	h.expectErr(h.call("POST", tokens, alice, expBody{Description: "60d", ExpiresAt: h.inMillis(60 * 24 * time.Hour)}), 400, idTooFar,
		"The provided expires_at exceeds the configured maximum personal access token lifetime (30 days).")
	var c accessToken
	if a := h.call("POST", tokens, alice, expBody{Description: "pat-c", ExpiresAt: h.inMillis(10 * 24 * time.Hour)}); a.status != 200 {
		t.Fatalf("create within the policy: %d", a.status)
	} else {
		a.decode(t, &c)
	}
	rotate := "/api/v4/users/tokens/rotate"
	h.expectErr(h.call("POST", rotate, alice, map[string]string{"token_id": c.ID}), 400, idRequired, msgReq)
	h.expectErr(h.call("POST", rotate, alice, expBody{TokenID: c.ID, ExpiresAt: h.inMillis(60 * 24 * time.Hour)}), 400, idTooFar, "")
	h.expectErr(h.call("POST", rotate, alice, expBody{TokenID: c.ID, ExpiresAt: h.inMillis(-time.Second)}), 400, idInPast, "")
	h.expectErr(h.call("POST", rotate, alice, map[string]string{"token_id": old.ID}), 400, idRequired, "")
	if a := h.call("GET", "/api/v4/users/me", old.Token, nil); a.status != 200 {
		t.Fatalf("a token from before the policy must keep working: %d", a.status)
	}
	if a := h.call("POST", rotate, alice, expBody{TokenID: c.ID, ExpiresAt: h.inMillis(20 * 24 * time.Hour)}); a.status != 200 {
		t.Fatalf("rotate within the policy: %d", a.status)
	}
}

// Rotation in place: same id, new secret, old secret dead at once; an
// absent expires_at makes the token non-expiring; the recorded errors.
func TestRotateInPlace(t *testing.T) {
	h := start(t)
	alice := h.session("alice", AlicePassword, "")
	tokens := "/api/v4/users/" + AliceID + "/tokens"
	rotate := "/api/v4/users/tokens/rotate"
	var b accessToken
	h.call("POST", tokens, alice, expBody{Description: "pat-b", ExpiresAt: h.inMillis(7 * 24 * time.Hour)}).decode(t, &b)
	twoWeeks := h.inMillis(14 * 24 * time.Hour)
	a := h.call("POST", rotate, alice, expBody{TokenID: b.ID, ExpiresAt: twoWeeks})
	var r accessToken
	a.decode(t, &r)
	if a.status != 200 || r.ID != b.ID || r.Description != "pat-b" || r.UserID != AliceID || !r.IsActive || r.Token == "" || r.Token == b.Token || r.ExpiresAt != twoWeeks {
		t.Fatalf("rotate: %d, same id %v, new secret %v, expires %d", a.status, r.ID == b.ID, r.Token != b.Token, r.ExpiresAt)
	}
	h.expectErr(h.call("GET", "/api/v4/users/me", b.Token, nil), 401, idSessExp, "Invalid or expired session, please login again.")
	if a := h.call("GET", "/api/v4/users/me", r.Token, nil); a.status != 200 {
		t.Fatalf("new secret: %d", a.status)
	}
	// The token rotates itself with its own secret; then that secret is dead.
	var self accessToken
	h.call("POST", rotate, r.Token, map[string]string{"token_id": b.ID}).decode(t, &self)
	if self.ExpiresAt != 0 || self.Token == "" {
		t.Fatalf("rotation without expires_at must make the token non-expiring: %d", self.ExpiresAt)
	}
	h.expectErr(h.call("GET", "/api/v4/users/me", r.Token, nil), 401, idSessExp, "")
	h.expectErr(h.call("POST", rotate, alice, map[string]string{}), 400, idBodyParam, "Invalid or missing token_id in request body.")
	h.expectErr(h.call("POST", rotate, alice, `{"token_id":`), 400, idBodyParam, "Invalid or missing rotate_user_access_token in request body.")
	h.expectErr(h.call("POST", rotate, alice, map[string]string{"token_id": "zzzzzzzzzzzzzzzzzzzzzzzzzz"}), 404, idNoToken, "Unable to get the personal access tokens by user.")
	h.call("POST", "/api/v4/users/tokens/disable", alice, map[string]string{"token_id": b.ID})
	h.expectErr(h.call("POST", rotate, alice, map[string]string{"token_id": b.ID}), 400,
		"api.user.rotate_user_access_token.disabled_token.app_error", "Cannot regenerate a disabled access token.")
	// bob has no token role: 403 on someone's token as on his own.
	bob := h.session("bob", BobPassword, "")
	h.expectErr(h.call("POST", rotate, bob, map[string]string{"token_id": b.ID}), 403, idPermission, "")
	// Every secret the server issued is in the ledger.
	issued := map[string]bool{}
	for _, e := range h.env.Ledger.Entries() {
		issued[e.Token] = e.Kind == KindUserToken && e.ID == b.ID
	}
	for _, sec := range []string{b.Token, r.Token, self.Token} {
		if !issued[sec] {
			t.Errorf("a rotated secret is missing from the ledger under the token's id")
		}
	}
}

// An expired token answers 401 like a rotated-away one, stays listed, can
// be rotated back to life, and the cleanup job deletes it.
func TestExpiryAndCleanupJob(t *testing.T) {
	h := start(t)
	h.s.Configure(func(s *Settings) { s.TokenCleanupInterval = 0 })
	alice := h.session("alice", AlicePassword, "")
	tokens := "/api/v4/users/" + AliceID + "/tokens"
	var e1, e2 accessToken
	h.call("POST", tokens, alice, expBody{Description: "e1", ExpiresAt: h.inMillis(5 * time.Second)}).decode(t, &e1)
	h.call("POST", tokens, alice, expBody{Description: "e2", ExpiresAt: h.inMillis(5 * time.Second)}).decode(t, &e2)
	if a := h.call("GET", "/api/v4/users/me", e1.Token, nil); a.status != 200 {
		t.Fatalf("before expiry: %d", a.status)
	}
	h.env.Clock.Advance(8 * time.Second)
	h.expectErr(h.call("GET", "/api/v4/users/me", e1.Token, nil), 401, idSessExp, "Invalid or expired session, please login again.")
	h.expectErr(h.call("GET", "/api/v4/users/me", e2.Token, nil), 401, idSessExp, "")
	if a := h.call("GET", "/api/v4/users/tokens/"+e2.ID, alice, nil); a.status != 200 {
		t.Fatalf("an expired token stays listed until the job: %d", a.status)
	}
	var back accessToken
	h.call("POST", "/api/v4/users/tokens/rotate", alice, expBody{TokenID: e2.ID, ExpiresAt: h.inMillis(5 * 24 * time.Hour)}).decode(t, &back)
	if a := h.call("GET", "/api/v4/users/me", back.Token, nil); a.status != 200 {
		t.Fatalf("an expired token rotated works again: %d", a.status)
	}
	if n := h.s.RunTokenCleanup(); n != 1 {
		t.Fatalf("cleanup deleted %d tokens, want 1 (e1)", n)
	}
	h.expectErr(h.call("GET", "/api/v4/users/tokens/"+e1.ID, alice, nil), 404, idNoToken, "")
	// The job also runs by itself on the server's clock.
	h.s.Configure(func(s *Settings) { s.TokenCleanupInterval = time.Hour })
	h.env.Clock.Advance(6 * 24 * time.Hour)
	h.call("GET", "/api/v4/users/me", alice, nil)
	h.expectErr(h.call("GET", "/api/v4/users/tokens/"+e2.ID, alice, nil), 404, idNoToken, "")
}

// The older-server switch answers as 11.2: the rotate route is a routing
// 404, expires_at is ignored and not shown, the config has no lifetime.
func TestOlderServer(t *testing.T) {
	h := start(t)
	h.s.Configure(func(s *Settings) { s.OlderServer = true })
	alice := h.session("alice", AlicePassword, "")
	a := h.call("POST", "/api/v4/users/"+AliceID+"/tokens", alice, expBody{Description: "d", ExpiresAt: h.inMillis(time.Hour)})
	if a.status != 200 || !reflect.DeepEqual(a.keys(t), []string{"description", "id", "is_active", "token", "user_id"}) || a.header.Get("X-Version-Id") != "11.2.0..sandbox.false" {
		t.Fatalf("create on 11.2: %d %v %q", a.status, a.keys(t), a.header.Get("X-Version-Id"))
	}
	var pat accessToken
	a.decode(t, &pat)
	h.env.Clock.Advance(2 * time.Hour)
	if a := h.call("GET", "/api/v4/users/me", pat.Token, nil); a.status != 200 {
		t.Fatalf("11.2 ignores expires_at: %d", a.status)
	}
	r := h.call("POST", "/api/v4/users/tokens/rotate", alice, map[string]string{"token_id": pat.ID})
	e := r.err()
	if r.status != 404 || e.ID != idRoute404 || e.RequestID != "" || e.DetailedError == "" {
		t.Fatalf("rotate on 11.2: %d %q", r.status, e.ID)
	}
	var cc map[string]any
	h.call("GET", "/api/v4/config/client?format=old", alice, nil).decode(t, &cc)
	if _, ok := cc["MaximumPersonalAccessTokenLifetimeDays"]; ok || cc["Version"] != "11.2.0" {
		t.Fatalf("11.2 config: %v", cc)
	}
}

// carol is a team admin without the token role: 403 on user tokens, but
// the team's commands are hers to list and rotate.
func TestPartialPermissions(t *testing.T) {
	h := start(t)
	carol := h.session("carol", CarolPassword, "")
	h.expectErr(h.call("GET", "/api/v4/users/"+CarolID+"/tokens", carol, nil), 403, idPermission, "You do not have the appropriate permissions.")
	h.expectErr(h.call("POST", "/api/v4/users/"+CarolID+"/tokens", carol, map[string]string{"description": "x"}), 403, idPermission, "")
	if a := h.call("GET", "/api/v4/commands?team_id="+TeamID+"&custom_only=true", carol, nil); a.status != 200 {
		t.Fatalf("carol lists the team's commands: %d", a.status)
	}
	if a := h.call("PUT", "/api/v4/commands/"+h.s.seedCommands[0]+"/regen_token", carol, nil); a.status != 200 {
		t.Fatalf("carol regenerates a command token: %d", a.status)
	}
}
