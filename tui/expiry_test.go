package tui

import (
	"testing"
	"time"

	"keyturn/sandbox/mattermostsim"
)

// The new-token dialog offers expiry presets; the chosen one is sent.
func TestNewTokenDialogExpiryPresets(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.press("n")
	h.says("Description:", "Expires: ‹ no expiry ›")
	h.typeText("CI deploys")
	h.press("tab")
	h.press("right", "right")
	h.says("Expires: ‹ 30 days ›")
	h.press("enter")
	h.says("New user access token", "✓ Saved")
	iss := h.m.topDialog().(*resultDialog).iss
	if iss.Expires == nil || iss.Expires.Sub(time.Now().Add(30*24*time.Hour)).Abs() > time.Minute {
		t.Fatalf("expires %v, want in 30 days", iss.Expires)
	}
	// A date typed in.
	h.press("enter")
	h.press("n")
	h.typeText("release")
	h.press("tab", "left")
	h.says("Expires: ‹ a date ›", "Date:")
	h.press("tab")
	h.typeText("2001-01-01")
	h.press("enter")
	h.says("is in the past")
}

// A server with a maximum lifetime: no "no expiry", nothing beyond it, the
// maximum offered, and a line saying why.
func TestNewTokenDialogHonoursTheServerMaximum(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.MaximumPersonalAccessTokenLifetimeDays = 14 })
	h.signInMattermost()
	h.press("n")
	h.says("Expires: ‹ 7 days ›", "This server requires tokens to expire within 14 days.")
	h.typeText("CI deploys")
	h.press("tab", "right")
	h.says("Expires: ‹ 14 days ›")
	h.press("right")
	h.says("Expires: ‹ a date ›")
	h.press("right")
	h.says("Expires: ‹ 7 days ›")
	h.lacks("no expiry")
	h.press("enter")
	h.says("New user access token", "✓ Saved")
}

func TestExpiryPresets(t *testing.T) {
	for limit, want := range map[int][]string{
		0:   {"no expiry", "7 days", "30 days", "90 days", "1 year", "a date"},
		30:  {"7 days", "30 days", "a date"},
		100: {"7 days", "30 days", "90 days", "100 days", "a date"},
		1:   {"1 day", "a date"},
	} {
		var got []string
		for _, p := range expiryPresets(limit) {
			got = append(got, p.String())
		}
		if len(got) != len(want) {
			t.Errorf("limit %d: %v, want %v", limit, got, want)
			continue
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("limit %d: %v, want %v", limit, got, want)
				break
			}
		}
	}
}
