package capillary

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"
)

// ErrNoExpiry is returned by TokenExpiry for a JWT without exp: a key,
// which lives until the server drops it.
var ErrNoExpiry = errors.New("capillary: the token carries no expiry (exp)")

// Claims is what keyturn reads from an engine JWT, without checking its
// signature (the secret is the server's): the header's identity and the
// payload's user, role and times.
type Claims struct {
	Identifiers []string  // header idv, e.g. ["MOBILE|919999000001"]
	Device      string    // header dev; "" for web tokens
	Org         string    // header org, the brand upper-cased
	UserID      string    // uid; absent on VIEW tokens
	Issuer      string    // iss
	Role        string    // rol: VIEW, USER, MFA_PENDING, AUTH (a key)
	MFA         bool      // mfa: a key from the MFA flow
	IssuedAt    time.Time // iat; zero when absent
	Expires     time.Time // exp; zero when absent (keys)
}

// ParseToken reads a JWT's claims without verifying it. Its errors say what
// is malformed and never quote the token.
func ParseToken(jwt string) (*Claims, error) {
	parts := strings.Split(strings.TrimSpace(jwt), ".")
	if len(parts) != 3 {
		if len(parts) == 1 && parts[0] == "" {
			return nil, errors.New("capillary: the token is empty")
		}
		return nil, fmt.Errorf("capillary: the token is not a JWT (it has %d dot-separated parts, a JWT has 3)", len(parts))
	}
	var h struct {
		IDV []string `json:"idv"`
		Dev *string  `json:"dev"`
		Org string   `json:"org"`
	}
	if err := decodeSegment(parts[0], "header", &h); err != nil {
		return nil, err
	}
	var p map[string]any
	if err := decodeSegment(parts[1], "payload", &p); err != nil {
		return nil, err
	}
	c := &Claims{Identifiers: h.IDV, Org: h.Org}
	if h.Dev != nil {
		c.Device = *h.Dev
	}
	c.UserID = stringClaim(p["uid"])
	c.Issuer = stringClaim(p["iss"])
	c.Role = stringClaim(p["rol"])
	switch v := p["mfa"].(type) {
	case bool:
		c.MFA = v
	case string:
		c.MFA = v == "true"
	}
	var err error
	if c.IssuedAt, err = timeClaim(p, "iat"); err != nil {
		return nil, err
	}
	if c.Expires, err = timeClaim(p, "exp"); err != nil {
		return nil, err
	}
	return c, nil
}

// TokenExpiry is a JWT's exp, read without verifying the token.
// ErrNoExpiry when it has none.
func TokenExpiry(jwt string) (time.Time, error) {
	c, err := ParseToken(jwt)
	if err != nil {
		return time.Time{}, err
	}
	if c.Expires.IsZero() {
		return time.Time{}, ErrNoExpiry
	}
	return c.Expires, nil
}

// TokenRole is a JWT's rol claim, read without verifying the token.
func TokenRole(jwt string) (string, error) {
	c, err := ParseToken(jwt)
	if err != nil {
		return "", err
	}
	if c.Role == "" {
		return "", errors.New("capillary: the token carries no role (rol)")
	}
	return c.Role, nil
}

func decodeSegment(seg, what string, v any) error {
	seg = strings.TrimRight(seg, "=")
	raw, err := base64.RawURLEncoding.DecodeString(seg)
	if err != nil {
		// Some encoders use the standard alphabet.
		if raw, err = base64.RawStdEncoding.DecodeString(seg); err != nil {
			return fmt.Errorf("capillary: the token's %s is not base64url", what)
		}
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	if err := dec.Decode(v); err != nil {
		return fmt.Errorf("capillary: the token's %s is not a JSON object", what)
	}
	return nil
}

func stringClaim(v any) string {
	switch x := v.(type) {
	case string:
		return x
	case json.Number:
		return x.String()
	}
	return ""
}

func timeClaim(p map[string]any, name string) (time.Time, error) {
	v, ok := p[name]
	if !ok || v == nil {
		return time.Time{}, nil
	}
	var s string
	switch x := v.(type) {
	case json.Number:
		s = x.String()
	case string:
		s = x
	default:
		return time.Time{}, fmt.Errorf("capillary: the token's %s claim is not a number", name)
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || f < 0 || f > 1e12 {
		return time.Time{}, fmt.Errorf("capillary: the token's %s claim is not a valid time", name)
	}
	sec, frac := math.Modf(f)
	return time.Unix(int64(sec), int64(frac*1e9)).UTC(), nil
}
