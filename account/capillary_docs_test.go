package account_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"keyturn/account"
	"keyturn/client/capillary"
	"keyturn/config"
	"keyturn/sandbox/capillarysim"
)

func capAccount(w *world, name, idType, id string, extra func(*config.Account)) {
	w.t.Helper()
	a := config.Account{Name: name, Service: account.Capillary, URL: w.sb.CapillaryURL, Brand: capillarysim.SeedBrand,
		DeviceID: capillarysim.SeedDeviceID, IdentifierType: idType, Identifier: id}
	if extra != nil {
		extra(&a)
	}
	w.add(a)
}

// An account is refused, with why, when it cannot sign in: EXTERNALID, a
// USERNAME without mobile or email, an unknown --mfa mode.
func TestCapillaryAccountChecks(t *testing.T) {
	base := config.Account{Name: "c", Service: account.Capillary, URL: "https://eu.api.capillarytech.com", Brand: "b", DeviceID: "d", Identifier: "x"}
	for _, c := range []struct {
		name string
		edit func(*config.Account)
		want string
	}{
		{"EXTERNALID", func(a *config.Account) { a.IdentifierType = "EXTERNALID" }, "MOBILE, EMAIL or USERNAME"},
		{"USERNAME alone", func(a *config.Account) { a.IdentifierType = "USERNAME" }, "mobile number or email address"},
		{"bad mfa", func(a *config.Account) { a.IdentifierType = "MOBILE"; a.MFA = "sometimes" }, "use auto"},
	} {
		a := base
		c.edit(&a)
		if _, err := account.Normalize(a); err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%s: %v, want it to say %q", c.name, err, c.want)
		}
	}
	a := base
	a.IdentifierType, a.Email, a.MFA = "USERNAME", " dave@example.com ", "ON"
	n, err := account.Normalize(a)
	if err != nil || n.Email != "dave@example.com" || n.MFA != account.MFAOn {
		t.Fatalf("a USERNAME with an email: %+v, %v", n, err)
	}
	if n, _ := account.Normalize(config.Account{Name: "c", Service: account.Capillary, URL: base.URL, Brand: "b", DeviceID: "d", IdentifierType: "MOBILE", Identifier: "1"}); n.MFA != account.MFAAuto {
		t.Fatalf("the default mode is auto, got %q", n.MFA)
	}
	ext := base
	ext.IdentifierType = "EXTERNALID"
	if _, err := account.Normalize(ext); !errors.Is(err, capillary.ErrExternalIDUnsupported) {
		t.Fatalf("EXTERNALID: %v, want ErrExternalIDUnsupported", err)
	}
}

// A USERNAME identifier signs in with its mobile alongside, and a password
// with spaces is sent as typed.
func TestCapillaryUsernameWithSpacedPassword(t *testing.T) {
	w := newWorld(t)
	capAccount(w, "dave", "USERNAME", capillarysim.DaveUsername, func(a *config.Account) { a.Mobile = capillarysim.DaveMobile })
	ctx := context.Background()
	st, err := w.mgr.Login(ctx, account.LoginRequest{Account: "dave", Password: capillarysim.DavePassword})
	if err != nil || !st.SignedIn {
		t.Fatalf("dave: %+v, %v", st, err)
	}
	// The password as the answer to the password step: as typed too.
	_, err = w.mgr.Login(ctx, account.LoginRequest{Account: "dave", FirstFactor: "password"})
	if ch := asChallenge(t, err); ch.Step != "password" {
		t.Fatalf("step %q", ch.Step)
	}
	st, err = w.mgr.Login(ctx, account.LoginRequest{Account: "dave", Answer: &account.Answer{Code: capillarysim.DavePassword}})
	if err != nil || !st.SignedIn {
		t.Fatalf("dave, password as the answer: %+v, %v", st, err)
	}
}

// A brand whose first-factor token says USER though MFA is required: with
// --mfa on the sign-in goes on to the MFA step; auto stops after the first
// factor.
func TestCapillaryMFAOnWhenTheRoleSaysUser(t *testing.T) {
	w := newWorld(t)
	w.sb.Capillary.SetMFARoleMarked(false)
	ctx := context.Background()
	capAccount(w, "on", "MOBILE", capillarysim.AliceMobile, func(a *config.Account) { a.MFA = account.MFAOn })
	_, err := w.mgr.Login(ctx, account.LoginRequest{Account: "on", Password: capillarysim.AlicePassword})
	if ch := asChallenge(t, err); ch.Step != "mfa-password" {
		t.Fatalf("--mfa on: step %q, want the MFA password", ch.Step)
	}
	if _, err := w.mgr.Login(ctx, account.LoginRequest{Account: "on", Answer: &account.Answer{Code: capillarysim.AliceMFAPassword}}); err != nil {
		t.Fatal(err)
	}
	capAccount(w, "auto", "MOBILE", capillarysim.AliceMobile, nil)
	if _, err := w.mgr.Login(ctx, account.LoginRequest{Account: "auto", Password: capillarysim.AlicePassword}); err != nil {
		t.Fatalf("auto, role USER: signs in after the first factor: %v", err)
	}
}

// Signing out of a session without MFA forgets it here and says the
// server ends it at its expiry: mfa/token/expire is not called for it.
func TestCapillaryLogoutWithoutMFAForgetsLocally(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	capAccount(w, "carol", "EMAIL", capillarysim.CarolEmail, nil)
	if _, err := w.mgr.Login(ctx, account.LoginRequest{Account: "carol", Password: capillarysim.CarolPassword}); err != nil {
		t.Fatal(err)
	}
	tok := w.stored("carol/session")
	err := w.mgr.Logout(ctx, "carol")
	var lo *account.LocalOnlyError
	if !errors.As(err, &lo) || lo.Expires == nil || !strings.Contains(err.Error(), "stays valid on the server until it expires") {
		t.Fatalf("logout: %v", err)
	}
	if w.sb.Capillary.TokenExpired(tok) {
		t.Fatal("mfa/token/expire was called for a first-factor token")
	}
	if st, _ := w.mgr.Show(ctx, "carol"); st.SignedIn {
		t.Fatal("still signed in after the logout")
	}
	// With MFA the server ends it.
	capAccount(w, "alice", "MOBILE", capillarysim.AliceMobile, nil)
	if _, err := w.mgr.Login(ctx, account.LoginRequest{Account: "alice", Password: capillarysim.AlicePassword, MFAPassword: capillarysim.AliceMFAPassword}); err != nil {
		t.Fatal(err)
	}
	tok = w.stored("alice/session")
	if err := w.mgr.Logout(ctx, "alice"); err != nil || !w.sb.Capillary.TokenExpired(tok) {
		t.Fatalf("logout with MFA: %v, expired %v", err, w.sb.Capillary.TokenExpired(tok))
	}
}
