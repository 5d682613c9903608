package mattermostsim

import (
	"testing"
	"time"
)

func TestExpireUserTokenShowsExpiresAtAndEndsTheToken(t *testing.T) {
	h := start(t)
	admin := h.admin()
	var tok struct {
		ID    string `json:"id"`
		Token string `json:"token"`
	}
	h.call("POST", "/api/v4/users/"+AdminID+"/tokens", admin, map[string]string{"description": "ci"}).decode(t, &tok)
	// As 11.10 answers for a token made without an expiry: expires_at 0.
	var list []map[string]any
	h.call("GET", "/api/v4/users/"+AdminID+"/tokens", admin, nil).decode(t, &list)
	if v, has := list[0]["expires_at"]; !has || v != float64(0) || len(list) != 1 {
		t.Fatalf("before ExpireUserToken: %v", list)
	}
	at := h.env.Clock.Now().Add(time.Hour)
	if !h.s.ExpireUserToken(tok.ID, at) || h.s.ExpireUserToken("nosuchtoken", at) {
		t.Fatal("ExpireUserToken's report")
	}
	h.call("GET", "/api/v4/users/"+AdminID+"/tokens", admin, nil).decode(t, &list)
	if ms, _ := list[0]["expires_at"].(float64); int64(ms) != at.UnixMilli() {
		t.Fatalf("expires_at = %v, want %d", list[0]["expires_at"], at.UnixMilli())
	}
	if a := h.call("GET", "/api/v4/users/me", tok.Token, nil); a.status != 200 {
		t.Fatalf("before expiry: %d", a.status)
	}
	h.env.Clock.Advance(2 * time.Hour)
	h.expectErr(h.call("GET", "/api/v4/users/me", tok.Token, nil), 401, idExpired, "")
}

func TestBackdateMovesCreateAt(t *testing.T) {
	h := start(t)
	admin := h.admin()
	id := h.s.seedCommands[0]
	var before, after struct {
		CreateAt int64 `json:"create_at"`
		UpdateAt int64 `json:"update_at"`
	}
	h.call("GET", "/api/v4/commands/"+id, admin, nil).decode(t, &before)
	if !h.s.Backdate(id, 40*24*time.Hour) || !h.s.Backdate(h.s.seedHooks[0], time.Hour) || h.s.Backdate("nosuch", time.Hour) {
		t.Fatal("Backdate's report")
	}
	h.call("GET", "/api/v4/commands/"+id, admin, nil).decode(t, &after)
	if d := before.CreateAt - after.CreateAt; d != (40*24*time.Hour).Milliseconds() || after.UpdateAt != after.CreateAt {
		t.Fatalf("create_at moved by %d ms", d)
	}
}

func TestAgeSeeds(t *testing.T) {
	h := start(t)
	admin := h.admin()
	h.s.AgeSeeds()
	var cmd, hook struct {
		Trigger     string `json:"trigger"`
		DisplayName string `json:"display_name"`
		CreateAt    int64  `json:"create_at"`
	}
	h.call("GET", "/api/v4/commands/"+h.s.seedCommands[1], admin, nil).decode(t, &cmd)
	h.call("GET", "/api/v4/hooks/outgoing/"+h.s.seedHooks[1], admin, nil).decode(t, &hook)
	now := h.env.Clock.Now()
	if cmd.Trigger != "oncall" || now.Sub(time.UnixMilli(cmd.CreateAt)) < 100*24*time.Hour {
		t.Errorf("/%s made %v ago", cmd.Trigger, now.Sub(time.UnixMilli(cmd.CreateAt)))
	}
	if hook.DisplayName != "Alerts" || now.Sub(time.UnixMilli(hook.CreateAt)) < 60*24*time.Hour {
		t.Errorf("%s made %v ago", hook.DisplayName, now.Sub(time.UnixMilli(hook.CreateAt)))
	}
}
