package rocketchat_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strconv"
	"testing"
	"time"

	"keyturn/client"
	"keyturn/client/rocketchat"
)

type errorCase struct {
	name    string
	login   bool // answer a login instead of a PAT generation
	status  int
	ctype   string
	header  map[string]string
	body    string
	check   func(t *testing.T, err error)
	applied bool // client.MayHaveApplied
}

func wantSF(want client.SecondFactorRequired) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var sf *client.SecondFactorRequired
		if !errors.As(err, &sf) {
			t.Fatalf("err = %T %v, want *client.SecondFactorRequired", err, err)
		}
		want.Service = "rocketchat"
		if !reflect.DeepEqual(*sf, want) {
			t.Errorf("got  %+v\nwant %+v", *sf, want)
		}
	}
}

func wantAPI(want client.APIError, also ...func(error) bool) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var ae *client.APIError
		if !errors.As(err, &ae) {
			t.Fatalf("err = %T %v, want *client.APIError", err, err)
		}
		want.Service = "rocketchat"
		if *ae != want {
			t.Errorf("got  %+v\nwant %+v", *ae, want)
		}
		for i, f := range also {
			if !f(err) {
				t.Errorf("predicate %d is false", i)
			}
		}
	}
}

func wantBad(t *testing.T, err error) {
	t.Helper()
	var be *client.BadResponseError
	if !errors.As(err, &be) {
		t.Fatalf("err = %T %v, want *client.BadResponseError", err, err)
	}
}

func wantRate(wait time.Duration) func(*testing.T, error) {
	return func(t *testing.T, err error) {
		t.Helper()
		var rl *client.RateLimitedError
		if !errors.As(err, &rl) {
			t.Fatalf("err = %T %v, want *client.RateLimitedError", err, err)
		}
		if d := rl.RetryAfter - wait; d < -2*time.Second || d > time.Second {
			t.Errorf("RetryAfter = %s, want about %s", rl.RetryAfter, wait)
		}
	}
}

func TestErrorShapes(t *testing.T) {
	expires := time.Date(2026, 9, 10, 12, 0, 0, 0, time.UTC)
	resetMs := strconv.FormatInt(time.Now().Add(37*time.Second).UnixMilli(), 10)
	cases := []errorCase{
		// twoFactorRequired routes: HTTP 400
		{name: "seed totp-required password", status: 400,
			body:  `{"success":false,"error":"TOTP Required [totp-required]","errorType":"totp-required","details":{"method":"password","codeGenerated":false,"availableMethods":[]}}`,
			check: wantSF(client.SecondFactorRequired{Method: "password", Message: "TOTP Required"})},
		{name: "totp-invalid email with codeExpires", status: 400,
			body:  `{"success":false,"error":"TOTP Invalid [totp-invalid]","errorType":"totp-invalid","details":{"method":"email","emailOrUsername":"alice","codeGenerated":false,"codeExpires":"2026-09-10T12:00:00.000Z","availableMethods":["email"]}}`,
			check: wantSF(client.SecondFactorRequired{Method: "email", Methods: []string{"email"}, SentTo: "alice", Expires: expires, Invalid: true, Message: "TOTP Invalid"})},
		{name: "totp-max-attempts", status: 400,
			body:  `{"success":false,"error":"TOTP Maximun Failed Attempts Reached [totp-max-attempts]","errorType":"totp-max-attempts","details":{"method":"email","emailOrUsername":"bob","codeGenerated":false,"availableMethods":["email"]}}`,
			check: wantSF(client.SecondFactorRequired{Method: "email", Methods: []string{"email"}, SentTo: "bob", Invalid: true, Locked: true, Message: "TOTP Maximun Failed Attempts Reached"})},
		{name: "old server: codeCount and codeExpires arrays", status: 400,
			body:  `{"success":false,"error":"TOTP Required [totp-required]","errorType":"totp-required","details":{"method":"email","emailOrUsername":"bob","codeGenerated":false,"codeCount":2,"codeExpires":["2026-09-10T11:00:00.000Z","2026-09-10T12:00:00.000Z"],"availableMethods":["totp","email"]}}`,
			check: wantSF(client.SecondFactorRequired{Method: "email", Methods: []string{"totp", "email"}, SentTo: "bob", Expires: expires, Message: "TOTP Required"})},
		{name: "codeExpires as EJSON", status: 400,
			body:  `{"success":false,"error":"TOTP Required [totp-required]","errorType":"totp-required","details":{"method":"email","codeGenerated":false,"codeExpires":{"$date":` + strconv.FormatInt(expires.UnixMilli(), 10) + `},"availableMethods":["email"]}}`,
			check: wantSF(client.SecondFactorRequired{Method: "email", Methods: []string{"email"}, Expires: expires, Message: "TOTP Required"})},
		{name: "api-client 401 with the 400 body (PR #33764)", status: 401,
			body:  `{"success":false,"error":"TOTP Required [totp-required]","errorType":"totp-required","details":{"method":"totp","codeGenerated":false,"availableMethods":["totp"]}}`,
			check: wantSF(client.SecondFactorRequired{Method: "totp", Methods: []string{"totp"}, Message: "TOTP Required"})},
		// login: HTTP 401, 7.x/8.x bodies
		{name: "login totp-required", login: true, status: 401,
			body:  `{"success":false,"status":"error","error":"totp-required","message":"TOTP Required","details":{"method":"totp","codeGenerated":false,"availableMethods":["totp"]}}`,
			check: wantSF(client.SecondFactorRequired{Method: "totp", Methods: []string{"totp"}, Message: "TOTP Required"})},
		{name: "login email code just mailed", login: true, status: 401,
			body:  `{"success":false,"status":"error","error":"totp-required","message":"TOTP Required","details":{"method":"email","emailOrUsername":"alice","codeGenerated":true,"availableMethods":["email"]}}`,
			check: wantSF(client.SecondFactorRequired{Method: "email", Methods: []string{"email"}, CodeSent: true, SentTo: "alice", Message: "TOTP Required"})},
		{name: "login totp-invalid", login: true, status: 401,
			body:  `{"success":false,"status":"error","error":"totp-invalid","message":"TOTP Invalid","details":{"method":"totp","codeGenerated":false,"availableMethods":["totp"]}}`,
			check: wantSF(client.SecondFactorRequired{Method: "totp", Methods: []string{"totp"}, Invalid: true, Message: "TOTP Invalid"})},
		{name: "login max attempts, details not an object", login: true, status: 401,
			body:  `{"success":false,"status":"error","error":"totp-max-attempts","message":"TOTP Maximun Failed Attempts Reached","details":"n/a"}`,
			check: wantSF(client.SecondFactorRequired{Invalid: true, Locked: true, Message: "TOTP Maximun Failed Attempts Reached"})},
		{name: "login bad user or password", login: true, status: 401,
			body:  `{"success":false,"status":"error","error":"Unauthorized","message":"Unauthorized"}`,
			check: wantAPI(client.APIError{Status: 401, Code: "Unauthorized", Message: "Unauthorized"})},
		{name: "login 9.x bare unauthorized", login: true, status: 401,
			body: `{"success":false,"error":"unauthorized"}`,
			check: wantAPI(client.APIError{Status: 401, Code: "unauthorized", Message: "unauthorized",
				Detail: "the server does not say why: the user name or password is wrong, or the account needs a second-factor code"})},
		{name: "login blocked", login: true, status: 401,
			body:  `{"success":false,"status":"error","error":"error-login-blocked-for-user","message":"Login has been temporarily blocked For User"}`,
			check: wantAPI(client.APIError{Status: 401, Code: rocketchat.CodeLoginBlockedUser, Message: "Login has been temporarily blocked For User"})},
		{name: "login numeric Meteor error", login: true, status: 401,
			body:  `{"success":false,"status":"error","error":403,"message":"You've been logged out by the server. Please log in again."}`,
			check: wantAPI(client.APIError{Status: 401, Message: "You've been logged out by the server. Please log in again."})},
		{name: "login 500", login: true, status: 500, applied: true,
			body:  `{"success":false,"error":"Internal server error"}`,
			check: wantAPI(client.APIError{Status: 500, Message: "Internal server error"})},
		// permissions
		{name: "403 error-unauthorized", status: 403,
			body:  `{"success":false,"error":"User does not have the permissions required for this action [error-unauthorized]"}`,
			check: wantAPI(client.APIError{Status: 403, Code: "error-unauthorized", Message: "User does not have the permissions required for this action"}, rocketchat.IsPermissionDenied)},
		{name: "seed 400 not-authorized", status: 400,
			body:  `{"success":false,"error":"Not Authorized [not-authorized]","errorType":"not-authorized","details":{"method":"personalAccessTokens:generateToken"}}`,
			check: wantAPI(client.APIError{Status: 400, Code: "not-authorized", Message: "Not Authorized", Detail: "in personalAccessTokens:generateToken"}, rocketchat.IsPermissionDenied)},
		// plain failures
		{name: "seed plain string", status: 400,
			body:  `{"success":false,"error":"The 'tokenName' param is required"}`,
			check: wantAPI(client.APIError{Status: 400, Message: "The 'tokenName' param is required"})},
		{name: "token exists", status: 400,
			body: `{"success":false,"error":"A token with this name already exists [error-token-already-exists]","errorType":"error-token-already-exists","details":{"method":"personalAccessTokens:generateToken"}}`,
			check: wantAPI(client.APIError{Status: 400, Code: rocketchat.CodeTokenExists, Message: "A token with this name already exists", Detail: "in personalAccessTokens:generateToken"},
				rocketchat.IsTokenExists, func(err error) bool { return !rocketchat.IsTokenMissing(err) && !rocketchat.IsPermissionDenied(err) })},
		{name: "token missing", status: 400,
			body:  `{"success":false,"error":"Token does not exist [error-token-does-not-exists]","errorType":"error-token-does-not-exists","details":{"method":"personalAccessTokens:regenerateToken"}}`,
			check: wantAPI(client.APIError{Status: 400, Code: rocketchat.CodeTokenMissing, Message: "Token does not exist", Detail: "in personalAccessTokens:regenerateToken"}, rocketchat.IsTokenMissing)},
		{name: "parameter required", status: 400,
			body:  `{"success":false,"error":"emailOrUsername is required [error-parameter-required]","errorType":"error-parameter-required"}`,
			check: wantAPI(client.APIError{Status: 400, Code: rocketchat.CodeParameterRequired, Message: "emailOrUsername is required"})},
		{name: "id only", status: 400,
			body:  `{"success":false,"error":"[invalid-totp]","errorType":"invalid-totp"}`,
			check: wantAPI(client.APIError{Status: 400, Code: rocketchat.CodeInvalidTOTP})},
		{name: "empty failure", status: 400, body: `{"success":false}`,
			check: wantAPI(client.APIError{Status: 400, Message: "Bad Request"})},
		// "You must be logged in", three versions
		{name: "401 7.x-8.x", status: 401,
			body:  `{"success":false,"error":"You must be logged in to do this.","status":"error","message":"You must be logged in to do this."}`,
			check: wantAPI(client.APIError{Status: 401, Message: "You must be logged in to do this."})},
		{name: "seed 401 6.x", status: 401,
			body:  `{"status":"error","message":"You must be logged in to do this."}`,
			check: wantAPI(client.APIError{Status: 401, Message: "You must be logged in to do this."})},
		{name: "401 9.x", status: 401,
			body:  `{"success":false,"error":"You must be logged in to do this."}`,
			check: wantAPI(client.APIError{Status: 401, Message: "You must be logged in to do this."})},
		// rate limits, a 200 that failed, garbage
		{name: "429 with X-RateLimit-Reset in epoch ms", status: 429,
			header: map[string]string{"X-RateLimit-Limit": "10", "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": resetMs},
			body:   `{"success":false,"error":"Error, too many requests. Please slow down. You must wait 37 seconds before trying this endpoint again. [error-too-many-requests]"}`,
			check:  wantRate(37 * time.Second)},
		{name: "429 wait only in the text", status: 429,
			body:  `{"success":false,"error":"Error, too many requests. Please slow down. You must wait 12 seconds before trying this endpoint again. [error-too-many-requests]"}`,
			check: wantRate(12 * time.Second)},
		{name: "200 with success false", status: 200,
			body:  `{"success":false,"error":"Something failed [error-x]","errorType":"error-x"}`,
			check: wantAPI(client.APIError{Status: 200, Code: "error-x", Message: "Something failed"})},
		{name: "HTML from a proxy", status: 502, ctype: "text/html", applied: true,
			body: "<html><head><title>502 Bad Gateway</title></head></html>", check: wantBad},
		{name: "truncated JSON", status: 400, body: `{"success":false,"error":"TOTP Req`, check: wantBad, applied: true},
		{name: "truncated 200", status: 200, body: `{"token":"abc`, check: wantBad, applied: true},
		{name: "wrong type", status: 200, body: `{"token":42,"success":true}`, check: wantBad, applied: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				ct := tc.ctype
				if ct == "" {
					ct = "application/json"
				}
				w.Header().Set("Content-Type", ct)
				for k, v := range tc.header {
					w.Header().Set(k, v)
				}
				w.WriteHeader(tc.status)
				fmt.Fprint(w, tc.body)
			}))
			defer srv.Close()
			rc := newClient(t, srv.URL, fixtureCred)
			var err error
			if tc.login {
				_, err = rc.Login(context.Background(), "alice", "pw", "")
			} else {
				_, err = rc.GeneratePAT(context.Background(), "cli", false, nil)
			}
			if err == nil {
				t.Fatal("no error")
			}
			tc.check(t, err)
			if got := client.MayHaveApplied(err); got != tc.applied {
				t.Errorf("MayHaveApplied = %v", got)
			}
		})
	}
}

func TestPredicatesOnOtherErrors(t *testing.T) {
	err := errors.New("plain")
	if rocketchat.IsPermissionDenied(err) || rocketchat.IsTokenMissing(err) || rocketchat.IsTokenExists(err) {
		t.Error("a plain error matched a predicate")
	}
}
