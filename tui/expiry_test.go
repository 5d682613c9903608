package tui

import (
	"context"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/config"
	"keyturn/sandbox/capillarysim"
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

// A maximum the dialog did not know (set since it asked): the refusal
// narrows the presets in place, to the maximum, and the next enter makes
// the token. A date typed too far stays for correcting.
func TestNewTokenDialogNarrowsAfterARefusal(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.press("n")
	h.says("Expires: ‹ no expiry ›")
	h.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.MaximumPersonalAccessTokenLifetimeDays = 14 })
	h.typeText("CI deploys")
	h.press("enter")
	h.says("requires user access tokens to expire within 14 days", "Expires: ‹ 14 days ›", "Expires is now 14 days, the longest offered: enter creates the token with it.")
	h.lacks("no expiry", "New user access token")
	h.press("enter")
	h.says("New user access token", "✓ Saved")
	iss := h.m.topDialog().(*resultDialog).iss
	if iss.Expires == nil || iss.Expires.Sub(time.Now().Add(14*24*time.Hour)).Abs() > time.Minute {
		t.Fatalf("expires %v, want in 14 days", iss.Expires)
	}

	h.press("enter")
	h.sb.Mattermost.Configure(func(s *mattermostsim.Settings) { s.MaximumPersonalAccessTokenLifetimeDays = 5 })
	h.press("n")
	h.typeText("release")
	h.press("tab", "left")
	h.says("Expires: ‹ a date ›", "Date:")
	h.press("tab")
	h.typeText(time.Now().Add(10 * 24 * time.Hour).Format("2006-01-02"))
	h.press("enter")
	h.says("within 5 days", "Expires: ‹ a date ›", "Type a date within 5 days.")
	d := h.m.topDialog().(*createDialog)
	if d.focus != fieldDate || d.limit != 5 {
		t.Fatalf("focus %d limit %d: the typed date should stay to correct", d.focus, d.limit)
	}
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

// The account screen shows each user token's expiry and status, and warns
// of those expiring within 7 days.
func TestAccountScreenExpiryAndWarning(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	ctx := context.Background()
	for _, c := range []struct {
		label string
		in    time.Duration
	}{{"soon-bot", 84 * time.Hour}, {"later-bot", 60*24*time.Hour + 12*time.Hour}, {"forever-bot", 0}} {
		var at time.Time
		if c.in > 0 {
			at = time.Now().Add(c.in)
		}
		if _, err := h.mgr.CreateExpiring(ctx, mmAcct, c.label, false, nil, at); err != nil {
			t.Fatal(err)
		}
	}
	h.press("ctrl+r")
	h.says("⚠ expiring within 7 days: soon-bot (in 3d)", "expires in 3d", "expires in 60d", "no expiry")
	h.lacks("later-bot (in")
}

// A team admin without the token role: the user-token section says it is
// not permitted and what grants it; the team's commands and webhooks load.
func TestAccountScreenNotPermittedSection(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ctx := context.Background()
	if err := h.mgr.Remove(ctx, mmAcct); err != nil {
		t.Fatal(err)
	}
	if _, err := h.mgr.Add(ctx, config.Account{Name: mmAcct, Service: account.Mattermost, URL: h.sb.MattermostURL, User: mattermostsim.CarolUsername}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.mgr.Login(ctx, account.LoginRequest{Account: mmAcct, Password: mattermostsim.CarolPassword}); err != nil {
		t.Fatal(err)
	}
	// The list learns the sign-in, so enter opens the screen with no
	// sign-in dialog over its sections.
	h.press("ctrl+r")
	h.selectAccount(mmAcct)
	h.press("enter")
	h.says("User access tokens", "not permitted for this user · needs the role that makes personal access tokens",
		"Slash commands · team ops", "/deploy", "Outgoing webhooks · team ops")
	h.lacks("Cannot list the tokens")
}

// The regenerate confirmation says how the server rotates user tokens
// once keyturn knows.
func TestRotateUserTokenInPlaceConfirmation(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	ctx := context.Background()
	iss, err := h.mgr.CreateExpiring(ctx, mmAcct, "ci-bot", false, nil, time.Now().Add(10*24*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	ref, _ := account.ParseRef(iss.Ref)
	if _, err := h.mgr.Rotate(ctx, mmAcct, ref, nil); err != nil {
		t.Fatal(err)
	}
	h.press("ctrl+r")
	h.cursorTo("ci-bot")
	h.press("r")
	h.says("Mattermost gives the user access token \"ci-bot\" a new secret at once; it keeps its id")
	h.press("y")
	h.says("New user access token", "✓ Saved", "rotated in place")
}

// Signing out of a Capillary session without MFA: signed out here, and the
// status line says the server ends it at its expiry.
func TestCapillarySignOutWithoutMFA(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ctx := context.Background()
	if err := h.mgr.Remove(ctx, capAcct); err != nil {
		t.Fatal(err)
	}
	if _, err := h.mgr.Add(ctx, config.Account{Name: capAcct, Service: account.Capillary, URL: h.sb.CapillaryURL, Brand: capillarysim.SeedBrand,
		DeviceID: capillarysim.SeedDeviceID, IdentifierType: "EMAIL", Identifier: capillarysim.CarolEmail}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.mgr.Login(ctx, account.LoginRequest{Account: capAcct, Password: capillarysim.CarolPassword}); err != nil {
		t.Fatal(err)
	}
	h.press("ctrl+r") // the list reads the changed account
	h.selectAccount(capAcct)
	h.press("enter")
	h.says("● Signed in")
	h.press("o", "y")
	h.says("Signed out of " + capAcct + " here; the server cannot end a session without MFA: it stays valid until it expires at")
	h.lacks("Sign-out of")
}

// Rotating all user tokens in place: the confirmation says so, and each
// keeps its ref.
func TestRotateAllUserTokensInPlace(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	ctx := context.Background()
	var refs []string
	for _, n := range []string{"a-bot", "b-bot"} {
		iss, err := h.mgr.CreateExpiring(ctx, mmAcct, n, false, nil, time.Now().Add(20*24*time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		refs = append(refs, iss.Ref)
	}
	ref, _ := account.ParseRef(refs[0])
	if _, err := h.mgr.Rotate(ctx, mmAcct, ref, nil); err != nil { // keyturn learns the server rotates in place
		t.Fatal(err)
	}
	h.press("ctrl+r")
	h.cursorTo("a-bot")
	h.press("R")
	h.dialogSays("Mattermost gives each of these 2 user access tokens a new secret in place")
	h.press("y")
	h.says("Rotated · User access tokens", "✓ 2 rotated")
	toks, err := h.mgr.Tokens(ctx, mmAcct, account.ListFilter{Kind: account.KindUserToken})
	if err != nil || len(toks) != 2 || (toks[0].RefString != refs[0] && toks[0].RefString != refs[1]) {
		t.Fatalf("after the run: %v, %v", toks, err)
	}
}
