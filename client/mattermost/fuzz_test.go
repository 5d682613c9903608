package mattermost_test

// FuzzMattermostResponses sends one fuzzed answer (status, headers, body, and
// optionally a transport fault) to every exported call of the Mattermost
// client, through client.Options.Transport, so that the whole path runs: the
// core's capped read, 429 handling, the error mapping and each decoder.
// Seeds in testdata/fuzz come from ../shared/api/mattermost.md, the recorded
// exchanges of a 11.2 server and ../shared/seeds.

import (
	"context"
	"strings"
	"testing"
	"time"

	"keyturn/client/clienttest"
	"keyturn/client/mattermost"
)

const (
	fzPassword = "SENTINEL-PASSWORD-4711"
	fzCode     = "SENTINEL-CODE-0815"
	fzToken    = "SENTINEL-BEARER-2342"
)

// fzCheckErr: the error is one of the client's typed errors, with a message
// (clienttest.CheckFuzzError). secrets are the request's secrets, which the
// server's words may echo: they never reach the error.
func fzCheckErr(t *testing.T, op string, status int, fault uint8, err error, secrets []string) {
	t.Helper()
	ae := clienttest.CheckFuzzError(t, "mattermost", op, status, fault, err).API
	if ae == nil {
		return
	}
	if ae.Status != status && !(status/100 == 2 && ae.Status == 200) {
		t.Fatalf("%s: API error %+v for HTTP %d", op, ae, status)
	}
	for _, s := range secrets {
		if strings.Contains(ae.Message, s) || strings.Contains(ae.Detail, s) {
			t.Fatalf("%s: a secret of the request shows in the server's message or detail", op)
		}
	}
}

func FuzzMattermostResponses(f *testing.F) {
	ctJSON := "Content-Type: application/json\n"
	for _, s := range []struct {
		status  uint16
		headers string
		body    string
		fault   uint8
	}{
		{200, ctJSON + "Token: bgfhpkprg3njbdebx4f3k9a\nX-Request-Id: mk134bjt4b885bkj1sqfuacyqw\n", `{"id":"9rrsftoh7b89jmo3pzjy3jftky","username":"admin","roles":"system_user system_admin","mfa_active":true}`, 0},
		{200, ctJSON, `{"status":"OK"}`, 0},
		{200, ctJSON, `{"token":"7np66pejm7d13cofkoras91q5h"}`, 0},
		{201, ctJSON, `{"id":"a9k5ewds4f84jfoj7tdewecc3w","token":"71szbxp1c7nnpkdw6zrfiy8eoe","user_id":"u","description":"d","is_active":true}`, 0},
		{200, ctJSON, `{"secret":"NNBGKJZQLIF6IVTTDANEOV6YJOZZPMTA","qr_code":"iVBORw0KGgo="}`, 0},
		{200, ctJSON, `{"secret":"NNBG","qr_code":"not base64!"}`, 0},
		{200, ctJSON, `[{"id":"a","token":"t"},{"id":"b"},{"id":"a"}]`, 0},
		{200, ctJSON, `null`, 0},
		{401, ctJSON, `{"id":"mfa.validate_token.authenticate.app_error","message":"Invalid MFA token.","detailed_error":"","request_id":"r","status_code":401}`, 0},
		{401, ctJSON, `{"id":"api.user.check_user_mfa.bad_code.app_error","message":"Invalid MFA token.","detailed_error":"token=` + fzCode + `","status_code":401}`, 0},
		{401, ctJSON, `{"id":"mfa.activate.bad_token.app_error","message":"Invalid MFA token ` + fzCode + `","status_code":401}`, 0},
		{404, ctJSON, `{"id":"api.context.404.app_error","message":"Sorry, we could not find the page.","detailed_error":"There doesn't appear to be an api call for the url='/api/v4/x'."}`, 0},
		{429, "Content-Type: text/plain; charset=utf-8\nRetry-After: 1\nX-Ratelimit-Reset: 1\n", "limit exceeded\n", 0},
		{429, "Retry-After: 99999999999999999999\n", "limit exceeded\n", 0},
		{503, "Retry-After: Wed, 21 Oct 2099 07:28:00 GMT\n", "", 0},
		{502, "Content-Type: text/html\n", "<html><title>502 Bad Gateway</title></html>", 0},
		{500, ctJSON, `{"id":"x"`, 0},
		{403, ctJSON, `{}`, 0},
		{302, "Location: https://sso.example.com/login\n", "", 0},
		{307, "Location: %zz\n", "", 0},
		{204, "", "", 0},
		{200, ctJSON, `{"status":"OK"}`, 1},
		{200, ctJSON, `{"status":"OK"}`, 2},
		{200, ctJSON, `{"status":"OK"}`, 3},
	} {
		f.Add(s.status, s.headers, []byte(s.body), s.fault)
	}
	f.Fuzz(func(t *testing.T, statusIn uint16, headers string, body []byte, faultIn uint8) {
		status, fault := clienttest.Status(statusIn), faultIn%clienttest.Faults
		rt := &clienttest.Transport{Status: status, Header: clienttest.Headers(headers), Body: body, Fault: fault}
		hc := clienttest.FuzzClient(t, "mattermost", "https://mm.example.com", rt)
		anon := mattermost.New(hc, "")
		mm := mattermost.New(hc, fzToken)
		// want fails the call when its result does not hang together.
		want := clienttest.Want
		calls := []clienttest.Call{
			{Name: "Login", Run: func(ctx context.Context) error {
				tok, u, err := anon.Login(ctx, "alice", fzPassword, fzCode)
				if err != nil {
					return err
				}
				return want(tok != "" && tok == strings.TrimSpace(rt.Header.Get("Token")) && u != nil, "Login: token from the Token header and a user")
			}},
			{Name: "Logout", Run: func(ctx context.Context) error { return mm.Logout(ctx) }},
			{Name: "Me", Run: func(ctx context.Context) error {
				u, err := mm.Me(ctx)
				if err != nil {
					return err
				}
				return want(u != nil, "Me: a user")
			}},
			{Name: "MyTeams", Run: func(ctx context.Context) error { _, err := mm.MyTeams(ctx); return err }},
			{Name: "GenerateMFA", Run: func(ctx context.Context) error {
				s, err := mm.GenerateMFA(ctx, "me")
				if err != nil {
					return err
				}
				return want(s != nil && s.Secret != "", "GenerateMFA: a secret")
			}},
			{Name: "ActivateMFA", Run: func(ctx context.Context) error { return mm.ActivateMFA(ctx, "me", fzCode) }},
			{Name: "DeactivateMFA", Run: func(ctx context.Context) error { return mm.DeactivateMFA(ctx, "me") }},
			{Name: "ListCommands", Run: func(ctx context.Context) error { _, err := mm.ListCommands(ctx, "team1"); return err }},
			{Name: "GetCommand", Run: func(ctx context.Context) error {
				c, err := mm.GetCommand(ctx, "cmd1")
				if err != nil {
					return err
				}
				return want(c != nil, "GetCommand: a command")
			}},
			{Name: "RegenCommandToken", Run: func(ctx context.Context) error {
				tok, err := mm.RegenCommandToken(ctx, "cmd1")
				if err != nil {
					return err
				}
				return want(tok != "", "RegenCommandToken: a token")
			}},
			{Name: "GetOutgoingWebhook", Run: func(ctx context.Context) error {
				h, err := mm.GetOutgoingWebhook(ctx, "hook1")
				if err != nil {
					return err
				}
				return want(h != nil, "GetOutgoingWebhook: a webhook")
			}},
			{Name: "ListOutgoingWebhooks", Run: func(ctx context.Context) error {
				hooks, err := mm.ListOutgoingWebhooks(ctx, "team1")
				if err != nil {
					return err
				}
				seen := map[string]bool{}
				for _, h := range hooks {
					if seen[h.ID] {
						return want(false, "ListOutgoingWebhooks: each hook once")
					}
					seen[h.ID] = true
				}
				return want(hooks != nil, "ListOutgoingWebhooks: a list")
			}},
			{Name: "RegenOutgoingWebhookToken", Run: func(ctx context.Context) error {
				h, err := mm.RegenOutgoingWebhookToken(ctx, "hook1")
				if err != nil {
					return err
				}
				return want(h != nil && h.Token != "", "RegenOutgoingWebhookToken: a hook with a token")
			}},
			{Name: "CreateUserAccessToken", Run: func(ctx context.Context) error {
				tok, err := mm.CreateUserAccessToken(ctx, "me", "keyturn")
				if err != nil {
					return err
				}
				return want(tok != nil && tok.Token != "" && tok.ID != "", "CreateUserAccessToken: a token and its id")
			}},
			{Name: "ListUserAccessTokens", Run: func(ctx context.Context) error {
				toks, err := mm.ListUserAccessTokens(ctx, "me")
				if err != nil {
					return err
				}
				seen := map[string]bool{}
				for _, tk := range toks {
					if seen[tk.ID] {
						return want(false, "ListUserAccessTokens: each token once")
					}
					seen[tk.ID] = true
				}
				return want(toks != nil, "ListUserAccessTokens: a list")
			}},
			{Name: "GetUserAccessToken", Run: func(ctx context.Context) error {
				tk, err := mm.GetUserAccessToken(ctx, "tok1")
				if err != nil {
					return err
				}
				return want(tk != nil, "GetUserAccessToken: a token")
			}},
			{Name: "RotateUserAccessToken", Run: func(ctx context.Context) error {
				tok, err := mm.RotateUserAccessToken(ctx, "tok1", time.UnixMilli(1797616892480))
				if err != nil {
					return err
				}
				return want(tok != nil && tok.Token != "" && tok.ID != "", "RotateUserAccessToken: a token and its id")
			}},
			{Name: "ClientConfig", Run: func(ctx context.Context) error {
				cc, err := mm.ClientConfig(ctx)
				if err != nil {
					return err
				}
				return want(cc != nil && cc.MaxTokenLifetimeDays >= 0, "ClientConfig: a lifetime of zero or more days")
			}},
			{Name: "RevokeUserAccessToken", Run: func(ctx context.Context) error { return mm.RevokeUserAccessToken(ctx, "tok1") }},
			{Name: "DisableUserAccessToken", Run: func(ctx context.Context) error { return mm.DisableUserAccessToken(ctx, "tok1") }},
			{Name: "EnableUserAccessToken", Run: func(ctx context.Context) error { return mm.EnableUserAccessToken(ctx, "tok1") }},
		}
		clienttest.RunCalls(t, rt, calls, nil, func(name string, err error) {
			secrets := []string{fzToken}
			switch name {
			case "Login":
				secrets = []string{fzPassword, fzCode}
			case "ActivateMFA":
				secrets = append(secrets, fzCode)
			}
			fzCheckErr(t, name, status, fault, err, secrets)
		})
	})
}
