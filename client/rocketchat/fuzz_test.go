package rocketchat_test

// FuzzRocketChatResponses sends one fuzzed answer (status, headers, body, and
// optionally a transport fault) to every exported call of the Rocket.Chat
// client, through client.Options.Transport, so that the whole path runs: the
// core's capped read, 429 handling (with the wait read from the message),
// the envelope check, the error mapping (Meteor errors, API.v1.failure,
// two-factor challenges with their details) and each decoder. Seeds in
// testdata/fuzz come from ../shared/api/rocketchat.md and ../shared/seeds.

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"keyturn/client/clienttest"
	"keyturn/client/rocketchat"
)

const (
	fzPassword = "SENTINEL-PASSWORD-4711"
	fzCode     = "SENTINEL-CODE-0815"
	fzToken    = "SENTINEL-AUTHTOKEN-2342"
)

// fzCheckErr: the error is one of the client's typed errors, with a message
// (clienttest.CheckFuzzError), or ErrTOTPUnsupported for a TOTP call's 404.
func fzCheckErr(t *testing.T, op string, status int, fault uint8, err error) {
	t.Helper()
	e := clienttest.CheckFuzzError(t, "rocketchat", op, status, fault, err, rocketchat.ErrTOTPUnsupported)
	switch {
	case e.API != nil:
		ae := e.API
		if ae.Status != status && !(status/100 == 2 && ae.Status == 200) {
			t.Fatalf("%s: API error %+v for HTTP %d", op, ae, status)
		}
		if ae.Code == "" && ae.Message == "" && http.StatusText(status) != "" {
			t.Fatalf("%s: API error with neither code nor message: %+v", op, ae)
		}
	case e.SecondFactor != nil:
		sf := e.SecondFactor
		if sf.Locked && !sf.Invalid {
			t.Fatalf("%s: challenge %+v", op, sf)
		}
		for _, m := range sf.Methods {
			if m == "" {
				t.Fatalf("%s: challenge offers an empty method: %+v", op, sf)
			}
		}
	case e == (clienttest.Typed{}): // ErrTOTPUnsupported
		if status != http.StatusNotFound || !strings.Contains(op, "TOTP") {
			t.Fatalf("%s: ErrTOTPUnsupported for HTTP %d", op, status)
		}
	}
}

func FuzzRocketChatResponses(f *testing.F) {
	ctJSON := "Content-Type: application/json\n"
	for _, s := range []struct {
		status  uint16
		headers string
		body    string
		fault   uint8
	}{
		{200, ctJSON, `{"status":"success","success":true,"data":{"userId":"aobEdbYhXfu5hkeqG","authToken":"9HqLlyZOugoStsXCUfD_0YdwnNnunAJF8V47U3QHXSq","me":{"_id":"aobEdbYhXfu5hkeqG","username":"alice","services":{"password":{"exists":true},"totp":{"enabled":true},"email2fa":{"enabled":true}}}}}`, 0},
		{200, ctJSON, `{"_id":"rbAXPnMktTFbNpwtJ","username":"bob","emails":[{"address":"bob@example.com","verified":true}],"success":true}`, 0},
		{200, ctJSON, `{"token":"2jdk99wuSjXPO201XlAks9sjDjAhSJmskAKW301mSuj9Sk","success":true}`, 0},
		{200, ctJSON, `{"tokens":[{"name":"a","createdAt":{"$date":1533143868068},"lastTokenPart":"abcdef"},{"name":"b","createdAt":1533143868068},{"name":"c","createdAt":"2018-08-01T17:17:48.068Z","bypassTwoFactor":true}],"success":true}`, 0},
		{200, ctJSON, `{"tokens":[{"name":"a","createdAt":"yesterday"}],"success":true}`, 0},
		{200, ctJSON, `{"secret":"JBSWY3DPEHPK3PXP","url":"otpauth://totp/Rocket.Chat%3Aalice?secret=JBSWY3DPEHPK3PXP","codes":["Ab3dEf7h"],"disabled":true,"success":true}`, 0},
		{200, ctJSON, `{"disabled":false,"success":true}`, 0},
		{200, ctJSON, `{"success":false,"error":"TOTP Required [totp-required]","errorType":"totp-required"}`, 0},
		{400, ctJSON, `{"success":false,"error":"TOTP Required [totp-required]","errorType":"totp-required","details":{"method":"email","codeGenerated":true,"emailOrUsername":"alice","availableMethods":["email","totp",1,""],"codeExpires":["2026-09-10T12:00:00.000Z",{"$date":1788264030000},1788264030000]}}`, 0},
		{400, ctJSON, `{"success":false,"error":"TOTP Invalid [totp-invalid]","errorType":"totp-invalid","details":{"method":"totp","codeExpires":{"$date":{"$numberLong":"1"}}}}`, 0},
		{400, ctJSON, `{"success":false,"error":"totp-max-attempts","message":"Too many attempts"}`, 0},
		{401, ctJSON, `{"status":"error","error":"totp-required","message":"TOTP Required","details":{"method":"totp","codeGenerated":false,"availableMethods":["totp"]}}`, 0},
		{401, ctJSON, `{"status":"error","error":"unauthorized"}`, 0},
		{401, ctJSON, `{"status":"error","message":"You must be logged in to do this."}`, 0},
		{403, ctJSON, `{"success":false,"error":"User does not have the permissions required for this action [error-unauthorized]"}`, 0},
		{404, ctJSON, `{"status":"error","message":"API endpoint does not exist"}`, 0},
		{404, "Content-Type: text/html\n", `<html><title>Not Found</title></html>`, 0},
		{429, ctJSON + "X-RateLimit-Reset: 1788264030000\n", `{"success":false,"error":"Error, too many requests. Please slow down. You must wait 37 seconds before trying this endpoint again. [error-too-many-requests]"}`, 0},
		{429, ctJSON, `{"success":false,"error":"You must wait 1 second"}`, 0},
		{500, ctJSON, `{"success":false,"error":"Internal server error"}`, 0},
		{502, "Content-Type: text/html\n", "<html><head><title>502 Bad Gateway</title></head></html>", 0},
		{200, ctJSON, `{"success":true}`, 1},
		{200, ctJSON, `{"success":true}`, 2},
		{200, ctJSON, `{"success":true}`, 3},
	} {
		f.Add(s.status, s.headers, []byte(s.body), s.fault)
	}
	f.Fuzz(func(t *testing.T, statusIn uint16, headers string, body []byte, faultIn uint8) {
		status, fault := clienttest.Status(statusIn), faultIn%clienttest.Faults
		rt := &clienttest.Transport{Status: status, Header: clienttest.Headers(headers), Body: body, Fault: fault}
		hc := clienttest.FuzzClient(t, "rocketchat", "https://chat.example.com", rt)
		anon := rocketchat.New(hc, rocketchat.Credentials{})
		rc := anon.WithCredentials(rocketchat.Credentials{UserID: "rbAXPnMktTFbNpwtJ", AuthToken: fzToken})
		totp := &rocketchat.SecondFactor{Method: "totp", Code: fzCode}
		want := clienttest.Want
		calls := []clienttest.Call{
			{Name: "Login", Run: func(ctx context.Context) error {
				res, err := anon.Login(ctx, "alice", fzPassword, fzCode)
				if err != nil {
					return err
				}
				return want(res != nil && !res.Credentials.Empty() && !res.Credentials.IsPAT, "Login: session credentials")
			}},
			{Name: "Me", Run: func(ctx context.Context) error {
				u, err := rc.Me(ctx)
				if err != nil {
					return err
				}
				if u != nil {
					u.SecondFactorMethods() // must not panic on any answer
				}
				return want(u != nil && u.ID != "", "Me: a user with an id")
			}},
			{Name: "Logout", Run: func(ctx context.Context) error { return rc.Logout(ctx) }},
			{Name: "GeneratePAT", Run: func(ctx context.Context) error {
				tok, err := rc.GeneratePAT(ctx, "cli", false, totp)
				if err != nil {
					return err
				}
				return want(tok != "", "GeneratePAT: a token")
			}},
			{Name: "RegeneratePAT", Run: func(ctx context.Context) error {
				tok, err := rc.RegeneratePAT(ctx, "cli", &rocketchat.SecondFactor{Method: "password", Code: fzPassword})
				if err != nil {
					return err
				}
				return want(tok != "", "RegeneratePAT: a token")
			}},
			{Name: "ListPATs", Run: func(ctx context.Context) error {
				pats, err := rc.ListPATs(ctx)
				if err != nil {
					return err
				}
				return want(pats != nil, "ListPATs: a list")
			}},
			{Name: "RemovePAT", Run: func(ctx context.Context) error {
				return rc.RemovePAT(ctx, "cli", &rocketchat.SecondFactor{Method: "email", Code: fzCode})
			}},
			{Name: "SendEmailCode", Run: func(ctx context.Context) error { return anon.SendEmailCode(ctx, "alice") }},
			{Name: "EnableTOTP", Run: func(ctx context.Context) error {
				s, err := rc.EnableTOTP(ctx, totp)
				if err != nil {
					return err
				}
				return want(s != nil && s.Secret != "" && s.URL != "", "EnableTOTP: a secret and its URL")
			}},
			{Name: "ValidateTOTP", Run: func(ctx context.Context) error { _, err := rc.ValidateTOTP(ctx, "123456", nil); return err }},
			{Name: "DisableTOTP", Run: func(ctx context.Context) error { return rc.DisableTOTP(ctx, "123456") }},
		}
		// What the body says about itself, read independently.
		var env struct {
			Success *bool `json:"success"`
		}
		// Like the client, read the first JSON value and ignore what follows.
		bodySaysFailure := json.NewDecoder(bytes.NewReader(body)).Decode(&env) == nil && env.Success != nil && !*env.Success
		clienttest.RunCalls(t, rt, calls, func(name string) {
			if bodySaysFailure {
				t.Fatalf(`%s succeeded on an answer with "success":false`, name)
			}
		}, func(name string, err error) { fzCheckErr(t, name, status, fault, err) })
	})
}
