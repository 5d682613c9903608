package tui

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"keyturn/account"
	"keyturn/config"
)

// Delivery to consumers after a rotation, in the result dialog and the
// bulk report.
func TestRotationsReportEachConsumer(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	ctx := context.Background()
	var names []string
	for _, tk := range h.m.acct.tokens {
		if tk.Kind == account.KindCommand {
			iss, err := h.mgr.Fetch(ctx, "mm", tk.Ref)
			if err != nil {
				t.Fatal(err)
			}
			names = append(names, iss.Name)
		}
	}
	if len(names) < 2 {
		t.Fatalf("commands: %v", names)
	}
	out := filepath.Join(t.TempDir(), "tok")
	for _, c := range []config.Consumer{
		{Secret: names[0], File: out},
		{Secret: names[1], Command: "cat >/dev/null; echo 'app is down'; exit 5"},
	} {
		if _, err := h.mgr.AddConsumer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	h.press("ctrl+r") // reload: the tokens are now held
	h.settle()

	// One token: the result dialog says where it went.
	h.cursorTo("/deploy")
	h.press("r")
	h.press("y")
	h.settle()
	iss := h.m.topDialog().(*resultDialog).iss
	if iss.Name == names[0] {
		h.dialogSays("✓ Delivered to file " + out)
		if data, _ := os.ReadFile(out); string(data) != iss.Value {
			t.Fatal("the file does not hold the new token")
		}
	} else {
		h.dialogSays("✗ Delivery to command", "failed:", "exited with status 5: app is down", "The token stays saved.", "keyturn deliver "+iss.Name)
	}
	h.lacks(iss.Value)
	h.press("enter")

	// Every token: the report counts what was not delivered, the details
	// say why, and the token is saved.
	h.cursorTo("/deploy")
	h.press("R")
	h.press("y")
	h.settle()
	h.says("✗ 1 not delivered", "1 not delivered")
	d := h.bulkDialog()
	for i, it := range d.run.items {
		if it.Name != names[1] {
			continue
		}
		for d.rows.index() != i {
			h.press("down")
		}
		h.dialogSays("Rotated and saved as "+it.Name, "✗ Delivery to command", "exited with status 5: app is down", "The token stays saved.")
		v, err := h.mgr.Vault().Get(ctx, it.Name)
		if err != nil || v != h.sb.Mattermost.CommandToken(strings.TrimPrefix(it.Name, "mm/command/")) {
			t.Fatalf("the undelivered token must be saved and live (%v)", err)
		}
	}
}
