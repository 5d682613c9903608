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
	// names[0] is /deploy's secret: its consumer fails; names[1] has a file.
	var names []string
	for _, tk := range h.m.acct.tokens {
		if tk.Kind == account.KindCommand {
			iss, err := h.mgr.Fetch(ctx, "mm", tk.Ref)
			if err != nil {
				t.Fatal(err)
			}
			if strings.HasPrefix(tk.Label, "/deploy") {
				names = append([]string{iss.Name}, names...)
			} else {
				names = append(names, iss.Name)
			}
		}
	}
	if len(names) < 2 {
		t.Fatalf("commands: %v", names)
	}
	out := filepath.Join(t.TempDir(), "tok")
	failing := config.Consumer{Secret: names[0], Command: "cat >/dev/null; echo 'app is down'; exit 5"}
	for _, c := range []config.Consumer{failing, {Secret: names[1], File: out}} {
		if _, err := h.mgr.AddConsumer(ctx, c); err != nil {
			t.Fatal(err)
		}
	}
	h.press("ctrl+r") // reload: the tokens are now held
	h.settle()

	// One token: the result dialog says its consumer failed and why; once
	// the consumer is fixed, p delivers the saved token again.
	h.cursorTo("/deploy")
	h.press("r")
	h.press("y")
	h.settle()
	iss := h.m.topDialog().(*resultDialog).iss
	h.dialogSays("✓ Saved to", "✗ Delivery to command", "failed:", "exited with status 5: app is down",
		"The token stays saved. Fix the consumer, then press p to deliver again (or run 'keyturn deliver "+iss.Name+"').")
	h.says("p deliver again")
	fixed := filepath.Join(t.TempDir(), "fixed")
	if _, err := h.mgr.RemoveConsumers(ctx, names[0], failing); err != nil {
		t.Fatal(err)
	}
	if _, err := h.mgr.AddConsumer(ctx, config.Consumer{Secret: names[0], File: fixed}); err != nil {
		t.Fatal(err)
	}
	h.press("p")
	h.settle()
	h.dialogSays("✓ Delivered to file " + fixed)
	if data, _ := os.ReadFile(fixed); string(data) != iss.Value {
		t.Fatal("p did not deliver the saved token")
	}
	h.lacks(iss.Value, "p deliver again")
	h.press("enter")
	if _, err := h.mgr.RemoveConsumers(ctx, names[0], config.Consumer{}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.mgr.AddConsumer(ctx, failing); err != nil {
		t.Fatal(err)
	}

	// Every token: the report counts what was not delivered, the details
	// say why, and the token is saved.
	h.cursorTo("/deploy")
	h.press("R")
	h.press("y")
	h.settle()
	h.says("✗ 1 not delivered", "1 not delivered")
	d := h.bulkDialog()
	for i, it := range d.run.items {
		if it.Name != names[0] {
			if it.Name == names[1] {
				if data, _ := os.ReadFile(out); string(data) == "" || len(it.Deliveries) != 1 || it.Deliveries[0].Status != account.Delivered {
					t.Fatalf("the file consumer: %+v", it.Deliveries)
				}
			}
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
