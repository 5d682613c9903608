package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
)

// dialog is one entry of the dialog stack. The top dialog gets the keys
// and answers with actions (action.go): it closes or replaces itself, opens
// another dialog, reports an error or a status by returning them, and the
// model applies them.
type dialog interface {
	update(m *Model, msg tea.Msg) []action
	// view draws the dialog, frame included, in at most w×h cells.
	view(m *Model, w, h int) string
	// short is the footer's key list while the dialog is on top.
	short(k keyMap) []key.Binding
}

// textCapturer is a dialog whose focused input takes printable keys, so
// "?" is typed rather than opening help.
type textCapturer interface{ capturesText() bool }

func capturesText(d dialog) bool {
	t, ok := d.(textCapturer)
	return ok && t.capturesText()
}

// frame draws a dialog box: a title, the body, and a key hint line.
func frame(m *Model, title, body string, w int, errorStyle bool) string {
	st := m.st.Dialog
	if errorStyle {
		st = m.st.DialogError
	}
	inner := w - st.GetHorizontalFrameSize()
	t := m.st.DialogTitle.Render(title)
	if errorStyle {
		t = m.st.Error.Render(title)
	}
	lines := []string{t, ""}
	for _, l := range strings.Split(body, "\n") {
		lines = append(lines, truncate(l, inner))
	}
	return st.Width(w).Render(strings.Join(lines, "\n"))
}

// dialogWidth is a comfortable width for a dialog: want, within the screen.
func dialogWidth(want, avail int) int {
	return max(30, min(want, avail))
}

// spinnerLine is a busy line: spinner, label, and how to cancel.
func spinnerLine(m *Model, label string) string {
	return m.spin.View() + " " + label + m.st.Faint.Render("  (esc cancels)")
}

// ---- help ----

// helpDialog shows the full key map (bubbles/help).
type helpDialog struct {
	groups [][]key.Binding
}

func newHelpDialog(m *Model) *helpDialog {
	groups := m.fullHelp()
	if d := m.topDialog(); d != nil {
		groups = append([][]key.Binding{d.short(m.keys)}, groups[1:]...)
	}
	return &helpDialog{groups: groups}
}

func (h *helpDialog) update(m *Model, msg tea.Msg) []action {
	if k, ok := msg.(tea.KeyPressMsg); ok {
		if key.Matches(k, m.keys.Close) || key.Matches(k, m.keys.Help) || key.Matches(k, m.keys.Quit) {
			return acts(closeDlg(h))
		}
	}
	return nil
}

func (h *helpDialog) view(m *Model, w, hgt int) string {
	hm := m.help
	hm.ShowAll = true
	hm.SetWidth(w - 4)
	keys := hm.FullHelpView(h.groups)
	dw := dialogWidth(max(lipgloss.Width(keys), 56)+4, w)
	body := keys + "\n\n" + m.st.Faint.Render(wrap("Esc cancels any request in flight. Secrets stay masked until you press "+m.keys.Reveal.Help().Key+"; c copies through the terminal (OSC 52).", dw-4))
	return frame(m, "Keys", body, dw, false)
}

func (h *helpDialog) short(k keyMap) []key.Binding { return []key.Binding{k.Close} }

// ---- confirm ----

// confirmDialog asks before something that cannot be undone, and says what
// it breaks.
type confirmDialog struct {
	title  string
	lines  []string
	yes    string
	danger bool
	onYes  func() []action
	onNo   func() []action
	focus  bool // true: the yes button has the focus
	quit   bool // the quit confirmation (only one at a time)
}

func newConfirmDialog(title string, lines []string, yes string, danger bool, onYes func() []action) *confirmDialog {
	return &confirmDialog{title: title, lines: lines, yes: yes, danger: danger, onYes: onYes}
}

func (c *confirmDialog) update(m *Model, msg tea.Msg) []action {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	switch {
	case key.Matches(k, m.keys.Yes):
		return c.answer(true)
	case key.Matches(k, m.keys.No), key.Matches(k, m.keys.Cancel), key.Matches(k, m.keys.Quit):
		return c.answer(false)
	case key.Matches(k, m.keys.Left), key.Matches(k, m.keys.Right), key.Matches(k, m.keys.NextField), key.Matches(k, m.keys.PrevField):
		c.focus = !c.focus
	case key.Matches(k, m.keys.Submit):
		return c.answer(c.focus)
	}
	return nil
}

// answer closes the dialog and runs the chosen callback.
func (c *confirmDialog) answer(yes bool) []action {
	switch {
	case yes:
		return append(acts(closeDlg(c)), c.onYes()...)
	case c.onNo != nil:
		return append(acts(closeDlg(c)), c.onNo()...)
	}
	return acts(closeDlg(c))
}

func (c *confirmDialog) view(m *Model, w, h int) string {
	dw := dialogWidth(64, w)
	inner := dw - 4
	var b []string
	for _, l := range c.lines {
		b = append(b, wrap(l, inner))
	}
	yes, no := m.st.Button, m.st.ButtonOn
	if c.focus {
		yes, no = m.st.ButtonOn, m.st.Button
	}
	buttons := lipgloss.JoinHorizontal(lipgloss.Top, yes.Render("y "+c.yes), "  ", no.Render("n Cancel"))
	b = append(b, "", buttons)
	return frame(m, c.title, strings.Join(b, "\n"), dw, c.danger)
}

func (c *confirmDialog) short(k keyMap) []key.Binding {
	return []key.Binding{k.Yes, k.No, k.Cancel}
}

// ---- progress ----

// progressDialog shows a request in flight; esc cancels it.
type progressDialog struct {
	title string
	flow  *flow
}

func (p *progressDialog) update(m *Model, msg tea.Msg) []action {
	if k, ok := msg.(tea.KeyPressMsg); ok && key.Matches(k, m.keys.Cancel) {
		return append(acts(closeDlg(p)), m.cancelFlow(p.flow)...)
	}
	return nil
}

func (p *progressDialog) view(m *Model, w, h int) string {
	return frame(m, p.title, spinnerLine(m, p.flow.label), dialogWidth(60, w), false)
}

func (p *progressDialog) short(k keyMap) []key.Binding { return []key.Binding{k.Cancel} }

// runAction shows a progress dialog for a flow and starts it.
func (m *Model) runAction(title string, f *flow) []action {
	p := &progressDialog{title: title, flow: f}
	f.owner, f.replaceOwner = p, true
	return acts(openDlg(p), runCmd(m.runFlow(f, nil, false)))
}
