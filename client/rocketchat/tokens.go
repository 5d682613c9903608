package rocketchat

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"keyturn/client"
)

// PAT is a personal access token as the server lists it; the token itself
// is shown only once, when generated.
type PAT struct {
	Name          string
	CreatedAt     time.Time
	LastTokenPart string // the last 6 characters of the token
	// BypassTwoFactor says whether calls with this token skip the second
	// factor; nil when the server does not say (old servers).
	BypassTwoFactor *bool
}

type patWire struct {
	Name            string   `json:"name"`
	CreatedAt       wireTime `json:"createdAt"`
	LastTokenPart   string   `json:"lastTokenPart"`
	BypassTwoFactor *bool    `json:"bypassTwoFactor"`
}

func checkTokenName(name string) error {
	if strings.TrimSpace(name) == "" {
		return errors.New("rocketchat: the token needs a name")
	}
	if len(name) > maxTokenNameLength {
		return fmt.Errorf("rocketchat: the token name is longer than %d bytes", maxTokenNameLength)
	}
	return nil
}

// GeneratePAT creates a personal access token and returns it (the only
// time the server shows it). The route asks for a second factor when two-
// factor authentication applies to the user (TOTP or e-mail on, or the
// password fallback; not for a user without a local password, nor while
// the server remembers a passed factor): then, without sf or with a wrong
// one, it returns a *client.SecondFactorRequired. A
// name in use is a *client.APIError with Code CodeTokenExists; a user
// without the permission create-personal-access-tokens gets one that
// IsPermissionDenied recognises.
func (r *Client) GeneratePAT(ctx context.Context, name string, bypass2FA bool, sf *SecondFactor) (string, error) {
	if err := checkTokenName(name); err != nil {
		return "", err
	}
	return r.tokenCall(ctx, pathGeneratePAT, generateBody{TokenName: name, BypassTwoFactor: bypass2FA}, sf)
}

// RegeneratePAT replaces the named token in place: the server deletes the
// old one and creates a new one with the same name and bypassTwoFactor.
// After an ambiguous failure (client.MayHaveApplied) do not retry blindly:
// the old token may already be gone; ListPATs shows whether CreatedAt moved.
func (r *Client) RegeneratePAT(ctx context.Context, name string, sf *SecondFactor) (string, error) {
	if err := checkTokenName(name); err != nil {
		return "", err
	}
	return r.tokenCall(ctx, pathRegeneratePAT, tokenNameBody{TokenName: name}, sf)
}

type generateBody struct {
	TokenName       string `json:"tokenName"`
	BypassTwoFactor bool   `json:"bypassTwoFactor"`
}

type tokenNameBody struct {
	TokenName string `json:"tokenName"`
}

func (r *Client) tokenCall(ctx context.Context, path string, body any, sf *SecondFactor) (string, error) {
	var out struct {
		Token string `json:"token"`
	}
	if err := r.do(ctx, call{method: http.MethodPost, path: path, body: body, auth: authRequired, sf: sf, out: &out}); err != nil {
		return "", err
	}
	if out.Token == "" {
		return "", &client.BadResponseError{Service: r.service, Status: http.StatusOK, StatusText: http.StatusText(http.StatusOK),
			ContentType: "application/json", Reason: "the answer has no token"}
	}
	return out.Token, nil
}

// ListPATs lists the user's personal access tokens (no second factor needed).
func (r *Client) ListPATs(ctx context.Context) ([]PAT, error) {
	var out struct {
		Tokens []patWire `json:"tokens"`
	}
	if err := r.do(ctx, call{method: http.MethodGet, path: pathListPATs, auth: authRequired, out: &out, list: true}); err != nil {
		return nil, err
	}
	pats := make([]PAT, 0, len(out.Tokens))
	for _, t := range out.Tokens {
		pats = append(pats, PAT{Name: t.Name, CreatedAt: t.CreatedAt.Time, LastTokenPart: t.LastTokenPart, BypassTwoFactor: t.BypassTwoFactor})
	}
	return pats, nil
}

// RemovePAT deletes the named token; like GeneratePAT, the route asks for a
// second factor when two-factor authentication applies to the user.
// A name that does not exist is a *client.APIError with Code CodeTokenMissing.
func (r *Client) RemovePAT(ctx context.Context, name string, sf *SecondFactor) error {
	if err := checkTokenName(name); err != nil {
		return err
	}
	return r.do(ctx, call{method: http.MethodPost, path: pathRemovePAT, body: tokenNameBody{TokenName: name}, auth: authRequired, sf: sf})
}

// wireTime reads a date as Rocket.Chat sends it: an ISO string, or EJSON
// {"$date":…}, or epoch milliseconds.
type wireTime struct{ time.Time }

func (w *wireTime) UnmarshalJSON(b []byte) error {
	if string(b) == "null" {
		return nil
	}
	t := parseDate(b)
	if t.IsZero() {
		return fmt.Errorf("not a date: %.40s", b)
	}
	w.Time = t
	return nil
}
