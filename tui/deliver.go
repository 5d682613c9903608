package tui

import (
	"keyturn/account"
	"keyturn/textsafe"
)

// deliveryLines say what became of each consumer of a rotated token:
// delivered, or failed and why, with how to retry (the token stays saved).
func deliveryLines(m *Model, ds []account.Delivery, w int) []string {
	var out []string
	failed := false
	for _, d := range ds {
		if d.Status == account.Delivered {
			out = append(out, m.st.OK.Render(wrap("✓ Delivered to "+textsafe.Line(d.Consumer), w)))
			continue
		}
		failed = true
		out = append(out, m.st.Error.Render(wrap("✗ Delivery to "+textsafe.Line(d.Consumer)+" failed: "+textsafe.Line(d.Error), w)))
	}
	if failed {
		out = append(out, m.st.Subtle.Render(wrap("The token stays saved. Fix the consumer, then run 'keyturn deliver "+textsafe.Line(ds[0].Secret)+"'.", w)))
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
