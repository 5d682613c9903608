package tui

import (
	"os"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
)

func TestMain(m *testing.M) {
	// Dates on screen are local times; pin the zone so goldens match.
	time.Local = time.UTC
	os.Exit(m.Run())
}

func TestAccountsListShowsServiceServerAndState(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.contains("keyturn", "Accounts", "store: memory",
		"MM", "RC", "CAP", mmAcct, rcAcct, capAcct,
		"admin", "alice", "919999000002",
		"○ not signed in", "3 accounts, 0 signed in")
	// The server column shows the host.
	h.contains(strings.TrimPrefix(h.sb.MattermostURL, "http://"))
	// The footer has the short help.
	h.contains("a add", "/ filter", "v vault", "? help", "q quit")
}

func TestAccountsFilter(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.press("/")
	h.typeText("rocket")
	h.contains("/ rocket", rcAcct)
	h.lacks("919999000002", " admin ")
	// q is typed into the filter, not quitting.
	h.typeText("q")
	h.contains("No account matches the filter")
	h.press("backspace", "enter")
	h.contains("/ rocket")
	h.press("esc")
	h.contains(mmAcct, rcAcct, capAcct)
	h.lacks("/ rocket")
}

func TestAccountsEmpty(t *testing.T) {
	h := newHarness(t, harnessOpts{noAccts: true})
	h.contains("No accounts yet.", "Press a to add")
}

func TestCapillaryCountdownIsLive(t *testing.T) {
	now := time.Now()
	clock := now
	h := newHarness(t, harnessOpts{now: func() time.Time { return clock }})
	h.signInCapillary()
	h.press("esc") // back to the list
	exp := h.m.accounts.rows.all()[2].Expires
	if exp == nil {
		t.Fatalf("no expiry for the Capillary session: %+v", h.m.accounts.rows.all()[2])
	}
	clock = exp.Add(-10*time.Minute - 5*time.Second)
	h.send(tickMsg{})
	h.contains("● session 10:05 left")
	clock = exp.Add(-90 * time.Second)
	h.send(tickMsg{})
	h.contains("● session 1:30 left")
	clock = exp.Add(time.Second)
	h.send(tickMsg{})
	h.contains("● session expired")
}

func TestRemoveAccountAsksFirst(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.selectAccount(rcAcct)
	h.press("d")
	h.says("Remove rc?", "deletes its sign-in credential", "stay in the store and keep working", "y Remove", "n Cancel")
	h.press("n")
	h.lacks("Remove rc?")
	h.contains(rcAcct)
	h.press("d", "y")
	h.contains("Removed rc", "2 accounts")
	h.lacks("RC   rc")
}

func TestAddAccountValidatesAsYouType(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.press("a")
	h.contains("Add account", "Service", "Mattermost", "Server URL", "Login")
	h.press("tab")
	h.typeText("team chat")
	h.contains(`✗ account name "team chat"`)
	h.press("backspace", "backspace", "backspace", "backspace", "backspace")
	h.typeText("-chat")
	h.lacks("✗ account name")
	h.press("tab")
	h.typeText("chat.example.com")
	h.contains("has no scheme")
	for range "chat.example.com" {
		h.press("backspace")
	}
	h.typeText("http://chat.example.com")
	h.contains("plain http")
	h.press("tab", "tab", "space") // allow plain http
	h.lacks("plain http to a host that is not this machine: use https")
	h.press("shift+tab") // back to the login
	h.typeText("alice")
	h.press("tab", "tab", "enter")
	h.lacks("Add account")
	h.contains("Added team-chat", "team-chat")
	if a, ok := h.m.accounts.selected(); !ok || a.Name != "team-chat" {
		t.Fatalf("the new account is not selected: %+v", a)
	}
}

func TestAddAccountCapillaryPresets(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.press("a", "right", "right")
	h.contains("Capillary", "Region", "apac", "eu", "other URL", "Brand", "MOBILE", "USERNAME", "Device ID")
	h.lacks("Server URL", "EXTERNALID", "Mobile ")
	h.press("tab")
	h.typeText("prod-cap")
	h.press("tab", "right", "right") // region eu
	h.contains("https://eu.api.capillarytech.com")
	h.press("tab")
	h.typeText("Acme")
	h.press("tab", "tab") // identifier type stays MOBILE
	h.typeText("91-99")
	h.contains("a mobile number has digits only")
	h.press("backspace", "backspace", "backspace")
	h.typeText("9999")
	h.lacks("a mobile number has digits only")
	// The region's "other URL" asks for a URL.
	h.press("shift+tab", "shift+tab", "shift+tab")
	for range 3 {
		h.press("right")
	}
	h.contains("Server URL")
	h.press("left")
	h.lacks("Server URL")
	h.contains("MFA step", "auto", "on", "off")
	h.press("tab", "tab", "tab", "tab", "tab", "tab", "enter")
	h.contains("Added prod-cap")
	st, err := h.mgr.Show(h.m.ctx, "prod-cap")
	if err != nil {
		t.Fatal(err)
	}
	if st.URL != "https://us.api.capillarytech.com" || st.Extra.Brand != "Acme" || st.Extra.Identifier != "919999" || st.Extra.IdentifierType != "MOBILE" {
		t.Fatalf("added %+v", st)
	}
}

func TestAddAccountDuplicateNameStaysOpen(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.press("a", "tab")
	h.typeText(mmAcct)
	h.press("tab")
	h.typeText("https://chat.example.com")
	h.press("tab")
	h.typeText("bob")
	h.press("tab", "tab", "enter")
	h.contains("Add account", `an account named "mm" exists already`)
	h.press("esc")
	h.lacks("Add account")
}

func TestHelpShowsTheKeyMap(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.press("?")
	h.contains("Keys", "add", "filter", "vault", "refresh", "quit")
	h.press("esc")
	h.lacks("Keys")
}

func TestBelowMinimumSizeSaysWhatItNeeds(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.send(tea.WindowSizeMsg{Width: 79, Height: 30})
	h.contains("keyturn needs a terminal of at least 80×24", "This one is 79×30")
	h.lacks("NAME")
	h.send(tea.WindowSizeMsg{Width: 100, Height: 23})
	h.contains("This one is 100×23")
	h.send(tea.WindowSizeMsg{Width: 80, Height: 24})
	h.lacks("needs a terminal")
	h.contains("NAME", mmAcct)
	// Every line fits the new width.
	for i, l := range strings.Split(h.screen(), "\n") {
		if w := len([]rune(l)); w > 80 {
			t.Fatalf("line %d is %d wide: %q", i, w, l)
		}
	}
}

func TestQuitKeys(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	_, cmd := h.m.Update(keyMsg("q"))
	if cmd == nil {
		t.Fatal("q did not quit")
	}
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("q did not quit")
	}
	_, cmd = h.m.Update(keyMsg("ctrl+c"))
	if _, ok := cmd().(tea.QuitMsg); !ok {
		t.Fatal("ctrl+c did not quit")
	}
}

// TestAccountsFilterKeepsTheSelectedAccount: a filter that keeps the
// selected account leaves the cursor on it, even when rows above it drop
// out; clearing the filter does too.
func TestAccountsFilterKeepsTheSelectedAccount(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.cursorTo(" " + rcAcct + " ")
	h.press("/")
	h.typeText("c") // rc and cap; not mm (no c in its name, service, server or user)
	h.lacks(" " + mmAcct + " ")
	if a, _ := h.m.accounts.selected(); a.Name != rcAcct {
		t.Fatalf("the filter moved the cursor to %q, want %q:\n%s", a.Name, rcAcct, h.dump())
	}
	h.press("esc")
	if a, _ := h.m.accounts.selected(); a.Name != rcAcct {
		t.Fatalf("clearing the filter moved the cursor to %q, want %q:\n%s", a.Name, rcAcct, h.dump())
	}
}

// A USERNAME identifier asks for the user's mobile or email too; the MFA
// step's mode is kept with the account.
func TestAddAccountCapillaryUsername(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.press("a", "right", "right", "tab")
	h.typeText("dave")
	h.press("tab", "right", "right") // region eu
	h.press("tab")
	h.typeText("DemoBrand")
	h.press("tab", "right", "right") // USERNAME
	h.contains("Mobile", "Email")
	h.press("tab")
	h.typeText("dave")
	h.press("tab", "tab", "tab", "tab", "right") // mobile, email, device left empty-ish; MFA on
	h.press("tab", "enter")
	h.says("mobile number or email address")
	h.press("shift+tab", "shift+tab", "shift+tab", "shift+tab")
	h.typeText("919999000004")
	h.press("tab", "tab", "tab", "tab", "enter")
	h.says("Added dave")
	c, err := h.cf.Load()
	if err != nil {
		t.Fatal(err)
	}
	a, ok := c.Account("dave")
	if !ok || a.IdentifierType != "USERNAME" || a.Mobile != "919999000004" || a.MFA != "on" {
		t.Fatalf("added %+v", a)
	}
}
