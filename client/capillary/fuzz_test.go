package capillary_test

// FuzzCapillaryResponses sends one fuzzed answer (status, headers, body, and
// optionally a transport fault) to every exported call of the Capillary
// client, through client.Options.Transport, so that the whole path runs: the
// core's capped read and 429 handling, the status envelope, the error
// mapping and the session and token decoders with their JWT claims.
// FuzzTokenExpiry fuzzes the unverified JWT reader on its own. Seeds in
// testdata/fuzz come from ../shared/api/capillary.md, ../shared/seeds and
// testdata/*.response.json.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"keyturn/client"
	"keyturn/client/capillary"
	"keyturn/client/clienttest"
)

const (
	fzPassword = "SENTINEL-PASSWORD-4711"
	fzOTP      = "081542"
	fzKey      = "SENTINEL-KEY-2342"
	fzToken    = "SENTINEL-TOKEN-1234"
	fzSession  = "P-6ec5fcc9-2bca-4778-9672-4ee5097d8313"
)

// fzCheckErr: the error is one of the client's typed errors, with a message
// (clienttest.CheckFuzzError); Capillary never asks for a second factor
// in an error.
func fzCheckErr(t *testing.T, op string, status int, fault uint8, err error) {
	t.Helper()
	e := clienttest.CheckFuzzError(t, "capillary", op, status, fault, err)
	if e.SecondFactor != nil {
		t.Fatalf("%s: a second-factor challenge from Capillary: %+v", op, e.SecondFactor)
	}
	if ae := e.API; ae != nil {
		if ae.Status != status {
			t.Fatalf("%s: API error %+v for HTTP %d", op, ae, status)
		}
		if capillary.Hint(err) == "" && capillary.Describe(ae.Code) != "" && ae.Message == "" {
			t.Fatalf("%s: a documented code without its description: %+v", op, ae)
		}
	}
}

// fzJWT builds a JWT of the engine's layout (the signature is not checked).
func fzJWT(header, payload string) string {
	enc := base64.RawURLEncoding.EncodeToString
	return enc([]byte(header)) + "." + enc([]byte(payload)) + ".c2ln"
}

var (
	fzHeaderJSON = `{"idv":["MOBILE|919999999993"],"dev":"123456785","org":"DOCDEMO","alg":"HS256"}`
	fzViewJWT    = fzJWT(fzHeaderJSON, `{"iss":"CAPILLARY TECHNOLOGIES","rol":"VIEW","iat":1716962557,"exp":1716963457}`)
	fzUserJWT    = fzJWT(fzHeaderJSON, `{"uid":"1780776","iss":"CAPILLARY TECHNOLOGIES","rol":"USER","iat":1716962557,"exp":1716963457.5}`)
	fzKeyJWT     = fzJWT(fzHeaderJSON, `{"uid":"1780776","iss":"CAPILLARY TECHNOLOGIES","mfa":true,"iat":1716962557,"rol":"AUTH"}`)
)

func FuzzCapillaryResponses(f *testing.F) {
	ctJSON := "Content-Type: application/json\n"
	ok := `"status":{"success":true,"code":200,"message":"SUCCESS"}`
	for _, s := range []struct {
		status  uint16
		headers string
		body    string
		fault   uint8
	}{
		{200, ctJSON, `{` + ok + `,"auth":{"token":"` + fzViewJWT + `","key":null},"user":{"appRegistered":false,"sessionId":"` + fzSession + `","role":"VIEW","userRegisteredForPassword":true}}`, 0},
		{200, ctJSON, `{` + ok + `,"auth":{"token":"` + fzUserJWT + `","key":"` + fzKeyJWT + `"},"user":{"appRegistered":false,"sessionId":null,"role":"USER","userRegisteredForPassword":true}}`, 0},
		{200, ctJSON, `{` + ok + `,"auth":{"token":"` + fzUserJWT + `","key":null},"identifiers":{"identifierList":null}}`, 0},
		{200, ctJSON, `{` + ok + `,"auth":{"token":"not.a.jwt","key":"k"},"user":{"role":""}}`, 0},
		{200, ctJSON, `{` + ok + `,"auth":{"token":"","key":null},"user":{"sessionId":""}}`, 0},
		{200, ctJSON, `{"status":{"success":true,"code":200,"message":"Token expired successfully"}}`, 0},
		{200, ctJSON, `{"status":{"success":false,"code":1506,"message":"Invalid OTP"}}`, 0},
		{400, ctJSON, `{"status":{"success":false,"code":"1529","message":""}}`, 0},
		{401, ctJSON, `{"status":{"success":false,"code":1597}}`, 0},
		{500, ctJSON, `{"status":{"success":true,"code":200,"message":"SUCCESS"}}`, 0},
		{200, ctJSON, `{"status":{"success":false,"code":true}}`, 0},
		{200, ctJSON, `{"status":{"success":false,"code":{"x":1}}}`, 0},
		{200, ctJSON, `{"status":null}`, 0},
		{403, ctJSON, `{"error":"Forbidden","message":"gateway says no"}`, 0},
		{404, ctJSON, `{"message":"no route"}`, 0},
		{400, "Content-Type: text/plain\n", "Unable to process JSON", 0},
		{429, "Retry-After: 3\n", "Rate limit exceeded", 0},
		{502, "Content-Type: text/html\n", "<html><title>502 Bad Gateway</title></html>", 0},
		{200, ctJSON, `{` + ok + `}`, 1},
		{200, ctJSON, `{` + ok + `}`, 2},
		{200, ctJSON, `{` + ok + `}`, 3},
	} {
		f.Add(s.status, s.headers, []byte(s.body), s.fault)
	}
	id := capillary.Identity{IdentifierType: capillary.IdentifierMobile, IdentifierValue: "919999999993", Brand: "DocDemo", DeviceID: "123456785"}
	f.Fuzz(func(t *testing.T, statusIn uint16, headers string, body []byte, faultIn uint8) {
		status, fault := clienttest.Status(statusIn), faultIn%clienttest.Faults
		rt := &clienttest.Transport{Status: status, Header: clienttest.Headers(headers), Body: body, Fault: fault}
		hc := clienttest.FuzzClient(t, "capillary", "https://eu.api.capillarytech.com", rt)
		cp := capillary.New(hc, id)
		want := clienttest.Want
		// What the body says about itself, read independently.
		var w struct {
			Status *struct {
				Success bool `json:"success"`
			} `json:"status"`
			Auth *struct {
				Token string  `json:"token"`
				Key   *string `json:"key"`
			} `json:"auth"`
		}
		// Read the first JSON value; the client also refuses what follows it
		// (a BadResponseError), which the checks below allow.
		_ = json.NewDecoder(bytes.NewReader(body)).Decode(&w)
		session := func(s *capillary.Session, err error) error {
			if err != nil {
				return err
			}
			if s == nil || s.SessionID == "" {
				return want(false, "a session without an id")
			}
			if exp, err := capillary.TokenExpiry(s.Token); (err == nil) != !s.Expires.IsZero() || err == nil && !exp.Equal(s.Expires) {
				return want(false, "Session.Expires is not the token's exp")
			}
			return nil
		}
		tokens := func(tk *capillary.Tokens, err error) error {
			if err != nil {
				return err
			}
			if tk == nil || tk.Token == "" && tk.Key == "" {
				return want(false, "tokens without a token or key")
			}
			if w.Auth == nil || tk.Token != w.Auth.Token || (w.Auth.Key == nil) != (tk.Key == "") && !(w.Auth.Key != nil && *w.Auth.Key == "") {
				return want(false, "tokens differ from the answer's auth")
			}
			if exp, err := capillary.TokenExpiry(tk.Token); (err == nil) != !tk.Expires.IsZero() || err == nil && !exp.Equal(tk.Expires) {
				return want(false, "Tokens.Expires is not the token's exp")
			}
			return nil
		}
		calls := []clienttest.Call{
			{Name: "GenerateToken", Run: func(ctx context.Context) error { return session(cp.GenerateToken(ctx, "", "")) }},
			{Name: "GenerateToken+password", Run: func(ctx context.Context) error { return session(cp.GenerateToken(ctx, fzPassword, fzPassword)) }},
			{Name: "GenerateOTP", Run: func(ctx context.Context) error { return cp.GenerateOTP(ctx, fzSession) }},
			{Name: "ValidateOTP", Run: func(ctx context.Context) error { return tokens(cp.ValidateOTP(ctx, fzSession, fzOTP)) }},
			{Name: "ValidatePassword", Run: func(ctx context.Context) error { return tokens(cp.ValidatePassword(ctx, fzSession, fzPassword)) }},
			{Name: "RegenerateToken", Run: func(ctx context.Context) error { return tokens(cp.RegenerateToken(ctx, fzKey)) }},
			{Name: "GenerateMFAToken", Run: func(ctx context.Context) error { return session(cp.GenerateMFAToken(ctx, fzToken, "", "")) }},
			{Name: "GenerateMFAOTP", Run: func(ctx context.Context) error { return cp.GenerateMFAOTP(ctx, fzSession) }},
			{Name: "ValidateMFAOTP", Run: func(ctx context.Context) error { return tokens(cp.ValidateMFAOTP(ctx, fzSession, fzOTP)) }},
			{Name: "ValidateMFAPassword", Run: func(ctx context.Context) error { return tokens(cp.ValidateMFAPassword(ctx, fzSession, fzPassword)) }},
			{Name: "RegenerateMFAToken", Run: func(ctx context.Context) error { return tokens(cp.RegenerateMFAToken(ctx, fzKey)) }},
			{Name: "ExpireMFAToken", Run: func(ctx context.Context) error { return cp.ExpireMFAToken(ctx, fzToken) }},
		}
		clienttest.RunCalls(t, rt, calls, func(name string) {
			if w.Status == nil || !w.Status.Success {
				t.Fatalf("%s succeeded on an answer without status.success:true", name)
			}
		}, func(name string, err error) {
			fzCheckErr(t, name, status, fault, err)
			// status.success:false on a JSON answer is the engine's own
			// error, whatever the HTTP status.
			var ae *client.APIError
			if fault == 0 && status != http.StatusTooManyRequests && w.Status != nil && !w.Status.Success &&
				client.NotJSON(&client.Response{Header: rt.Header, Body: body}) == "" && !errors.As(err, &ae) {
				var be *client.BadResponseError
				if !errors.As(err, &be) || !strings.Contains(be.Reason, "field") && !strings.Contains(be.Reason, "more follows the JSON value") {
					t.Fatalf("%s: status.success:false gave %T %v", name, err, err)
				}
			}
		})
	})
}

// FuzzTokenExpiry: the unverified JWT reader takes any text, or a JWT built
// from any header and payload JSON. It never panics; an expiry it reports
// is a real time; its errors say what is wrong without quoting the token.
func FuzzTokenExpiry(f *testing.F) {
	f.Add(fzUserJWT, "", "", false)
	f.Add(fzKeyJWT, "", "", false)
	f.Add("", "", "", false)
	f.Add("a.b", "", "", false)
	f.Add("a.b.c.d", "", "", false)
	f.Add("", fzHeaderJSON, `{"exp":1716963457}`, true)
	f.Add("", fzHeaderJSON, `{"exp":"1716963457.25"}`, true)
	f.Add("", fzHeaderJSON, `{"exp":1e13}`, true)
	f.Add("", fzHeaderJSON, `{"exp":-1}`, true)
	f.Add("", fzHeaderJSON, `{"exp":"NaN"}`, true)
	f.Add("", fzHeaderJSON, `{"exp":1e999}`, true)
	f.Add("", fzHeaderJSON, `{"exp":true,"iat":null}`, true)
	f.Add("", fzHeaderJSON, `{"exp":999999999999.9999999}`, true)
	f.Add("", `{"idv":"not a list","dev":5}`, `{"exp":1}`, true)
	f.Add("", `[]`, `null`, true)
	f.Fuzz(func(t *testing.T, raw, header, payload string, build bool) {
		tok := raw
		if build {
			tok = fzJWT(header, payload)
		}
		claims, perr := capillary.ParseToken(tok)
		exp, err := capillary.TokenExpiry(tok)
		role, rerr := capillary.TokenRole(tok)
		switch {
		case perr != nil:
			if err == nil || rerr == nil || err.Error() != perr.Error() {
				t.Fatalf("ParseToken fails (%v) but TokenExpiry says %v, %v", perr, exp, err)
			}
			msg := perr.Error()
			if !strings.HasPrefix(msg, "capillary: ") || len(msg) > 200 {
				t.Fatalf("unclear error %q", msg)
			}
			for _, part := range strings.Split(strings.TrimSpace(tok), ".") {
				if len(part) >= 12 && strings.Contains(msg, part) {
					t.Fatalf("the error quotes the token: %q", msg)
				}
			}
		case claims.Expires.IsZero():
			if !errors.Is(err, capillary.ErrNoExpiry) {
				t.Fatalf("no exp, but TokenExpiry says %v, %v", exp, err)
			}
		default:
			if err != nil || !exp.Equal(claims.Expires) {
				t.Fatalf("exp %v, but TokenExpiry says %v, %v", claims.Expires, exp, err)
			}
			if exp.Before(time.Unix(0, 0)) || exp.After(time.Unix(1e12+1, 0)) || exp.Location() != time.UTC {
				t.Fatalf("exp %v is no time a token expires at", exp)
			}
		}
		if perr == nil && (rerr == nil) != (claims.Role != "") || rerr == nil && role != claims.Role {
			t.Fatalf("TokenRole %q, %v for claims %+v", role, rerr, claims)
		}
	})
}
