package tui

import (
	"strings"

	"keyturn/textsafe"
)

// showWarnings puts what the operations warned of (an audit log that could
// not be written) in the banner: nothing failed, but the person should
// know. An error already in the banner stays; the warning waits for the
// next operation.
func (m *Model) showWarnings() {
	if m.banner != nil {
		return
	}
	ws := m.mgr.TakeWarnings()
	if len(ws) == 0 {
		return
	}
	m.banner = &banner{title: "Warning: done, but not recorded", msg: textsafe.Text(strings.Join(ws, "\n"))}
}
