package capillarysim

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"strings"
)

// jwtHeader is the engine's non-standard JWT header, in the documented
// field order: {"idv":["MOBILE|…"],"dev":"…","org":"BRAND","alg":"HS256"}.
type jwtHeader struct {
	IDV []string `json:"idv"`
	Dev *string  `json:"dev"`
	Org string   `json:"org"`
	Alg string   `json:"alg"`
}

// jwtClaims covers tokens and keys. Tokens: uid (absent on VIEW), iss, isc,
// ogc, exp, iat, rol. Keys: uid, iss, mfa, iat, rol AUTH, no exp.
//
// jti is not in the documented samples: the sandbox adds it so that two
// tokens minted in the same second differ, and one can be expired alone.
type jwtClaims struct {
	UID string   `json:"uid,omitempty"`
	Iss string   `json:"iss"`
	Isc string   `json:"isc,omitempty"`
	Ogc []string `json:"ogc,omitempty"`
	MFA *bool    `json:"mfa,omitempty"`
	Exp int64    `json:"exp,omitempty"`
	Iat int64    `json:"iat"`
	Rol string   `json:"rol"`
	Jti string   `json:"jti"`
}

const issuer = "CAPILLARY TECHNOLOGIES"

var b64 = base64.RawURLEncoding

func signJWT(secret []byte, h jwtHeader, c jwtClaims) string {
	h.Alg = "HS256"
	hb, _ := json.Marshal(h)
	cb, _ := json.Marshal(c)
	signing := b64.EncodeToString(hb) + "." + b64.EncodeToString(cb)
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(signing))
	return signing + "." + b64.EncodeToString(mac.Sum(nil))
}

var errBadJWT = errors.New("not a token this server signed")

// verifyJWT checks the signature and reads the header and claims. It does
// not look at exp; callers decide what an expired token means.
func verifyJWT(secret []byte, tok string) (*jwtHeader, *jwtClaims, error) {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return nil, nil, errBadJWT
	}
	sig, err := b64.DecodeString(parts[2])
	if err != nil {
		return nil, nil, errBadJWT
	}
	mac := hmac.New(sha256.New, secret)
	mac.Write([]byte(parts[0] + "." + parts[1]))
	if !hmac.Equal(sig, mac.Sum(nil)) {
		return nil, nil, errBadJWT
	}
	var h jwtHeader
	var c jwtClaims
	hb, err1 := b64.DecodeString(parts[0])
	cb, err2 := b64.DecodeString(parts[1])
	if err1 != nil || err2 != nil || json.Unmarshal(hb, &h) != nil || json.Unmarshal(cb, &c) != nil || h.Alg != "HS256" {
		return nil, nil, errBadJWT
	}
	return &h, &c, nil
}
