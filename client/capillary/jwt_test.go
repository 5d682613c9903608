package capillary

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestParseSampleToken(t *testing.T) {
	c, err := ParseToken(sampleToken)
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{Identifiers: []string{"MOBILE|18767431754"}, Device: "1234", Org: "BUKL", UserID: "1780776",
		Issuer: "CAPILLARY TECHNOLOGIES", Role: "USER", IssuedAt: time.Unix(1717060565, 0).UTC(), Expires: time.Unix(sampleExp, 0).UTC()}
	if !reflect.DeepEqual(*c, want) {
		t.Errorf("claims %+v", *c)
	}
	exp, err := TokenExpiry(sampleToken)
	if err != nil || !exp.Equal(time.Unix(sampleExp, 0)) {
		t.Errorf("TokenExpiry = %v, %v", exp, err)
	}
	if r, err := TokenRole(sampleToken); err != nil || r != "USER" {
		t.Errorf("TokenRole = %q, %v", r, err)
	}
}

func TestParseSampleKey(t *testing.T) {
	c, err := ParseToken(sampleKey)
	if err != nil {
		t.Fatal(err)
	}
	if c.Role != "AUTH" || !c.MFA || !c.Expires.IsZero() || c.UserID != "1780776" || !c.IssuedAt.Equal(time.Unix(1716962557, 0)) {
		t.Errorf("key claims %+v", *c)
	}
	if _, err := TokenExpiry(sampleKey); !errors.Is(err, ErrNoExpiry) {
		t.Errorf("key expiry: %v, want ErrNoExpiry", err)
	}
	if r, _ := TokenRole(sampleKey); r != "AUTH" {
		t.Errorf("key role %q", r)
	}
}

func TestParseVariants(t *testing.T) {
	// Web tokens have dev null; some encoders pad or use the standard
	// alphabet; exp may be fractional or a string; mfa may be a string.
	tok := jwt(`{"idv":["USERNAME|x","MOBILE|1"],"dev":null,"org":"O","alg":"HS256"}`,
		`{"uid":7,"exp":1700000000.5,"iat":"1699999000","rol":"USER","mfa":"true"}`)
	c, err := ParseToken(tok)
	if err != nil {
		t.Fatal(err)
	}
	if c.Device != "" || len(c.Identifiers) != 2 || c.UserID != "7" || !c.MFA ||
		!c.Expires.Equal(time.Unix(1700000000, 5e8)) || !c.IssuedAt.Equal(time.Unix(1699999000, 0)) {
		t.Errorf("claims %+v", *c)
	}
	padded := strings.Replace(sampleToken, ".", "==.", 1)
	if _, err := ParseToken(padded); err != nil {
		t.Errorf("padded header: %v", err)
	}
}

func TestMalformedTokens(t *testing.T) {
	secretish := "s3cr3t-value"
	for name, tc := range map[string]struct{ tok, want string }{
		"empty":          {"", "empty"},
		"one part":       {secretish, "1 dot-separated parts"},
		"two parts":      {secretish + ".x", "2 dot-separated parts"},
		"bad base64":     {"!!!." + secretish + ".x", "header is not base64url"},
		"header not obj": {jwt(`[1]`, `{}`), "header is not a JSON object"},
		"payload text":   {jwt(`{}`, `nope`), "payload is not a JSON object"},
		"exp bool":       {jwt(`{}`, `{"exp":true}`), "exp claim is not a number"},
		"exp text":       {jwt(`{}`, `{"exp":"soon"}`), "exp claim is not a valid time"},
		"exp negative":   {jwt(`{}`, `{"exp":-5}`), "exp claim is not a valid time"},
		"iat huge":       {jwt(`{}`, `{"iat":1e300}`), "iat claim is not a valid time"},
	} {
		_, err := TokenExpiry(tc.tok)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", name, err, tc.want)
			continue
		}
		if strings.Contains(err.Error(), secretish) {
			t.Errorf("%s: the error quotes the token", name)
		}
		if _, err := TokenRole(tc.tok); err == nil {
			t.Errorf("%s: TokenRole accepted it", name)
		}
	}
	if _, err := TokenRole(jwt(`{}`, `{"exp":1}`)); err == nil || !strings.Contains(err.Error(), "no role") {
		t.Errorf("no rol: %v", err)
	}
	if _, err := TokenExpiry(jwt(`{}`, `{"exp":null}`)); !errors.Is(err, ErrNoExpiry) {
		t.Errorf("null exp: %v", err)
	}
}
