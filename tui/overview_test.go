package tui

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"keyturn/account"
)

func TestOverviewMarksOverdueAndRotatesAnAccountsOverdueTokens(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	ctx := context.Background()
	if _, err := h.mgr.SetPolicy(ctx, account.KindCommand, "30d", ""); err != nil {
		t.Fatal(err)
	}
	toks, err := h.mgr.Tokens(ctx, mmAcct, account.ListFilter{Kind: account.KindCommand})
	if err != nil {
		t.Fatal(err)
	}
	var old account.Token
	for _, tk := range toks {
		if strings.HasPrefix(tk.Label, "/oncall") {
			old = tk
		}
	}
	h.sb.Mattermost.Backdate(old.ID, 40*24*time.Hour)
	h.press("esc", "i")
	h.says("Overview", "ACCOUNT", "ROTATED", "/deploy", "/oncall", "✗ overdue", "due 10d ago", "1 token overdue or expired")
	// The accounts not signed in show why on a row of their own.
	h.says("! rc: not signed in", "! cap: not signed in")
	// R on another account's row: nothing overdue there.
	h.cursorTo("! rc")
	h.press("R")
	h.says("Nothing overdue or expired on rc")
	h.press("g")
	h.cursorTo("/deploy")
	h.press("R")
	h.says("Rotate 1 overdue token of mm?", old.Ref.String(), "(overdue)")
	before := len(h.sb.Env.Ledger.Entries())
	h.press("y")
	h.settle()
	h.says("Rotated · overdue tokens", "✓ 1 rotated", "/oncall")
	var rotated []string
	for _, e := range h.sb.Env.Ledger.Entries()[before:] {
		rotated = append(rotated, e.Kind+":"+e.ID)
	}
	if len(rotated) != 1 || rotated[0] != old.Ref.String() {
		t.Fatalf("the servers issued %v, want only %s", rotated, old.Ref)
	}
	h.press("enter")
	h.settle()
	h.says("0 tokens overdue or expired")
	h.lacks("✗ overdue")
	// Enter opens the account under the cursor.
	h.press("g")
	h.cursorTo("/deploy")
	h.press("enter")
	h.says("Accounts › mm")
}

func TestAccountHistoryShowsTheAuditLog(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.cursorTo("/deploy")
	h.press("r", "y")
	h.press("enter")
	h.press("l")
	h.says("History · mm", "WHEN", "ACTION", "rotate", "command:", "login", "ok")
	h.press("esc")
	h.lacks("History · mm")
	// An account with no history says so.
	h.press("esc")
	h.selectAccount(rcAcct)
	h.press("enter", "esc", "l")
	h.says("Nothing recorded for rc yet.")
}

func TestAuditLogThatCannotBeWrittenIsABannerWarning(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	// A directory where the log should be: every append fails.
	if err := os.Remove(h.mgr.LogPath()); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(h.mgr.LogPath(), 0o700); err != nil {
		t.Fatal(err)
	}
	h.cursorTo("/deploy")
	h.press("r", "y")
	h.says("New slash-command token", "Warning: done, but not recorded", "the audit log could not be written", "rotate on mm was done all the same")
	iss := h.m.topDialog().(*resultDialog).iss
	if v, err := h.mgr.Vault().Get(context.Background(), iss.Name); err != nil || v != iss.Value {
		t.Fatal("the rotated token is not stored")
	}
}

func TestAccountScreenMarksOverdueTokens(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	ctx := context.Background()
	if _, err := h.mgr.SetPolicy(ctx, account.KindWebhook, "30d", mmAcct); err != nil {
		t.Fatal(err)
	}
	for _, e := range h.sb.Env.Ledger.Entries() {
		if e.Kind == account.KindWebhook {
			h.sb.Mattermost.Backdate(e.ID, 45*24*time.Hour) // the first seeded webhook, "CI events"
			break
		}
	}
	h.signInMattermost()
	h.says("✗ overdue due 15d ago")
	for _, l := range strings.Split(h.screen(), "\n") {
		if strings.Contains(l, "overdue") && !strings.Contains(l, "CI events") {
			t.Errorf("marked overdue: %q", l)
		}
	}
}
