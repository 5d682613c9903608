package tui

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
	"keyturn/client"
	"keyturn/config"
	"keyturn/keystore"
	"keyturn/qr"
)

// The goldens draw the main screens from fixed data (no sandbox: its ports,
// ids and clock change every run) at 80×24 and 120×40. Run
// `go test ./tui -run Golden -update` to rewrite them after checking a
// change on screen.

var goldenNow = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func fixedModel(t *testing.T, w, h int, profile colorprofile.Profile) *Model {
	t.Helper()
	cf := config.Open(filepath.Join(t.TempDir(), "config.json"))
	mgr := account.New(cf, keystore.NewVault(keystore.NewMemory(), cf), account.Options{})
	dark := true
	m := New(context.Background(), Options{Manager: mgr, Width: w, Height: h, Dark: &dark, Profile: &profile,
		Now: func() time.Time { return goldenNow }})
	m.noTick = true
	return m
}

func ptime(t time.Time) *time.Time { return &t }
func pbool(b bool) *bool           { return &b }

func fixedAccounts() []account.Status {
	return []account.Status{
		{Name: "work-chat", Service: account.Mattermost, URL: "https://chat.example.com", User: "ann", SignedIn: true, Via: "session", Store: "keyring", Since: ptime(goldenNow.Add(-2 * time.Hour))},
		{Name: "ops-rocket", Service: account.RocketChat, URL: "https://rocket.example.org", User: "ann.lee", SignedIn: true, Via: "personal access token", Store: "keyring", Since: ptime(goldenNow.Add(-72 * time.Hour))},
		{Name: "loyalty-eu", Service: account.Capillary, URL: "https://eu.api.capillarytech.com", User: "919999000001", SignedIn: true, Via: "key", Store: "keyring",
			Since: ptime(goldenNow.Add(-3 * time.Minute)), Expires: ptime(goldenNow.Add(12*time.Minute + 34*time.Second)),
			Extra: account.Extra{Brand: "Acme", IdentifierType: "MOBILE", Identifier: "919999000001", Region: "eu"}},
		{Name: "loyalty-us", Service: account.Capillary, URL: "https://us.api.capillarytech.com", User: "ann@example.com", Pending: "otp",
			Extra: account.Extra{Brand: "Acme", IdentifierType: "EMAIL", Identifier: "ann@example.com", Region: "us"}},
		{Name: "staging-mm", Service: account.Mattermost, URL: "https://staging.chat.example.com/mm", User: "ann"},
	}
}

func fixedTokens() []account.Token {
	created := ptime(goldenNow.Add(-26 * time.Hour))
	mk := func(kind, id, label, team string, stored bool, fp string) account.Token {
		t := account.Token{Ref: account.Ref{Kind: kind, ID: id}, RefString: kind + ":" + id, Kind: kind, ID: id, Label: label, Team: team, Created: created, Stored: stored, Fingerprint: fp}
		if kind == account.KindUserToken {
			t.Active = pbool(true)
			t.Created = nil
		}
		return t
	}
	return []account.Token{
		mk(account.KindUserToken, "kx81jq3b9fgwbyq7e3hzq8yx6h", "CI deploys", "", true, "9f3c"),
		mk(account.KindCommand, "p1s8w5n6xjgtdmc4b7y3k9h2ra", "/deploy (Deploy)", "ops", true, "a1b2"),
		mk(account.KindCommand, "u7x3m9q2c5v8b1n4k6j0h2g5fd", "/oncall (On call)", "ops", false, ""),
		mk(account.KindWebhook, "z5c8v1b4n7m0q3w6e9r2t5y8ua", "CI events", "ops", false, ""),
	}
}

// goldenCheck compares the view, written through the ANSI (16 colour)
// profile, with testdata/<name>.golden.
func goldenCheck(t *testing.T, m *Model, name string) {
	t.Helper()
	goldenCheckAs(t, m, name, colorprofile.ANSI)
}

// goldenCheckAs is goldenCheck through the given profile.
func goldenCheckAs(t *testing.T, m *Model, name string, profile colorprofile.Profile) {
	t.Helper()
	var b strings.Builder
	w := &colorprofile.Writer{Forward: &b, Profile: profile}
	if _, err := w.WriteString(m.View().Content); err != nil {
		t.Fatal(err)
	}
	got := b.String()
	path := filepath.Join("testdata", name+".golden")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if string(want) != got {
		t.Errorf("%s differs from its golden file (check, then run with -update):\n--- got ---\n%s\n--- want ---\n%s", name, ansi.Strip(got), ansi.Strip(string(want)))
	}
}

var goldenSizes = [][2]int{{80, 24}, {100, 30}, {120, 40}}

// goldenModes are the looks every scene is drawn in: a dark background (the
// files with no suffix), a light one, and NO_COLOR (on a dark background).
var goldenModes = []struct {
	suffix  string
	dark    bool
	profile colorprofile.Profile
}{
	{"", true, colorprofile.ANSI},
	{"-light", false, colorprofile.ANSI},
	{"-nocolor", true, colorprofile.ASCII},
}

// goldenScenes are the screens the goldens draw, by name.
func goldenScenes() map[string]func(m *Model) {
	return map[string]func(m *Model){
		"accounts": func(m *Model) {
			m.accounts.rows.setItems(fixedAccounts())
			m.accounts.loaded = true
			m.accounts.rows.moveTo(2)
			m.setStatus("Signed in to loyalty-eu")
		},
		"accounts-empty": func(m *Model) { m.accounts.loaded = true },
		"account-mattermost": func(m *Model) {
			st := fixedAccounts()[0]
			m.screen = screenAccount
			m.acct = accountScreen{name: st.Name, st: &st, tokens: fixedTokens(), tokLoaded: true, mfa: pbool(true)}
			m.acct.syncRows()
			m.acct.nav.moveTo(2)
		},
		"account-capillary": func(m *Model) {
			st := fixedAccounts()[2]
			m.screen = screenAccount
			m.acct = accountScreen{name: st.Name, st: &st, tokLoaded: true, tokens: []account.Token{{Ref: account.Ref{Kind: account.KindSession}, Kind: account.KindSession,
				Label: "session of 919999000001", Expires: st.Expires, Stored: true, Fingerprint: "Q2x9"}}, lastAuto: "renewed automatically at 14:56:52, saved to the keyring as loyalty-eu/session"}
			m.acct.syncRows() // the cursor on the session row, as the screen has it
		},
		"mfa-setup": func(m *Model) {
			st := fixedAccounts()[0]
			m.screen = screenAccount
			m.acct = accountScreen{name: st.Name, st: &st, tokens: fixedTokens(), tokLoaded: true, mfa: pbool(false)}
			d := &mfaDialog{st: st, phase: mfaShow, setup: &account.MFASetup{Account: st.Name, Secret: "JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP",
				URL: "otpauth://totp/chat.example.com:ann@example.com?secret=JBSWY3DPEHPK3PXPJBSWY3DPEHPK3PXP&issuer=chat.example.com"}}
			d.qr, d.qrErr = qr.Render(d.setup.URL)
			d.input = newCodeInput(m)
			d.input.Focus()
			m.pushDialog(d)
		},
		"challenge": func(m *Model) {
			st := fixedAccounts()[3]
			m.screen = screenAccount
			m.acct = accountScreen{name: st.Name, st: &st, tokLoaded: true}
			f := &flow{title: "Sign in · loyalty-us", label: "Signing in…", login: true, acct: st.Name}
			m.apply(m.flowResult(f, &account.Challenge{Account: st.Name, Service: account.Capillary, Step: "otp", Method: methodOTP, Methods: []string{methodOTP},
				CodeSent: true, SentTo: "email ann@example.com", Expires: goldenNow.Add(14*time.Minute + 59*time.Second), CanResend: true}, nil))
			m.apply(m.flowResult(f, &account.Challenge{Account: st.Name, Service: account.Capillary, Step: "otp", Method: methodOTP, Methods: []string{methodOTP},
				SentTo: "email ann@example.com", Expires: goldenNow.Add(14*time.Minute + 2*time.Second), CanResend: true, Invalid: true, Message: "Invalid OTP"}, nil))
		},
		"result-saved": func(m *Model) {
			st := fixedAccounts()[0]
			m.screen = screenAccount
			m.acct = accountScreen{name: st.Name, st: &st, tokens: fixedTokens(), tokLoaded: true, mfa: pbool(true)}
			m.acct.syncRows()
			m.acct.nav.moveTo(2)
			m.apply(m.showIssued("New slash-command token", "slash command /deploy (Deploy) in team ops", &account.Issued{Name: "work-chat/command/p1s8w5n6xjgtdmc4b7y3k9h2ra",
				Account: st.Name, Kind: account.KindCommand, Ref: "command:p1s8w5n6xjgtdmc4b7y3k9h2ra", Fingerprint: "x9k2", Stored: true, Store: "keyring",
				Value: "7wq1hz3y5bsm8kq4f6j2d9e0x9k2"}, nil))
		},
		"result-not-saved": func(m *Model) {
			st := fixedAccounts()[1]
			m.screen = screenAccount
			m.acct = accountScreen{name: st.Name, st: &st, tokLoaded: true}
			m.apply(m.showIssued("Created, but NOT saved", `personal access token "ci-bot"`, &account.Issued{Name: "ops-rocket/pat/ci-bot",
				Account: st.Name, Kind: account.KindPAT, Ref: "pat:ci-bot", Fingerprint: "Zq7T", Store: "keyring",
				Value: "pL9xR2vB7nK4mQ8wE1tY6uI3oZq7T"}, errors.New("keyring store: set ops-rocket/pat/ci-bot: timed out after 5s; unlock your keyring, or use --store file")))
		},
		"bulk-progress": func(m *Model) {
			st := fixedAccounts()[0]
			m.screen = screenAccount
			m.acct = accountScreen{name: st.Name, st: &st, tokens: fixedTokens(), tokLoaded: true, mfa: pbool(true)}
			m.acct.syncRows()
			m.acct.nav.moveTo(2)
			r := &bulkRun{acct: st.Name, service: st.Service, kind: account.KindCommand, team: "ops", section: "Slash commands · team ops", listed: 40}
			m.bulk = r
			r.dlg = newBulkDialog(m, r)
			m.pushDialog(r.dlg)
			r.prog = account.BulkProgress{Total: 40, Done: 21, Failed: 1, Unknown: 1,
				Last: account.BulkItem{Ref: "command:u7x3m9q2c5v8b1n4k6j0h2g5fd", Label: "/oncall (On call)", Team: "ops", Status: account.BulkOK}}
		},
		"bulk-report": func(m *Model) {
			st := fixedAccounts()[0]
			m.screen = screenAccount
			m.acct = accountScreen{name: st.Name, st: &st, tokens: fixedTokens(), tokLoaded: true, mfa: pbool(true)}
			m.acct.syncRows()
			m.acct.nav.moveTo(2)
			r := &bulkRun{acct: st.Name, service: st.Service, kind: account.KindCommand, team: "ops", section: "Slash commands · team ops", listed: 14}
			m.bulk = r
			r.dlg = newBulkDialog(m, r)
			m.pushDialog(r.dlg)
			item := func(id, label, status, fp, errText string) account.BulkItem {
				it := account.BulkItem{Ref: "command:" + id, Label: label, Team: "ops", Status: status, Error: errText, Fingerprint: fp}
				if status == account.BulkOK {
					it.Name, it.Stored = "work-chat/command/"+id, true
				}
				return it
			}
			items := []account.BulkItem{
				item("p1s8w5n6xjgtdmc4b7y3k9h2ra", "/deploy (Deploy)", account.BulkOK, "k2v9", ""),
				item("u7x3m9q2c5v8b1n4k6j0h2g5fd", "/oncall (On call)", account.BulkOK, "7hq1", ""),
				item("c4n8b2v6x0z3m7k1j5h9g3f7ds", "/status (Status)", account.BulkFailed, "",
					"mattermost: PUT /api/v4/commands/c4n8b2v6x0z3m7k1j5h9g3f7ds/regen_token: 403 Forbidden (api.command.regen.app_error): You do not have the appropriate permissions."),
				item("q9w8e7r6t5y4u3i2o1p0a9s8df", "/ship (Ship)", account.BulkFailed, "x9k2",
					"work-chat/command/q9w8e7r6t5y4u3i2o1p0a9s8df was issued but NOT saved: keyring store: set work-chat/command/q9w8e7r6t5y4u3i2o1p0a9s8df: timed out after 5s; unlock your keyring, or use --store file"),
				item("g5h6j7k8l9z1x2c3v4b5n6m7qw", "/page (Page)", account.BulkUnknown, "",
					"work-chat command:g5h6j7k8l9z1x2c3v4b5n6m7qw: the request was sent but no answer came back (mattermost: PUT /api/v4/commands/g5h6j7k8l9z1x2c3v4b5n6m7qw/regen_token: request failed: EOF); the server may have rotated the token."),
			}
			items[3].Name, items[3].Value = "work-chat/command/q9w8e7r6t5y4u3i2o1p0a9s8df", "7wq1hz3y5bsm8kq4f6j2d9e0x9k2"
			items[3].Issued = &account.Issued{Name: items[3].Name, Account: st.Name, Kind: account.KindCommand, Ref: items[3].Ref,
				Fingerprint: items[3].Fingerprint, Store: "keyring", Value: items[3].Value}
			for i := range 4 {
				items = append(items, item("b"+itoa(i)+"x3m9q2c5v8b1n4k6j0h2g5f", "/bench-"+itoa(i)+" (Bench "+itoa(i)+")", account.BulkOK, "a"+itoa(i)+"b2", ""))
			}
			for i := 4; i < 9; i++ {
				items = append(items, item("b"+itoa(i)+"x3m9q2c5v8b1n4k6j0h2g5f", "/bench-"+itoa(i)+" (Bench "+itoa(i)+")", account.BulkFailed, "", "not started: the run was stopped"))
			}
			for _, it := range items {
				r.register(m, it)
			}
			r.merge(&account.BulkReport{Account: st.Name, Items: items})
			r.stopped = true
			r.dlg.toReport()
		},
		"add-account": func(m *Model) {
			m.accounts.rows.setItems(fixedAccounts())
			m.accounts.loaded = true
			d := newAddAccountDialog(m)
			d.fields[fService].choice = 2
			d.focus = fName
			d.fields[fName].input.SetValue("loyalty apac")
			d.fields[fName].touched = true
			d.fields[fName].input.Focus()
			m.pushDialog(d)
		},
		"vault": func(m *Model) {
			m.screen = screenVault
			m.vault = vaultScreen{loaded: true}
			m.vault.rows.setItems([]keystore.Entry{
				{SecretMeta: config.SecretMeta{Name: "loyalty-eu/credential", Account: "loyalty-eu", Kind: account.KindCredential, ID: "key", Created: goldenNow.Add(-3 * time.Minute), Fingerprint: "k3Y9"}},
				{SecretMeta: config.SecretMeta{Name: "loyalty-eu/session", Account: "loyalty-eu", Kind: account.KindSession, Created: goldenNow.Add(-3 * time.Minute), Expires: ptime(goldenNow.Add(12*time.Minute + 34*time.Second)), Fingerprint: "Q2x9"}},
				{SecretMeta: config.SecretMeta{Name: "work-chat/command/p1s8w5n6xjgtdmc4b7y3k9h2ra", Account: "work-chat", Kind: account.KindCommand, ID: "p1s8w5n6xjgtdmc4b7y3k9h2ra", Label: "/deploy (Deploy)", Created: goldenNow.Add(-26 * time.Hour), Rotated: ptime(goldenNow.Add(-time.Hour)), Fingerprint: "a1b2"}},
				{SecretMeta: config.SecretMeta{Name: "work-chat/credential", Account: "work-chat", Kind: account.KindCredential, ID: "session", Created: goldenNow.Add(-2 * time.Hour), Fingerprint: "s3ss"}},
				{SecretMeta: config.SecretMeta{Name: "work-chat/user-token/gone", Account: "work-chat", Kind: account.KindUserToken, ID: "gone", Created: goldenNow.Add(-48 * time.Hour), Fingerprint: "0000"}, Missing: true},
			})
			m.vault.rows.moveTo(2)
		},
		"help": func(m *Model) {
			m.accounts.rows.setItems(fixedAccounts())
			m.accounts.loaded = true
			m.pushDialog(newHelpDialog(m))
		},
		"banner": func(m *Model) {
			m.accounts.rows.setItems(fixedAccounts())
			m.accounts.loaded = true
			m.showError("Sign-in to work-chat failed", errors.New("mattermost: POST /api/v4/users/login: 401 Unauthorized (api.user.login.invalid_credentials_email_username): Enter a valid email or username and/or password."))
		},
		// A server's error: keyturn's words, the server's id on a line apart.
		"banner-server": func(m *Model) {
			m.accounts.rows.setItems(fixedAccounts())
			m.accounts.loaded = true
			m.showError("Could not rotate /deploy (Deploy)", &client.APIError{Service: "mattermost", Status: 403, Code: "api.command.regen.app_error",
				Message: "You do not have the appropriate permissions."})
		},
	}
}

func TestGoldenScreens(t *testing.T) {
	for name, setup := range goldenScenes() {
		for _, size := range goldenSizes {
			for _, mode := range goldenModes {
				file := fmt.Sprintf("%s-%dx%d%s", name, size[0], size[1], mode.suffix)
				t.Run(file, func(t *testing.T) {
					profile := colorprofile.TrueColor
					if mode.profile == colorprofile.ASCII {
						profile = colorprofile.ASCII
					}
					m := fixedModel(t, size[0], size[1], profile)
					m.setDark(mode.dark)
					setup(m)
					goldenCheckAs(t, m, file, mode.profile)
					// Nothing is wider or taller than the terminal.
					lines := strings.Split(ansi.Strip(m.View().Content), "\n")
					if len(lines) > size[1] {
						t.Fatalf("%d lines for a %d-line terminal", len(lines), size[1])
					}
					for i, l := range lines {
						if w := ansi.StringWidth(l); w > size[0] {
							t.Fatalf("line %d is %d cells wide in a %d-cell terminal: %q", i, w, size[0], l)
						}
					}
				})
			}
		}
	}
}

func TestGoldenTooSmall(t *testing.T) {
	m := fixedModel(t, 60, 20, colorprofile.TrueColor)
	goldenCheck(t, m, "too-small-60x20")
}

func TestGoldenNoColor(t *testing.T) {
	m := fixedModel(t, 80, 24, colorprofile.ASCII)
	m.accounts.rows.setItems(fixedAccounts())
	m.accounts.loaded = true
	// Under NO_COLOR Bubble Tea strips the colours; states still read in
	// words and symbols.
	var b strings.Builder
	w := &colorprofile.Writer{Forward: &b, Profile: colorprofile.ASCII}
	if _, err := w.WriteString(m.View().Content); err != nil {
		t.Fatal(err)
	}
	s := b.String()
	for _, want := range []string{"● signed in · 2h ago", "● signed in (PAT) · 3d ago", "● session 12:34 left", "◐ waiting for a code", "○ not signed in"} {
		if !strings.Contains(ansi.Strip(s), want) {
			t.Fatalf("NO_COLOR view lacks %q:\n%s", want, ansi.Strip(s))
		}
	}
	if strings.Contains(s, "\x1b[3") || strings.Contains(s, "\x1b[4") || strings.Contains(s, "38;") {
		t.Fatalf("colour codes under NO_COLOR: %q", s)
	}
}
