package tui

import (
	"context"

	tea "charm.land/bubbletea/v2"

	"keyturn/account"
	"keyturn/textsafe"
)

// deliveryLines say what became of each consumer of a rotated token:
// delivered, or failed and why, with how to retry (the token stays saved):
// retry names the screen's way, and the command line works everywhere.
func deliveryLines(m *Model, ds []account.Delivery, w int, retry string) []string {
	var out []string
	var remedy *account.Remedy
	for _, d := range ds {
		if d.Status == account.Delivered {
			out = append(out, m.st.OK.Render(wrap("✓ Delivered to "+textsafe.Line(d.Consumer), w)))
			continue
		}
		if r, ok := d.Remedy(); ok {
			remedy = &r
		}
		out = append(out, m.st.Error.Render(wrap("✗ Delivery to "+textsafe.Line(d.Consumer)+" failed: "+textsafe.Line(d.Error), w)))
	}
	if remedy != nil {
		how := m.remedyText(*remedy)
		if retry != "" {
			how = "Fix the consumer, then " + retry + " (or run 'keyturn deliver " + textsafe.Line(ds[0].Secret) + "')"
		}
		out = append(out, m.st.Subtle.Render(wrap("The token stays saved. "+how+".", w)))
	}
	return out
}

// deliveryFailed counts the consumers that did not get the token.
func deliveryFailed(ds []account.Delivery) int {
	n := 0
	for _, d := range ds {
		if d.Status != account.Delivered {
			n++
		}
	}
	return n
}

// redeliver hands the dialog's token, as stored, to its consumers again.
func (d *resultDialog) redeliver(m *Model) tea.Cmd {
	iss := d.iss
	var cmd tea.Cmd
	d.delivering, cmd = startOp(m, "Delivering "+iss.Name+"…", func(ctx context.Context) ([]account.Delivery, error) {
		return m.mgr.Deliver(ctx, iss.Name)
	}, func(ds []account.Delivery, err error) []action {
		if err != nil {
			d.note = "Delivery: " + err.Error()
			return nil
		}
		iss.Deliveries = ds
		return nil
	})
	return cmd
}
