package account_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/config"
	"keyturn/sandbox/capillarysim"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/simnet"
)

// A typo in a URL is fixed in place: the name and the service stay, a
// signed-in account is not moved to another server behind its session
// (issue 16, item 6).
func TestEditFixesATypoAndKeepsASignedInAccountWhereItIs(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.add(config.Account{Name: "typo", Service: account.Mattermost, URL: "http://127.0.0.1:1", User: mattermostsim.AdminUsername})
	if _, err := w.mgr.Login(ctx, account.LoginRequest{Account: "typo", Password: mattermostsim.AdminPassword}); err == nil {
		t.Fatal("signed in at a closed port")
	}
	got, err := w.mgr.Edit(ctx, "typo", func(a *config.Account) {
		a.URL = w.sb.MattermostURL
		a.Name, a.Service = "renamed", account.RocketChat // not editable: ignored
	})
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "typo" || got.Service != account.Mattermost || got.URL != w.sb.MattermostURL {
		t.Fatalf("edited: %+v", got)
	}
	req := account.LoginRequest{Account: "typo", Password: mattermostsim.AdminPassword}
	_, err = w.mgr.Login(ctx, req)
	ch := asChallenge(t, err)
	req.Answer = &account.Answer{Method: ch.Method, Code: simnet.TOTPCode(mattermostsim.AdminTOTPSecret, time.Now())}
	if _, err := w.mgr.Login(ctx, req); err != nil {
		t.Fatal(err)
	}
	_, err = w.mgr.Edit(ctx, "typo", func(a *config.Account) { a.URL = "https://other.example.com" })
	if err == nil || !strings.Contains(err.Error(), "sign out first") {
		t.Fatalf("moving a signed-in account: %v", err)
	}
	st, err := w.mgr.Show(ctx, "typo")
	if err != nil || st.URL != w.sb.MattermostURL || !st.SignedIn {
		t.Fatalf("after a refused edit: %+v, %v", st, err)
	}
	if _, err := w.mgr.Edit(ctx, "typo", func(a *config.Account) { a.URL = "ftp://x" }); err == nil {
		t.Fatal("a bad URL was saved")
	}
	if _, err := w.mgr.Edit(ctx, "nobody", func(a *config.Account) {}); err == nil {
		t.Fatal("edited an account that does not exist")
	}
}

// A Capillary account's login is its identifier: an edit keeps the two in
// step, and a signed-in account from a config where they differ is not
// taken for moved when only its MFA step changes.
func TestEditKeepsACapillaryLoginInStepWithItsIdentifier(t *testing.T) {
	w := newWorld(t)
	ctx := context.Background()
	w.add(config.Account{Name: "cap", Service: account.Capillary, URL: w.sb.CapillaryURL, Brand: capillarysim.SeedBrand,
		DeviceID: capillarysim.SeedDeviceID, IdentifierType: "MOBILE", Identifier: capillarysim.BobMobile})
	_, err := w.mgr.Login(ctx, account.LoginRequest{Account: "cap"})
	asChallenge(t, err)
	_, err = w.mgr.Login(ctx, account.LoginRequest{Account: "cap", Answer: &account.Answer{Code: w.sb.Capillary.LastOTP(capillarysim.BobMobile)}})
	asChallenge(t, err)
	if _, err := w.mgr.Login(ctx, account.LoginRequest{Account: "cap", Answer: &account.Answer{Code: w.sb.Capillary.LastMFAOTP(capillarysim.BobMobile)}}); err != nil {
		t.Fatal(err)
	}
	// As an older keyturn could leave it: a login other than the identifier.
	if err := w.cfg.Update(func(c *config.Config) error {
		a, _ := c.Account("cap")
		a.User, a.MFA = "bob-the-login", "" // and no MFA step set: it goes by the token
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	if st, err := w.mgr.Show(ctx, "cap"); err != nil || st.Extra.MFA != account.MFAAuto {
		t.Fatalf("an account without an MFA step shows %q (%v), want auto", st.Extra.MFA, err)
	}
	got, err := w.mgr.Edit(ctx, "cap", func(a *config.Account) { a.MFA = account.MFAOn })
	if err != nil {
		t.Fatalf("changing the MFA step of a signed-in account: %v", err)
	}
	if got.User != capillarysim.BobMobile || got.MFA != account.MFAOn {
		t.Fatalf("after the edit: user %q, mfa %q", got.User, got.MFA)
	}
	if _, err := w.mgr.Edit(ctx, "cap", func(a *config.Account) { a.Identifier = "919999000777" }); err == nil || !strings.Contains(err.Error(), "sign out first") {
		t.Fatalf("a new identifier behind a session: %v", err)
	}
}
