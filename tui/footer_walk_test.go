package tui

import (
	"slices"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"

	"keyturn/account"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/simnet"
)

// rowOf puts the account screen's cursor on the first row ok accepts.
func (h *harness) rowOf(what string, ok func(r acctRow) bool) {
	h.t.Helper()
	if !h.m.acct.nav.selectFirst(ok) {
		h.t.Fatalf("no %s row:\n%s", what, h.dump())
	}
}

func tokenRow(kind string) func(acctRow) bool {
	return func(r acctRow) bool { return r.kind == rowToken && r.tok.Kind == kind }
}

func isRow(k rowKind) func(acctRow) bool { return func(r acctRow) bool { return r.kind == k } }

// fingerprint is what a key can change: the screen, the requests started,
// the clipboard, a quit.
func (h *harness) fingerprint() string {
	return h.screen() + "\x00" + itoa(h.m.nextOp) + "\x00" + itoa(len(h.clip)) + "\x00" + itoa(h.quits)
}

// walkStates are the screens and dialogs, each as the steps that reach it.
var walkStates = []struct {
	name  string
	opts  harnessOpts
	reach func(h *harness)
}{
	{"accounts", harnessOpts{}, func(h *harness) {}},
	{"accounts, none yet", harnessOpts{noAccts: true}, func(h *harness) {}},
	{"accounts, filtering", harnessOpts{}, func(h *harness) { h.press("/") }},
	{"accounts, filtered", harnessOpts{}, func(h *harness) { h.press("/"); h.typeText("mm"); h.press("enter") }},
	{"account, not signed in", harnessOpts{}, func(h *harness) { h.selectAccount(mmAcct); h.press("enter", "esc") }},
	{"mattermost, MFA row", harnessOpts{}, func(h *harness) { h.signInMattermost(); h.rowOf("MFA", isRow(rowMFA)) }},
	{"mattermost, MFA replaced", harnessOpts{}, func(h *harness) {
		h.signInMattermost()
		h.press("m", "y", "esc", "y")
		h.rowOf("MFA", isRow(rowMFA))
	}},
	{"mattermost, slash command", harnessOpts{}, func(h *harness) {
		h.signInMattermost()
		h.rowOf("command", tokenRow(account.KindCommand))
	}},
	{"mattermost, webhook", harnessOpts{}, func(h *harness) {
		h.signInMattermost()
		h.rowOf("webhook", tokenRow(account.KindWebhook))
	}},
	{"mattermost, user token", harnessOpts{}, func(h *harness) {
		h.signInMattermost()
		h.press("n")
		h.typeText("walk")
		h.press("enter", "enter")
		h.rowOf("user token", tokenRow(account.KindUserToken))
	}},
	{"rocket.chat, MFA row", harnessOpts{}, func(h *harness) { h.signInRocketChat(); h.rowOf("MFA", isRow(rowMFA)) }},
	{"capillary, session", harnessOpts{}, func(h *harness) { h.signInCapillary(); h.rowOf("session", isRow(rowSession)) }},
	{"capillary, session revoked", harnessOpts{}, func(h *harness) {
		h.signInCapillary()
		h.rowOf("session", isRow(rowSession))
		h.press("x", "y")
		h.rowOf("session", isRow(rowSession))
	}},
	{"vault, empty", harnessOpts{}, func(h *harness) { h.press("v") }},
	{"vault", harnessOpts{}, func(h *harness) { h.signInMattermost(); h.press("esc", "v") }},
	{"help", harnessOpts{}, func(h *harness) { h.press("?") }},
	{"overview, nothing signed in", harnessOpts{}, func(h *harness) { h.press("i") }},
	{"overview", harnessOpts{}, func(h *harness) { h.signInMattermost(); h.press("esc", "i") }},
	{"history", harnessOpts{}, func(h *harness) { h.signInMattermost(); h.press("l") }},
	{"sign-in dialog", harnessOpts{}, func(h *harness) { h.selectAccount(mmAcct); h.press("s") }},
	{"confirm dialog", harnessOpts{}, func(h *harness) {
		h.signInMattermost()
		h.rowOf("command", tokenRow(account.KindCommand))
		h.press("r")
	}},
	{"MFA replace question", harnessOpts{}, func(h *harness) { h.signInMattermost(); h.press("m") }},
	{"MFA setup", harnessOpts{}, func(h *harness) { h.signInMattermost(); h.press("m", "y") }},
	{"MFA setup, URI shown", harnessOpts{}, func(h *harness) { h.signInMattermost(); h.press("m", "y", "u") }},
	{"MFA backup codes", harnessOpts{}, func(h *harness) {
		setup := bobMFASetup(h.t, h)
		h.typeText(simnet.TOTPCode(setup.Secret, h.sb.Env.Clock.Now()))
		h.press("enter")
	}},
	{"vault, value revealed", harnessOpts{}, func(h *harness) { h.signInMattermost(); h.press("esc", "v", "space") }},
	{"error banner", harnessOpts{}, func(h *harness) {
		h.sb.Env.Faults.Add(simnet.Rule{Path: "users/login", Fault: simnet.HTMLBody, Times: 1})
		h.selectAccount(mmAcct)
		h.press("enter")
		h.typeText(mattermostsim.AdminPassword)
		h.press("enter")
		if h.m.topDialog() != nil {
			h.press("esc")
		}
	}},
	{"result dialog", harnessOpts{}, func(h *harness) {
		h.signInMattermost()
		h.rowOf("command", tokenRow(account.KindCommand))
		h.press("r", "y")
	}},
}

// refusals are the status lines of a key that had nothing to act on.
var refusals = []string{"Nothing overdue", "move to one", "nothing to disable", "there is none", "is already active", "No account named"}

// TestEveryFooterKeyChangesSomething walks every screen and the dialogs on
// them, and presses each key the footer offers, each time from a fresh
// start: every one must change what is shown, start a request, copy, or
// quit. A hint that does nothing is a hint that lies.
func TestEveryFooterKeyChangesSomething(t *testing.T) {
	walkKeys(t, func(h *harness) []key.Binding { return h.m.shortHelp() })
}

// TestEveryHelpKeyChangesSomething does the same for the keys the help
// (?) lists for the screen under it; g and G are left out, since the
// cursor may already be where they go.
func TestEveryHelpKeyChangesSomething(t *testing.T) {
	walkKeys(t, func(h *harness) []key.Binding {
		if h.m.topDialog() != nil {
			return nil // a dialog's help is its footer
		}
		var out []key.Binding
		for _, b := range h.m.fullHelp()[0] {
			if !slices.Contains(b.Keys(), "g") && !slices.Contains(b.Keys(), "G") {
				out = append(out, b)
			}
		}
		return out
	})
}

func walkKeys(t *testing.T, offers func(h *harness) []key.Binding) {
	if testing.Short() {
		t.Skip("signs in many times")
	}
	for _, st := range walkStates {
		t.Run(st.name, func(t *testing.T) {
			h := newHarness(t, st.opts)
			st.reach(h)
			offered := offers(h)
			for i, b := range offered {
				if !b.Enabled() {
					continue
				}
				name := b.Help().Key + " " + b.Help().Desc
				t.Run(strings.ReplaceAll(name, "/", "∕"), func(t *testing.T) {
					h := h
					if i > 0 {
						h = newHarness(t, st.opts)
						st.reach(h)
					}
					before := h.fingerprint()
					h.press(b.Keys()[0])
					if h.fingerprint() == before {
						t.Fatalf("%s: %q is offered, and pressing %s changed nothing:\n%s", st.name, name, b.Keys()[0], h.dump())
					}
					for _, r := range refusals {
						if strings.Contains(h.m.status, r) {
							t.Fatalf("%s: %q is offered, and pressing %s only refuses: %q", st.name, name, b.Keys()[0], h.m.status)
						}
					}
				})
			}
		})
	}
}
