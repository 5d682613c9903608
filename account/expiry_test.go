package account

import (
	"errors"
	"strings"
	"testing"
	"time"
)

var expNow = time.Date(2026, 12, 4, 18, 0, 0, 0, time.UTC)

func TestParseExpiry(t *testing.T) {
	day := 24 * time.Hour
	for _, c := range []struct {
		in, at string
		want   time.Time
	}{
		{"", "", time.Time{}},
		{"90d", "", expNow.Add(90 * day)},
		{"12h", "", expNow.Add(12 * time.Hour)},
		{"1h30m", "", expNow.Add(90 * time.Minute)},
		{"", "2027-01-31", time.Date(2027, 1, 31, 0, 0, 0, 0, time.Local)},
		{"", "2027-01-31T12:00:00Z", time.Date(2027, 1, 31, 12, 0, 0, 0, time.UTC)},
		{"", "2027-01-31 08:30", time.Date(2027, 1, 31, 8, 30, 0, 0, time.Local)},
	} {
		got, err := ParseExpiry(c.in, c.at, expNow)
		if err != nil || !got.Equal(c.want) {
			t.Errorf("ParseExpiry(%q, %q) = %v, %v; want %v", c.in, c.at, got, err, c.want)
		}
	}
	for _, c := range []struct{ in, at, why string }{
		{"90d", "2027-01-31", "not both"},
		{"5y", "", `unknown unit "y"`},
		{"", "31/01/2027", "write the date as 2027-01-31"},
		{"", "2026-12-01", "in the past"},
	} {
		if _, err := ParseExpiry(c.in, c.at, expNow); err == nil || !strings.Contains(err.Error(), c.why) {
			t.Errorf("ParseExpiry(%q, %q) = %v; want an error saying %q", c.in, c.at, err, c.why)
		}
	}
}

func TestTokenStateAndWarnings(t *testing.T) {
	yes, no := true, false
	at := func(d time.Duration) *time.Time { x := expNow.Add(d); return &x }
	toks := []Token{
		{Label: "never", Active: &yes},
		{Label: "later", Active: &yes, Expires: at(30 * 24 * time.Hour)},
		{Label: "soon", Active: &yes, Expires: at(6 * 24 * time.Hour)},
		{Label: "gone", Active: &yes, Expires: at(-time.Minute)},
		{Label: "off", Active: &no, Expires: at(2 * 24 * time.Hour)},
		{Label: "command"},
	}
	want := []string{StateActive, StateActive, StateActive, StateExpired, StateDisabled, ""}
	for i, tk := range toks {
		if got := TokenState(tk, expNow); got != want[i] {
			t.Errorf("%s: state %q, want %q", tk.Label, got, want[i])
		}
	}
	soon := ExpiringSoon(toks, expNow)
	if len(soon) != 1 || soon[0].Label != "soon" {
		t.Fatalf("expiring within 7 days: %v", soon)
	}
}

// A rotation keeps the token's lifetime, capped by the server's maximum;
// an override wins; a non-expiring token stays so unless a maximum says
// otherwise.
func TestRotationExpiry(t *testing.T) {
	day := 24 * time.Hour
	created := expNow.Add(-20 * day)
	old := expNow.Add(10 * day) // a 30-day token
	for _, c := range []struct {
		name     string
		override time.Time
		expires  time.Time
		lifetime time.Duration
		maxDays  int
		want     time.Time
	}{
		{"same lifetime", time.Time{}, old, old.Sub(created), 0, expNow.Add(30 * day)},
		{"capped", time.Time{}, old, old.Sub(created), 14, expNow.Add(14*day - skewMargin)},
		{"override", expNow.Add(7 * day), old, old.Sub(created), 0, expNow.Add(7 * day)},
		{"never stays never", time.Time{}, time.Time{}, 0, 0, time.Time{}},
		{"never under a maximum", time.Time{}, time.Time{}, 0, 30, expNow.Add(30*day - skewMargin)},
		{"lifetime unknown", time.Time{}, old, 0, 0, expNow.Add(DefaultLifetime)},
		{"lifetime unknown, capped", time.Time{}, old, 0, 30, expNow.Add(30*day - skewMargin)},
	} {
		got := rotationExpiry(c.override, c.expires, c.lifetime, c.maxDays, expNow)
		if !got.Equal(c.want) {
			t.Errorf("%s: %v, want %v", c.name, got, c.want)
		}
	}
}

// A lifetime the server's maximum refuses is refused before any request,
// with its way out.
func TestCheckLifetime(t *testing.T) {
	day := 24 * time.Hour
	if err := checkLifetime(expNow.Add(29*day), 30, expNow); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		at   time.Time
		max  int
		days int
	}{
		{time.Time{}, 30, 30},
		{expNow.Add(31 * day), 30, 30},
	} {
		err := checkLifetime(c.at, c.max, expNow)
		var le *LifetimeRequiredError
		if !errors.As(err, &le) || le.MaxDays != c.days {
			t.Errorf("checkLifetime(%v, %d) = %v", c.at, c.max, err)
		}
	}
	if err := checkLifetime(time.Time{}, 0, expNow); err != nil {
		t.Errorf("no maximum, no expiry: %v", err)
	}
}
