package mattermost

import (
	"errors"
	"testing"
	"time"

	"keyturn/client"
)

// Bodies recorded from a Mattermost 11.10.0 server
// (../shared/api/mattermost-2026-exchanges.md); secrets stand in for the
// recording's placeholders.
const (
	fx10Admin  = "ifrznc1ju3fd5qgpsaj7soo7cy"
	fx10PATB   = "1t1teuia6if88xcja151asraao"
	fx10PATC   = "cjz6bi34n3dmprz8p3pnqhsrrw"
	fx10Ver    = "11.10.0..b8f86131fa2f81c3d5ce615b4e6069816e18904f25b48d99eec423c6aaac95a6.false"
	fx10Config = `{"BuildDate":"Fri Dec  4 17:54:57 UTC 2026","BuildEnterpriseReady":"false","BuildHash":"910665f79c0b7dfb80fd46f4f7d084fb428a7742","BuildNumber":"","EnableUserAccessTokens":"true","MaximumPersonalAccessTokenLifetimeDays":"0","Version":"11.10.0"}`
	fx10Policy = `{"EnableUserAccessTokens":"true","MaximumPersonalAccessTokenLifetimeDays":"30"}`

	fx10CreateA = `{"id":"5o8r3ntqkbga58cj8pkj46runc","token":"pataaaaaaaaaaaaaaaaaaaaaaa","user_id":"ifrznc1ju3fd5qgpsaj7soo7cy","description":"pat-a no expiry","is_active":true,"expires_at":0}`
	fx10CreateB = `{"id":"1t1teuia6if88xcja151asraao","token":"patbbbbbbbbbbbbbbbbbbbbbbb","user_id":"ifrznc1ju3fd5qgpsaj7soo7cy","description":"pat-b 7 days","is_active":true,"expires_at":1797012092464}`
	fx10List    = `[{"id":"5o8r3ntqkbga58cj8pkj46runc","user_id":"ifrznc1ju3fd5qgpsaj7soo7cy","description":"pat-a no expiry","is_active":true,"expires_at":0},{"id":"1t1teuia6if88xcja151asraao","user_id":"ifrznc1ju3fd5qgpsaj7soo7cy","description":"pat-b 7 days","is_active":true,"expires_at":1797012092464}]`
	fx10GetB    = `{"id":"1t1teuia6if88xcja151asraao","user_id":"ifrznc1ju3fd5qgpsaj7soo7cy","description":"pat-b 7 days","is_active":true,"expires_at":1797012092464}`
	fx10RotateB = `{"id":"1t1teuia6if88xcja151asraao","token":"patb1111111111111111111111","user_id":"ifrznc1ju3fd5qgpsaj7soo7cy","description":"pat-b 7 days","is_active":true,"expires_at":1797616892480}`
	fx10RotateC = `{"id":"cjz6bi34n3dmprz8p3pnqhsrrw","token":"patc1111111111111111111111","user_id":"ifrznc1ju3fd5qgpsaj7soo7cy","description":"pat-c 10 days","is_active":true,"expires_at":1798135292622}`

	fx10ErrRequired = `{"id":"app.user_access_token.expires_at_required.app_error","message":"Personal access tokens must include an expiry date because the server enforces a maximum token lifetime.","detailed_error":"","request_id":"mfgk6dwq6ifn9xkmz99jna4f4r","status_code":400}`
	fx10ErrPast     = `{"id":"app.user_access_token.expires_at_in_past.app_error","message":"The provided expires_at is in the past.","detailed_error":"","request_id":"a4nsatnc7bgzjqk1aukhj17qpe","status_code":400}`
	fx10ErrTooFar   = `{"id":"app.user_access_token.expires_at_too_far.app_error","message":"The provided expires_at exceeds the configured maximum personal access token lifetime (30 days).","detailed_error":"","request_id":"hkeab5t5abymudynqqqx8c7bdc","status_code":400}`
	fx10ErrDisabled = `{"id":"api.user.rotate_user_access_token.disabled_token.app_error","message":"Cannot regenerate a disabled access token.","detailed_error":"","request_id":"1kr8u4pzjjdffphyiukc9tuoca","status_code":400}`
	fx10ErrNoToken  = `{"id":"app.user_access_token.get_by_user.app_error","message":"Unable to get the personal access tokens by user.","detailed_error":"","request_id":"hy5bdb7ikjn87qeiykxhpjwf7a","status_code":404}`
	// Mattermost 11.2's answer to the rotate route (routing 404: no request id).
	fx10ErrNoRoute = `{"id":"api.context.404.app_error","message":"Sorry, we could not find the page.","detailed_error":"There doesn't appear to be an api call for the url='/api/v4/users/tokens/rotate'.  Typo? are you missing a team_id or user_id as part of the url?","status_code":404}`
)

func TestClientConfigReadsStringLifetime(t *testing.T) {
	m := fake(t, sessTok,
		step{method: "GET", path: "/api/v4/config/client", query: "format=old", auth: bearer(sessTok),
			header: map[string]string{"X-Version-Id": fx10Ver}, answer: fx10Config},
		step{method: "GET", path: "/api/v4/config/client", query: "format=old", auth: bearer(sessTok),
			header: map[string]string{"X-Version-Id": fx10Ver}, answer: fx10Policy},
		// 11.2: no lifetime key at all.
		step{method: "GET", path: "/api/v4/config/client", query: "format=old", auth: bearer(sessTok),
			header: map[string]string{"X-Version-Id": "11.2.0..0123abcd.false"}, answer: `{"EnableUserAccessTokens":"true","Version":"11.2.0"}`},
		step{method: "GET", path: "/api/v4/config/client", query: "format=old", auth: bearer(sessTok),
			answer: `{"EnableUserAccessTokens":"false","MaximumPersonalAccessTokenLifetimeDays":"thirty"}`},
	)
	cc, err := m.ClientConfig(bg)
	if err != nil || *cc != (ClientConfig{Version: "11.10.0", UserAccessTokens: true, LifetimePolicyKnown: true}) {
		t.Fatalf("no policy: %+v, %v", cc, err)
	}
	cc, err = m.ClientConfig(bg)
	if err != nil || *cc != (ClientConfig{Version: "11.10.0", UserAccessTokens: true, LifetimePolicyKnown: true, MaxTokenLifetimeDays: 30}) {
		t.Fatalf("policy 30: %+v, %v", cc, err)
	}
	cc, err = m.ClientConfig(bg)
	if err != nil || *cc != (ClientConfig{Version: "11.2.0", UserAccessTokens: true}) {
		t.Fatalf("11.2: %+v, %v", cc, err)
	}
	var br *client.BadResponseError
	if _, err := m.ClientConfig(bg); !errors.As(err, &br) {
		t.Fatalf("a lifetime that is not a number: %v, want a BadResponseError", err)
	}
}

func TestVersionOf(t *testing.T) {
	for in, want := range map[string]string{
		fx10Ver:                      "11.10.0",
		"11.2.0..0123abcd.false":     "11.2.0",
		"11.10.1.4711.0123abcd.true": "11.10.1",
		"11.10.0.77.deadbeef.false":  "11.10.0",
		"":                           "",
		"garbage":                    "",
	} {
		if got := VersionOf(in); got != want {
			t.Errorf("VersionOf(%q) = %q, want %q", in, got, want)
		}
	}
}

func TestCreateWithAndWithoutExpiry(t *testing.T) {
	m := fake(t, sessTok,
		step{method: "POST", path: "/api/v4/users/" + fx10Admin + "/tokens", auth: bearer(sessTok),
			body: `{"description":"pat-a no expiry"}`, answer: fx10CreateA},
		step{method: "POST", path: "/api/v4/users/" + fx10Admin + "/tokens", auth: bearer(sessTok),
			body: `{"description":"pat-b 7 days","expires_at":1797012092464}`, answer: fx10CreateB},
	)
	a, err := m.CreateUserAccessToken(bg, fx10Admin, "pat-a no expiry")
	if err != nil || a.ID != "5o8r3ntqkbga58cj8pkj46runc" || a.Token != "pataaaaaaaaaaaaaaaaaaaaaaa" || a.UserID != fx10Admin ||
		a.Description != "pat-a no expiry" || !a.IsActive || a.ExpiresAt != 0 || !a.Expires().IsZero() {
		t.Fatalf("create without expiry = %+v, %v", a, err)
	}
	b, err := m.CreateExpiringUserAccessToken(bg, fx10Admin, "pat-b 7 days", time.UnixMilli(1797012092464))
	if err != nil || b.ID != fx10PATB || b.Token != "patbbbbbbbbbbbbbbbbbbbbbbb" || b.UserID != fx10Admin ||
		b.Description != "pat-b 7 days" || !b.IsActive || b.ExpiresAt != 1797012092464 || !b.Expires().Equal(time.UnixMilli(1797012092464)) {
		t.Fatalf("create with expiry = %+v, %v", b, err)
	}
}

func TestListsCarryExpiry(t *testing.T) {
	m := fake(t, sessTok,
		step{method: "GET", path: "/api/v4/users/" + fx10Admin + "/tokens", query: "page=0&per_page=200", auth: bearer(sessTok), answer: fx10List},
		step{method: "GET", path: "/api/v4/users/tokens/" + fx10PATB, auth: bearer(sessTok), answer: fx10GetB},
	)
	list, err := m.ListUserAccessTokens(bg, fx10Admin)
	if err != nil || len(list) != 2 {
		t.Fatalf("list = %d, %v", len(list), err)
	}
	want := []UserAccessToken{
		{ID: "5o8r3ntqkbga58cj8pkj46runc", UserID: fx10Admin, Description: "pat-a no expiry", IsActive: true, ExpiresAt: 0},
		{ID: fx10PATB, UserID: fx10Admin, Description: "pat-b 7 days", IsActive: true, ExpiresAt: 1797012092464},
	}
	for i := range want {
		if list[i] != want[i] {
			t.Errorf("list[%d] = %+v, want %+v", i, list[i], want[i])
		}
	}
	got, err := m.GetUserAccessToken(bg, fx10PATB)
	if err != nil || *got != want[1] {
		t.Fatalf("get = %+v, %v", got, err)
	}
}

func TestRotateSendsExpiryAlways(t *testing.T) {
	m := fake(t, sessTok,
		step{method: "POST", path: "/api/v4/users/tokens/rotate", auth: bearer(sessTok),
			body: `{"token_id":"1t1teuia6if88xcja151asraao","expires_at":1797616892480}`, answer: fx10RotateB},
		// The zero time is sent as 0, never left out.
		step{method: "POST", path: "/api/v4/users/tokens/rotate", auth: bearer(sessTok),
			body: `{"token_id":"cjz6bi34n3dmprz8p3pnqhsrrw","expires_at":0}`, status: 400, answer: fx10ErrRequired},
		step{method: "POST", path: "/api/v4/users/tokens/rotate", auth: bearer(sessTok),
			body: `{"token_id":"cjz6bi34n3dmprz8p3pnqhsrrw","expires_at":1798135292622}`, answer: fx10RotateC},
	)
	b, err := m.RotateUserAccessToken(bg, fx10PATB, time.UnixMilli(1797616892480))
	want := UserAccessToken{ID: fx10PATB, Token: "patb1111111111111111111111", UserID: fx10Admin, Description: "pat-b 7 days", IsActive: true, ExpiresAt: 1797616892480}
	if err != nil || *b != want {
		t.Fatalf("rotate = %+v, %v", b, err)
	}
	_, err = m.RotateUserAccessToken(bg, fx10PATC, time.Time{})
	var le *LifetimeError
	if !errors.As(err, &le) || !le.Required() || le.InPast() || le.TooFar() || le.MaxDays != 0 {
		t.Fatalf("rotate without expiry under a policy: %v, want a LifetimeError (required)", err)
	}
	wantAPI(400, ErrExpiresAtRequired, "mfgk6dwq6ifn9xkmz99jna4f4r")(t, err)
	c, err := m.RotateUserAccessToken(bg, fx10PATC, time.UnixMilli(1798135292622))
	if err != nil || c.Token != "patc1111111111111111111111" || c.ID != fx10PATC || c.ExpiresAt != 1798135292622 {
		t.Fatalf("rotate PAT-C = %+v, %v", c, err)
	}
}

func TestRotateAndCreateRefusals(t *testing.T) {
	rotate := step{method: "POST", path: "/api/v4/users/tokens/rotate", auth: bearer(sessTok), body: `{"token_id":"cjz6bi34n3dmprz8p3pnqhsrrw","expires_at":1801591292618}`}
	create := step{method: "POST", path: "/api/v4/users/" + fx10Admin + "/tokens", auth: bearer(sessTok), body: `{"description":"policy 60d","expires_at":1801591292613}`}
	with := func(s step, status int, answer string) step { s.status, s.answer = status, answer; return s }
	m := fake(t, sessTok,
		with(create, 400, fx10ErrTooFar),
		with(rotate, 400, fx10ErrTooFar),
		with(rotate, 400, fx10ErrPast),
		with(rotate, 400, fx10ErrDisabled),
		with(rotate, 404, fx10ErrNoToken),
		with(rotate, 404, fx10ErrNoRoute),
	)
	_, err := m.CreateExpiringUserAccessToken(bg, fx10Admin, "policy 60d", time.UnixMilli(1801591292613))
	var le *LifetimeError
	if !errors.As(err, &le) || !le.TooFar() || le.MaxDays != 30 {
		t.Fatalf("create too far: %v (%+v), want a LifetimeError naming 30 days", err, le)
	}
	wantAPI(400, ErrExpiresAtTooFar, "hkeab5t5abymudynqqqx8c7bdc")(t, err)
	at := time.UnixMilli(1801591292618)
	_, err = m.RotateUserAccessToken(bg, fx10PATC, at)
	if !errors.As(err, &le) || !le.TooFar() || le.MaxDays != 30 {
		t.Fatalf("rotate too far: %v", err)
	}
	_, err = m.RotateUserAccessToken(bg, fx10PATC, at)
	if !errors.As(err, &le) || !le.InPast() || le.MaxDays != 0 {
		t.Fatalf("rotate in the past: %v", err)
	}
	_, err = m.RotateUserAccessToken(bg, fx10PATC, at)
	if errors.As(err, &le) || RotateUnsupported(err) {
		t.Fatalf("disabled token: %v is not a lifetime refusal nor a missing route", err)
	}
	wantAPI(400, ErrRotateDisabled, "1kr8u4pzjjdffphyiukc9tuoca")(t, err)
	_, err = m.RotateUserAccessToken(bg, fx10PATC, at)
	if RotateUnsupported(err) {
		t.Fatalf("an unknown token id (%v) is not a missing route", err)
	}
	wantAPI(404, ErrTokenNotFound, "hy5bdb7ikjn87qeiykxhpjwf7a")(t, err)
	_, err = m.RotateUserAccessToken(bg, fx10PATC, at)
	if !RotateUnsupported(err) {
		t.Fatalf("11.2's routing 404 (%v) must read as a missing rotate route", err)
	}
	if _, err := m.RotateUserAccessToken(bg, " ", at); err == nil {
		t.Fatal("an empty token id must be refused before any request")
	}
}
