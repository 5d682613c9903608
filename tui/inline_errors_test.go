package tui

import (
	"context"
	"strings"
	"testing"

	"keyturn/account"
	"keyturn/config"
	"keyturn/sandbox/mattermostsim"
)

// A wrong password keeps the sign-in dialog open with the error in it, in
// keyturn's words with the server's id apart, as a wrong code does; the
// next try signs in (issue 16, item 6).
func TestSignInWrongPasswordStaysInTheDialog(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.selectAccount(mmAcct)
	h.press("enter")
	h.typeText("wrong-password")
	h.press("enter")
	if _, ok := h.m.topDialog().(*signInDialog); !ok {
		t.Fatalf("a wrong password closed the sign-in dialog:\n%s", h.dump())
	}
	if h.m.banner != nil {
		t.Fatalf("a wrong password went to the banner:\n%s", h.dump())
	}
	h.says("✗ The server did not accept the user name or password.", "api.user.login.invalid_credentials_email_username")
	h.typeText(mattermostsim.AdminPassword)
	h.press("enter")
	h.typeText(h.mattermostCode())
	h.press("enter")
	h.contains("● Signed in")
	h.lacks("did not accept")
}

// A name the server already has keeps the create dialog, with the name
// typed, and says why; changing the name creates the token.
func TestCreateDuplicateNameKeepsTheDialogAndTheName(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInRocketChat()
	create := func(name string) {
		h.press(keyOf(h.m.keys.NewToken))
		h.typeText(name)
		h.press("enter")
		if _, ok := h.m.topDialog().(*challengeDialog); ok {
			h.typeText(h.code("rocketchat alice TOTP"))
			h.press("enter")
		}
	}
	create("deploy")
	h.says(`personal access token "deploy"`)
	for h.m.topDialog() != nil {
		h.press("esc")
	}
	create("deploy")
	d, ok := h.m.topDialog().(*createDialog)
	if !ok {
		t.Fatalf("a taken name closed the create dialog:\n%s", h.dump())
	}
	if d.input.Value() != "deploy" {
		t.Fatalf("the name typed is gone: %q", d.input.Value())
	}
	h.says(`✗ The server already has a token called "deploy": choose another name.`, "error-token-already-exists")
	if h.m.banner != nil {
		t.Fatalf("the error went to the banner:\n%s", h.dump())
	}
	h.press("end")
	h.typeText("-2")
	h.press("enter")
	if _, ok := h.m.topDialog().(*challengeDialog); ok {
		h.typeText(h.code("rocketchat alice TOTP"))
		h.press("enter")
	}
	h.says(`personal access token "deploy-2"`)
	if strings.Contains(h.screen(), "already has a token") {
		t.Fatalf("the old error stays up:\n%s", h.dump())
	}
}

// e edits an account in place: a typo in the URL is fixed without removing
// and adding it again (issue 16, item 6).
func TestEditAccountFixesATypoInTheURL(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	if _, err := h.mgr.Add(context.Background(), config.Account{Name: "typo", Service: account.Mattermost, URL: "http://127.0.0.1:1", User: mattermostsim.AdminUsername}); err != nil {
		t.Fatal(err)
	}
	h.press("ctrl+r")
	h.selectAccount("typo")
	h.press(keyOf(h.m.keys.Edit))
	h.says("Edit account · typo", "http://127.0.0.1:1")
	d, ok := h.m.topDialog().(*addAccountDialog)
	if !ok {
		t.Fatalf("no edit dialog:\n%s", h.dump())
	}
	for d.focus != fURL {
		h.press("tab")
	}
	for range len("http://127.0.0.1:1") {
		h.press("backspace")
	}
	h.typeText(h.sb.MattermostURL)
	for d.focus != fSubmit {
		h.press("tab")
	}
	h.press("enter")
	h.says("Saved typo")
	st, err := h.mgr.Show(context.Background(), "typo")
	if err != nil || st.URL != h.sb.MattermostURL || st.Service != account.Mattermost || st.User != mattermostsim.AdminUsername {
		t.Fatalf("after the edit: %+v, %v", st, err)
	}
}

// Editing a Capillary account offers what the add form does: the MFA step
// and, for a user-name identifier, the mobile and email, filled in from
// the account and saved; what is not shown stays.
func TestEditCapillaryAccountChangesItsMFAStepAndContacts(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ctx := context.Background()
	if _, err := h.mgr.Edit(ctx, capAcct, func(a *config.Account) {
		a.IdentifierType, a.Identifier, a.Mobile, a.Email, a.MFA = account.IdentifierUsername, "bob", "919999000002", "old@example.com", account.MFAOn
	}); err != nil {
		t.Fatal(err)
	}
	h.press("ctrl+r")
	h.selectAccount(capAcct)
	h.press(keyOf(h.m.keys.Edit))
	h.says("Edit account · "+capAcct, "MFA step", "919999000002", "old@example.com")
	d := h.m.topDialog().(*addAccountDialog)
	if mfa := d.fields[fMFA]; mfa.choices[mfa.choice] != account.MFAOn {
		t.Fatalf("the MFA step shows %q, the account's is on", mfa.choices[mfa.choice])
	}
	for d.focus != fEmail {
		h.press("tab")
	}
	for range len("old@example.com") {
		h.press("backspace")
	}
	h.typeText("bob@example.com")
	for d.focus != fMFA {
		h.press("tab")
	}
	h.press("right") // on → off
	for d.focus != fSubmit {
		h.press("tab")
	}
	h.press("enter")
	h.says("Saved " + capAcct)
	var got config.Account
	if err := h.cf.Read(func(c *config.Config) {
		a, _ := c.Account(capAcct)
		got = *a
	}); err != nil {
		t.Fatal(err)
	}
	if got.Email != "bob@example.com" || got.Mobile != "919999000002" || got.MFA != account.MFAOff || got.Identifier != "bob" {
		t.Fatalf("after the edit: mfa %q mobile %q email %q identifier %q", got.MFA, got.Mobile, got.Email, got.Identifier)
	}
}

// A refused code is said in keyturn's words; the server's own words come
// on a line of their own under it (issue 16, item 6).
func TestChallengeSaysARefusedCodeInKeyturnsWords(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.selectAccount(mmAcct)
	h.press("enter")
	h.typeText(mattermostsim.AdminPassword)
	h.press("enter")
	h.typeText("000000")
	h.press("enter")
	lines := strings.Split(h.screen(), "\n")
	for i, l := range lines {
		if strings.Contains(l, "✗ The server did not accept that code.") {
			if strings.Contains(l, "Invalid") || !strings.Contains(lines[i+1], "mattermost: ") {
				t.Fatalf("want the words, then the server's on the next line:\n%s", h.dump())
			}
			return
		}
	}
	t.Fatalf("no refusal in keyturn's words:\n%s", h.dump())
}

// A server that cannot be reached offers the way out: e on the banner
// edits the account's URL.
func TestUnreachableServerBannerOffersEdit(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	if _, err := h.mgr.Add(context.Background(), config.Account{Name: "typo", Service: account.Mattermost, URL: "http://127.0.0.1:1", User: "ann"}); err != nil {
		t.Fatal(err)
	}
	h.press("ctrl+r")
	h.selectAccount("typo")
	h.press("enter", "esc") // the account screen, no sign-in
	_, err := h.mgr.Login(context.Background(), account.LoginRequest{Account: "typo", Password: "x"})
	h.m.showError("Cannot reach typo", err)
	h.says("Nothing answers at 127.0.0.1:1", keyOf(h.m.keys.Edit)+" edit typo's server")
	h.press(keyOf(h.m.keys.Edit))
	h.says("Edit account · typo")
}
