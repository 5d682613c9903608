package account

import (
	"fmt"
	"sort"
	"strings"
	"time"

	"keyturn/config"
)

// Derived states of a token that can expire or be switched off (with
// StateExpired, which the inventory shares).
const (
	StateActive   = "active"
	StateDisabled = "disabled"
)

// ExpiryWarning is how close an expiry must be for the faces to warn.
const ExpiryWarning = 7 * 24 * time.Hour

// DefaultLifetime is what a rotation gives a token whose lifetime keyturn
// does not know (the server shows no creation time for user tokens).
const DefaultLifetime = 90 * 24 * time.Hour

// dateLayouts are what --expires-at reads, besides RFC 3339.
var dateLayouts = []string{"2006-01-02", "2006-01-02 15:04", "2006-01-02T15:04"}

// ParseExpiry reads --expires-in (a duration ParseAge reads, from now) or
// --expires-at (a date, 2027-01-31, with an optional time; local time
// unless it says its zone). The zero time means neither was given.
func ParseExpiry(in, at string, now time.Time) (time.Time, error) {
	in, at = strings.TrimSpace(in), strings.TrimSpace(at)
	switch {
	case in != "" && at != "":
		return time.Time{}, fmt.Errorf("give --expires-in or --expires-at, not both")
	case in != "":
		d, err := ParseAge(in)
		if err != nil {
			return time.Time{}, err
		}
		return now.Add(d), nil
	case at == "":
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339, at)
	for _, l := range dateLayouts {
		if err == nil {
			break
		}
		t, err = time.ParseInLocation(l, at, time.Local)
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("expiry date %q: write the date as 2027-01-31, with a time if you like (2027-01-31 18:00, or RFC 3339)", at)
	}
	if !t.After(now) {
		return time.Time{}, fmt.Errorf("expiry date %q is in the past", at)
	}
	return t, nil
}

// TokenState is a token's state as the faces show it: disabled, expired
// or active; "" for kinds that are neither switched off nor expire.
func TokenState(t Token, now time.Time) string {
	switch {
	case t.Active != nil && !*t.Active:
		return StateDisabled
	case t.Expires != nil && !now.Before(*t.Expires):
		return StateExpired
	case t.Active != nil || t.Expires != nil:
		return StateActive
	}
	return ""
}

// ExpiringSoon are the active tokens that expire within ExpiryWarning.
// Capillary's session renews itself every few minutes and is left out.
func ExpiringSoon(tokens []Token, now time.Time) []Token {
	var out []Token
	for _, t := range tokens {
		if t.Ref.Kind == KindSession || t.Kind == KindSession {
			continue
		}
		if t.Expires != nil && TokenState(t, now) == StateActive && t.Expires.Sub(now) <= ExpiryWarning {
			out = append(out, t)
		}
	}
	return out
}

// skewMargin keeps a capped expiry inside the server's maximum when the
// server's clock runs ahead of ours.
const skewMargin = time.Hour

// maxLifetime is a server's maximum in days as a duration (0: none).
func maxLifetime(maxDays int) time.Duration { return time.Duration(maxDays) * 24 * time.Hour }

// rotationExpiry is the expiry a rotated token gets: override when the
// person gave one; else the same lifetime as before (lifetime, when keyturn
// knows it; DefaultLifetime when only the expiry is known), capped by the
// server's maximum; a token that never expired stays so unless the server
// has a maximum. The zero time means "never".
func rotationExpiry(override, expires time.Time, lifetime time.Duration, maxDays int, now time.Time) time.Time {
	if !override.IsZero() {
		return override
	}
	var d time.Duration
	switch {
	case expires.IsZero():
	case lifetime > 0:
		d = lifetime
	default:
		d = DefaultLifetime
	}
	if limit := maxLifetime(maxDays); limit > 0 && (d == 0 || d > limit-skewMargin) {
		d = limit - skewMargin // a server clock a little ahead must not find it too far
	}
	if d == 0 {
		return time.Time{}
	}
	return now.Add(d)
}

// LifetimeRequiredError is a server's lifetime maximum refusing a token's
// expiry, found before the request or in the server's answer: the token
// must expire within MaxDays days (0 when the server did not say).
type LifetimeRequiredError struct {
	Account string
	MaxDays int
	// TooFar: an expiry was given, beyond the maximum; otherwise none was.
	TooFar bool
	Err    error // the server's answer, when it refused
}

func (e *LifetimeRequiredError) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: this server requires user access tokens to expire", e.Account)
	if e.MaxDays > 0 {
		fmt.Fprintf(&b, " within %d days", e.MaxDays)
	}
	if e.TooFar {
		b.WriteString(", and the expiry asked for is later")
	} else {
		b.WriteString(", and none was given")
	}
	return b.String()
}

func (e *LifetimeRequiredError) Unwrap() error { return e.Err }

// checkLifetime refuses, before any request, an expiry the server's known
// maximum would refuse.
func checkLifetime(at time.Time, maxDays int, now time.Time) error {
	limit := maxLifetime(maxDays)
	switch {
	case limit == 0:
		return nil
	case at.IsZero():
		return &LifetimeRequiredError{MaxDays: maxDays}
	case at.Sub(now) > limit:
		return &LifetimeRequiredError{MaxDays: maxDays, TooFar: true}
	}
	return nil
}

// ExpiringSecret is a stored token that has expired or expires within
// ExpiryWarning, read from the index (no server is asked).
type ExpiringSecret struct {
	Ref     string    `json:"ref"`
	Name    string    `json:"name"`
	Expires time.Time `json:"expires"`
	Expired bool      `json:"expired"`
}

// expiringStored lists the account's stored tokens that need attention
// soon, soonest first. Capillary's session renews itself every few
// minutes and is left out, as are keyturn's own entries.
func expiringStored(c *config.Config, account string, now time.Time) []ExpiringSecret {
	var out []ExpiringSecret
	for _, meta := range c.Secrets {
		if meta.Account != account || meta.Expires == nil || meta.Expires.Sub(now) > ExpiryWarning {
			continue
		}
		switch meta.Kind {
		case KindUserToken, KindPAT, KindCommand, KindWebhook:
		default:
			continue
		}
		out = append(out, ExpiringSecret{Ref: Ref{Kind: meta.Kind, ID: meta.ID}.String(), Name: meta.Name,
			Expires: *meta.Expires, Expired: !now.Before(*meta.Expires)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Expires.Before(out[j].Expires) })
	return out
}
