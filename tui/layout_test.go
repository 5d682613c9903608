package tui

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
	"keyturn/config"
	"keyturn/sandbox/simnet"
)

// At 80×24 the demo footer wraps; every code in it must still be on
// screen, or a newcomer cannot finish the Capillary sign-in.
func TestDemoFooterKeepsEveryCodeAt80x24(t *testing.T) {
	h := newHarness(t, harnessOpts{w: 80, h: 24})
	demo := "demo passwords: mattermost Admin-Passw0rd! · rocketchat alice-rocket-pw-1 · capillary: OTP only\n" +
		"codes: mattermost admin TOTP 111111 · rocketchat alice TOTP 222222 · rocketchat alice email code 333333 · " +
		"Capillary MFA OTP for MOBILE 919999000002 (DemoBrand) 444444 · Capillary OTP for MOBILE 919999000002 (DemoBrand) 555555"
	h.m.opts.DemoCodes = func() string { return demo }
	h.m.demo = demo
	h.says("111111", "222222", "333333", "444444", "555555")
	h.contains("NAME", mmAcct)
	if n := len(strings.Split(h.screen(), "\n")); n != 24 {
		t.Fatalf("the screen is %d lines", n)
	}
}

// A revealed multi-line value under an entry must not push the cursor off
// the screen.
func TestVaultKeepsTheCursorInViewBelowARevealedValue(t *testing.T) {
	h := newHarness(t, harnessOpts{w: 80, h: 24})
	ctx := context.Background()
	codes := make([]string, 12)
	for i := range codes {
		codes[i] = fmt.Sprintf("bk%06d", i)
	}
	put := func(name, kind, value string) {
		t.Helper()
		err := h.mgr.Vault().Put(ctx, config.SecretMeta{Name: name, Account: rcAcct, Kind: kind, ID: name, Created: time.Now(), Fingerprint: value[len(value)-4:]}, value)
		if err != nil {
			t.Fatal(err)
		}
	}
	put("rc/backup-codes/totp", account.KindBackup, strings.Join(codes, "\n"))
	for i := range 6 {
		put(fmt.Sprintf("rc/pat/p%d", i), account.KindPAT, fmt.Sprintf("token-value-%04d", i))
	}
	h.press("v")
	h.press("space") // the backup codes, first in the list
	h.contains("bk000000", "bk000011")
	for range 6 {
		h.press("down")
		name := h.selectedVaultName()
		found := false
		for _, l := range strings.Split(h.screen(), "\n") {
			if strings.HasPrefix(l, "› ") && strings.Contains(l, name) {
				found = true
			}
		}
		if !found {
			t.Fatalf("the cursor's entry %s is off screen:\n%s", name, h.dump())
		}
	}
}

// A Rocket.Chat MFA setup's last step tells in full what the backup codes
// are and how to save them: nothing is cut off.
func TestMFABackupCodesTextIsNotCutOff(t *testing.T) {
	for _, size := range [][2]int{{80, 24}, {120, 40}} {
		t.Run(fmt.Sprintf("%dx%d", size[0], size[1]), func(t *testing.T) {
			h := newHarness(t, harnessOpts{w: size[0], h: size[1]})
			h.signInRocketChat()
			h.press("M")
			h.typeText(simnet.TOTPCode("KEYTURNROCKETALICETOTPSECRET2345", h.sb.Env.Clock.Now().Add(30*time.Second)))
			h.press("enter")
			h.says("not active")
			h.press("m")
			if strings.Contains(h.flat(), "asks for") {
				h.typeText(h.code("rocketchat alice email"))
				h.press("enter")
			}
			setup := h.mfaSetup()
			h.typeText(simnet.TOTPCode(setup.Secret, h.sb.Env.Clock.Now()))
			h.press("enter")
			h.says("Backup codes — shown only once; each works one time if you lose the app:",
				"Not saved: s saves them to the memory store (gone when keyturn exits).")
			for _, l := range strings.Split(h.screen(), "\n") {
				if strings.Contains(l, "│") && strings.Contains(l, "…") {
					t.Fatalf("a dialog line is cut off: %q\n%s", l, h.dump())
				}
			}
		})
	}
}

// The Rocket.Chat token form's bypass hint is whole.
func TestCreatePATBypassHintIsWhole(t *testing.T) {
	h := newHarness(t, harnessOpts{w: 80, h: 24})
	h.signInRocketChat()
	h.press("n")
	h.says("bypass two-factor", "(the token then works without 2FA codes)")
}

// The result dialog's line naming the token, its ref and its account wraps
// instead of losing the account's name (the demo's names are long).
func TestResultDialogNamesTheAccountInFull(t *testing.T) {
	h := newHarness(t, harnessOpts{w: 80, h: 24})
	iss := &account.Issued{Name: "demo-mattermost/command/j5rrya6z8dbdngcynwa1jdiewy", Account: "demo-mattermost", Kind: account.KindCommand,
		Ref: "command:j5rrya6z8dbdngcynwa1jdiewy", Fingerprint: "8tbo", Stored: true, Store: "memory", Value: "secretvalue0123456789abcd8tbo"}
	h.run(h.m.apply(h.m.showIssued("New slash-command token", "slash command /oncall (On call) in team ops", iss, nil)))
	h.settle()
	h.says("slash-command token · command:j5rrya6z8dbdngcynwa1jdiewy · account demo-mattermost")
}

// Below the minimum size only the size notice is drawn, so keys must not
// act on the dialog under it; q quits as the notice says.
func TestTooSmallKeysDoNotReachAHiddenDialog(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.cursorTo("/deploy")
	h.press("r") // asks to rotate
	if _, ok := h.m.topDialog().(*confirmDialog); !ok {
		t.Fatalf("no confirmation:\n%s", h.dump())
	}
	before := len(h.ledgerOf("command"))
	h.send(tea.WindowSizeMsg{Width: 60, Height: 20})
	h.contains("keyturn needs a terminal of at least 80×24", "q quits")
	h.press("y")
	if got := len(h.ledgerOf("command")); got != before {
		t.Fatal("y regenerated a token behind the size notice")
	}
	h.send(tea.WindowSizeMsg{Width: 120, Height: 40})
	h.says("Rotate slash-command token?")
	h.send(tea.WindowSizeMsg{Width: 60, Height: 20})
	_, cmd := h.m.Update(keyMsg("q"))
	if cmd == nil {
		t.Fatal("q did not quit below the minimum size with a dialog open")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("q did not quit below the minimum size with a dialog open")
	}
}

// The account list's columns are as wide as what they hold: a long server
// address is shown whole while the terminal has room, and cut (never the
// state) when it has not.
func TestAccountListFitsColumnsToTheirContent(t *testing.T) {
	const addr = "mattermost.platform-engineering.example.com"
	for _, size := range [][2]int{{120, 40}, {80, 24}} {
		h := newHarness(t, harnessOpts{w: size[0], h: size[1]})
		if _, err := h.mgr.Add(context.Background(), config.Account{Name: "long", Service: account.Mattermost, URL: "https://" + addr, User: "ann"}); err != nil {
			t.Fatal(err)
		}
		h.run(h.m.loadAccounts())
		h.settle()
		h.contains("long", "ann", "○ not signed in")
		var row string
		for _, l := range strings.Split(h.screen(), "\n") {
			if strings.Contains(l, " long ") {
				row = l
			}
			if w := ansi.StringWidth(l); w > size[0] {
				t.Errorf("%d×%d: a line is %d cells wide: %q", size[0], size[1], w, l)
			}
		}
		switch {
		case size[0] == 120 && !strings.Contains(row, addr):
			t.Errorf("120 columns: the address is not whole: %q", row)
		case size[0] == 80 && (strings.Contains(row, addr) || !strings.Contains(row, "mattermost.platform-engineering.")):
			t.Errorf("80 columns: want the address cut after its start: %q", row)
		}
	}
}

func TestLayoutListGivesWayServerFirst(t *testing.T) {
	const name, server, user, state = 12, 40, 15, 20
	fixed := 2 + colBadge
	for _, c := range []struct {
		w    int
		want listLayout
	}{
		{w: fixed + name + server + user + state + 8, want: listLayout{name, server, user, state, 2}},
		{w: fixed + name + server + user + state + 7, want: listLayout{name, server, user, state, 1}},
		{w: fixed + name + server + user + state + 4 - 10, want: listLayout{name, server - 10, user, state, 1}},
		{w: fixed + name + 16 + user + state + 4 - 3, want: listLayout{name, 16, user - 3, state, 1}},
		{w: fixed + name + 16 + 10 + state + 4 - 1, want: listLayout{name - 1, 16, 10, state, 1}},
		{w: 20, want: listLayout{10, 16, 10, state, 1}},
	} {
		if got := layoutList(c.w, name, server, user, state); got != c.want {
			t.Errorf("layoutList(%d) = %+v, want %+v", c.w, got, c.want)
		}
	}
	if got := layoutList(200, 0, 0, 0, 0); got != (listLayout{4, 6, 4, 5, 2}) {
		t.Errorf("with nothing in the columns, want the headings' widths; got %+v", got)
	}
}

// The mask shows the tail that keystore.Fingerprint allows, nothing of a
// short secret and nothing of a backup code.
func TestMaskRevealsNothingOfShortSecrets(t *testing.T) {
	codes := "bk123456\nbk234567\nbk345678"
	for _, tc := range []struct{ value, hidden, shown string }{
		{"abcd1234", "1234", ""},
		{"pw-short-123", "-123", ""},
		{codes, "5678", ""},
		{"mm-token-aaaaaaaaaaaaaaaaWXYZ", "aaaa", "WXYZ"},
	} {
		got := mask(tc.value)
		if strings.Contains(got, tc.hidden) || (tc.shown != "" && !strings.HasSuffix(got, tc.shown)) {
			t.Errorf("mask(%d chars) = %q: hides %q and shows %q?", len(tc.value), got, tc.hidden, tc.shown)
		}
		if tc.shown == "" && strings.Trim(got, "•") != "" {
			t.Errorf("mask(%d chars) = %q shows characters of a short secret", len(tc.value), got)
		}
	}
}
