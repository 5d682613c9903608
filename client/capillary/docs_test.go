package capillary

import (
	"errors"
	"strings"
	"testing"

	"keyturn/client"
)

// Passwords go exactly as typed, spaces and all (capillary.md §4): a
// password registered with a space can only validate with it.
func TestPasswordsSentAsTyped(t *testing.T) {
	for _, tc := range []struct {
		path string
		call func(*Client) error
	}{
		{"/auth/v1/password/validate", func(c *Client) error { _, err := c.ValidatePassword(ctx, "P-1", " pass word "); return err }},
		{"/auth/v1/mfa/password/validate", func(c *Client) error { _, err := c.ValidateMFAPassword(ctx, "P-1", " pass word "); return err }},
	} {
		_, _, mk := serve(t, exchange{method: "POST", path: tc.path,
			body:  `{"identifierType":"MOBILE","identifierValue":"919999999993","brand":"DocDemo","deviceId":"123456785","sessionId":"P-1","password":" pass word "}`,
			reply: `{"status":{"success":true,"code":200,"message":"SUCCESS"},"auth":{"token":"` + userJWT + `","key":"` + keyJWT + `"},"user":{"role":"USER"}}`})
		if err := tc.call(mk(docDemo)); err != nil {
			t.Fatalf("%s: %v", tc.path, err)
		}
	}
	// The OTP is still a code: spaces around it are dropped.
	_, _, mk := serve(t, exchange{method: "POST", path: "/auth/v1/otp/validate",
		body:  `{"identifierType":"MOBILE","identifierValue":"919999999993","brand":"DocDemo","deviceId":"123456785","sessionId":"P-1","otp":"123456"}`,
		reply: `{"status":{"success":true,"code":200,"message":"SUCCESS"},"auth":{"token":"` + userJWT + `","key":"` + keyJWT + `"},"user":{"role":"USER"}}`})
	if _, err := mk(docDemo).ValidateOTP(ctx, "P-1", " 123456 "); err != nil {
		t.Fatal(err)
	}
}

var byUsername = Identity{IdentifierType: "USERNAME", IdentifierValue: "carol", Brand: "DocDemo", DeviceID: "123456785", Mobile: "919999999993"}

// A USERNAME identifier needs mobile or email alongside on token/generate
// and token/regenerate (capillary.md §3.1).
func TestUsernameSendsMobileOrEmail(t *testing.T) {
	_, _, mk := serve(t, exchange{method: "POST", path: "/auth/v1/token/generate",
		body:  `{"identifierType":"USERNAME","identifierValue":"carol","brand":"DocDemo","deviceId":"123456785","mobile":"919999999993"}`,
		reply: `{"status":{"success":true,"code":200,"message":"SUCCESS"},"auth":{"token":"` + viewJWT + `","key":null},"user":{"sessionId":"P-2","role":"VIEW","userRegisteredForPassword":true}}`})
	if _, err := mk(byUsername).GenerateToken(ctx, "", ""); err != nil {
		t.Fatal(err)
	}
	byMail := byUsername
	byMail.Mobile, byMail.Email = "", "carol@example.com"
	_, _, mk = serve(t, exchange{method: "POST", path: "/auth/v1/token/regenerate",
		body:  `{"identifierType":"USERNAME","identifierValue":"carol","brand":"DocDemo","deviceId":"123456785","email":"carol@example.com","key":"` + keyJWT + `"}`,
		reply: `{"status":{"success":true,"code":200,"message":"SUCCESS"},"auth":{"token":"` + userJWT + `","key":null},"user":{"role":"USER"}}`})
	if _, err := mk(byMail).RegenerateToken(ctx, keyJWT); err != nil {
		t.Fatal(err)
	}
	// Other calls carry the identity alone.
	_, _, mk = serve(t, exchange{method: "POST", path: "/auth/v1/otp/generate",
		body:  `{"identifierType":"USERNAME","identifierValue":"carol","brand":"DocDemo","deviceId":"123456785","sessionId":"P-2"}`,
		reply: `{"status":{"success":true,"code":200,"message":"SUCCESS"}}`})
	if err := mk(byUsername).GenerateOTP(ctx, "P-2"); err != nil {
		t.Fatal(err)
	}
}

// Refused before any request: USERNAME without mobile or email, and
// EXTERNALID, which the docs do not list for the first-factor calls.
func TestIdentityRefusals(t *testing.T) {
	c, hits, mk := serve(t, exchange{})
	_ = c
	bare := byUsername
	bare.Mobile = ""
	if _, err := mk(bare).GenerateToken(ctx, "", ""); err == nil || !strings.Contains(err.Error(), "mobile or email") {
		t.Errorf("USERNAME without mobile or email: %v", err)
	}
	ext := docDemo
	ext.IdentifierType = IdentifierExternalID
	if _, err := mk(ext).GenerateToken(ctx, "", ""); !errors.Is(err, ErrExternalIDUnsupported) {
		t.Errorf("EXTERNALID: %v", err)
	}
	if err := ValidIdentifierType(IdentifierExternalID); !errors.Is(err, ErrExternalIDUnsupported) {
		t.Errorf("ValidIdentifierType(EXTERNALID) = %v", err)
	}
	if hits.Load() != 0 {
		t.Errorf("%d requests sent for identities that cannot sign in", hits.Load())
	}
}

// 5004 on an OTP call means the org encrypts payloads with a hash keyturn
// cannot compute: the hint says so plainly.
func TestPayloadEncryptionHint(t *testing.T) {
	_, _, mk := serve(t, exchange{method: "POST", path: "/auth/v1/otp/generate",
		body:  `{"identifierType":"MOBILE","identifierValue":"919999999993","brand":"DocDemo","deviceId":"123456785","sessionId":"P-3"}`,
		reply: `{"status":{"success":false,"code":5004,"message":"Response tampered"}}`})
	err := mk(docDemo).GenerateOTP(ctx, "P-3")
	var ae *client.APIError
	if !errors.As(err, &ae) || ae.Code != CodeResponseTampered {
		t.Fatalf("5004: %v", err)
	}
	if h := Hint(err); !strings.Contains(h, "payload encryption") || !strings.Contains(h, "not supported") {
		t.Errorf("hint for 5004: %q", h)
	}
}
