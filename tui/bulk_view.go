package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/progress"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
)

// The bulk rotation dialog: the progress view while the run goes, then the
// report (a list of every token with what became of it, and the details of
// the selected one). The run itself is in bulk_run.go.

type bulkDialog struct {
	run      *bulkRun
	phase    bulkPhase
	bar      progress.Model
	rows     list[account.BulkItem] // the report's tokens: run.items
	revealed bool                   // the selected NOT saved token is shown
	leaving  bool                   // closing with NOT saved tokens: asking first
	note     string
}

func newBulkDialog(m *Model, r *bulkRun) *bulkDialog {
	d := &bulkDialog{run: r}
	d.restyle(m)
	return d
}

func (d *bulkDialog) restyle(m *Model) {
	d.bar = progress.New(progress.WithFillCharacters('█', '░'), progress.WithColors(m.st.BarFull))
	d.bar.EmptyColor = m.st.BarEmpty
	d.bar.PercentageStyle = m.st.Subtle
}

func (d *bulkDialog) toReport() {
	d.phase = bulkDone
	d.revealed, d.leaving, d.note = false, false, ""
	// run.items is replaced only by an attempt's report, which ends here.
	d.rows.setItems(d.run.items)
	d.rows.moveTo(0)
	// Start on the first token that needs the person.
	if d.rows.selectFirst(func(it account.BulkItem) bool { return it.Value != "" }) {
		return
	}
	d.rows.selectFirst(func(it account.BulkItem) bool {
		return (it.Status == account.BulkFailed || it.Status == account.BulkUnknown) && !notStarted(it)
	})
}

// notStarted reports whether a token was left alone by a stopped run.
func notStarted(it account.BulkItem) bool {
	return it.Status == account.BulkFailed && it.Value == "" &&
		(strings.HasPrefix(it.Error, "not started") || strings.HasPrefix(it.Error, "stopped before"))
}

// noteFor says something about a token, if it is still the selected one.
func (d *bulkDialog) noteFor(ref, note string) {
	if it, ok := d.selected(); ok && it.Ref == ref {
		d.note = note
	}
}

// savingSelected reports whether the selected token is being saved again.
func (d *bulkDialog) savingSelected(m *Model) bool {
	it, ok := d.selected()
	return ok && m.running(d.run.saving[it.Ref])
}

func (d *bulkDialog) selected() (account.BulkItem, bool) { return d.rows.selected() }

// resumable reports whether R in the report finishes a stopped run.
func (d *bulkDialog) resumable() bool {
	if !d.run.stopped {
		return false
	}
	for _, it := range d.run.items {
		if notStarted(it) {
			return true
		}
	}
	return false
}

func (d *bulkDialog) update(m *Model, msg tea.Msg) []action {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	r := d.run
	if d.phase == bulkRunning {
		if key.Matches(k, m.keys.Stop) {
			return r.stop(m)
		}
		return nil
	}
	if d.leaving {
		switch {
		case key.Matches(k, m.keys.Yes):
			n := r.discard(m)
			m.bulk = nil
			return acts(closeDlg(d), status(plural(n, "token was", "tokens were")+" discarded: never saved"))
		case key.Matches(k, m.keys.No), key.Matches(k, m.keys.Cancel):
			d.leaving = false
		}
		return nil
	}
	switch {
	case d.rows.navigate(k, listKeys{up: m.keys.Up, down: m.keys.Down, top: m.keys.Top, bottom: m.keys.Bottom}):
		d.revealed, d.note = false, ""
	case key.Matches(k, m.keys.Reveal):
		if it, ok := d.selected(); ok && it.Value != "" {
			d.revealed = !d.revealed
		}
	case key.Matches(k, m.keys.Copy):
		if it, ok := d.selected(); ok && it.Value != "" {
			d.note = "Copied to the clipboard (OSC 52). Your terminal must allow it."
			return acts(runCmd(tea.SetClipboard(it.Value)))
		}
	case key.Matches(k, m.keys.Retry):
		if it, ok := d.selected(); ok && it.Value != "" {
			d.note = ""
			return acts(runCmd(r.saveAgain(m, it)))
		}
	case key.Matches(k, m.keys.RotateAll) && d.resumable():
		r.resume = true
		return acts(runCmd(r.attempt(m)))
	case key.Matches(k, m.keys.Close):
		if r.savingAny(m) {
			// The report waits for a save in flight; esc stops it.
			if key.Matches(k, m.keys.Cancel) {
				r.stopSaving(m)
				d.note = "Stopping the save…"
			}
			return nil
		}
		if len(r.unsaved) > 0 {
			d.leaving = true
			return nil
		}
		m.bulk = nil
		return acts(closeDlg(d))
	}
	return nil
}

func (d *bulkDialog) view(m *Model, w, h int) string {
	if d.phase == bulkRunning {
		return d.viewRunning(m, w)
	}
	return d.viewReport(m, w, h)
}

func (d *bulkDialog) viewRunning(m *Model, w int) string {
	r := d.run
	dw := dialogWidth(72, w)
	inner := dw - 4
	p := r.prog
	total := p.Total
	if total == 0 {
		total = r.listed
	}
	// A resumed attempt skips the tokens an earlier one settled.
	settled := min(total, p.Skipped+p.Done+p.Failed+p.Unknown)
	var b []string
	switch {
	case r.resume && r.ans != nil:
		b = append(b, wrap("Rotating the "+r.what(total)+" again with your answer. Tokens already done are skipped.", inner))
	case r.resume:
		b = append(b, wrap("Resuming the rotation of the "+r.what(total)+". Tokens already done are skipped; one sent with no answer is reported, not sent again.", inner))
	default:
		b = append(b, wrap("Rotating "+r.what(total)+", "+itoa(bulkParallel)+" at a time.", inner))
	}
	b = append(b, m.st.Subtle.Render(wrap("Each new token is saved the moment it arrives.", inner)), "")
	pct := 0.0
	if total > 0 {
		pct = float64(settled) / float64(total)
	}
	bar := d.bar
	bar.SetWidth(inner)
	b = append(b, bar.ViewAs(pct), "")
	counts := m.st.OK.Render("✓ "+itoa(p.Done)+" done") + "   " +
		m.st.Error.Render("✗ "+itoa(p.Failed)+" failed") + "   " +
		m.st.Warn.Render("? "+itoa(p.Unknown)+" unknown") + "   " +
		m.st.Subtle.Render(itoa(total-settled)+" remaining")
	b = append(b, counts)
	if p.Skipped > 0 {
		// On the same line when it fits (the count is the same all attempt long).
		before := m.st.Subtle.Render("· " + itoa(p.Skipped) + " settled before")
		if lipgloss.Width(counts)+3+lipgloss.Width(before) <= inner {
			b[len(b)-1] += "   " + before
		} else {
			b = append(b, before)
		}
	}
	switch {
	case p.Last.Ref != "":
		b = append(b, m.st.Faint.Render(truncate("Last: "+itemLabel(p.Last)+" · "+outcomeWord(p.Last), inner)))
	case p.Total > 0:
		b = append(b, m.st.Faint.Render("Waiting for the first answers…"))
	default:
		b = append(b, m.st.Faint.Render("Listing the tokens…"))
	}
	b = append(b, "")
	if r.stopping {
		b = append(b, m.spin.View()+" "+wrap("Stopping: nothing more is sent; waiting for the requests in flight…", inner-2))
	} else {
		b = append(b, m.spin.View()+" Rotating…"+m.st.Faint.Render("  (esc stops: nothing more is sent)"))
	}
	return frame(m, "Rotate all · "+r.section, strings.Join(b, "\n"), dw, false)
}

func itemLabel(it account.BulkItem) string {
	if it.Label != "" {
		return it.Label
	}
	return it.Ref
}

// outcomeWord is an item's outcome in a word or two.
func outcomeWord(it account.BulkItem) string {
	switch {
	case it.Value != "", it.NotSaved:
		return "NOT saved"
	case it.Status == account.BulkOK:
		return "rotated"
	case it.Status == account.BulkSkipped:
		return "already done"
	case it.Status == account.BulkUnknown:
		return "unknown"
	case notStarted(it):
		return "not started"
	}
	return "failed"
}

// bulkCounts are the report's totals by what the person must do.
type bulkCounts struct{ ok, notSaved, failed, unknown, notStarted, skipped, undelivered int }

func countItems(items []account.BulkItem) bulkCounts {
	var c bulkCounts
	for _, it := range items {
		if deliveryFailed(it.Deliveries) > 0 {
			c.undelivered++
		}
		switch outcomeWord(it) {
		case "NOT saved":
			c.notSaved++
		case "rotated":
			c.ok++
		case "already done":
			c.skipped++
		case "unknown":
			c.unknown++
		case "not started":
			c.notStarted++
		default:
			c.failed++
		}
	}
	return c
}

func (d *bulkDialog) viewReport(m *Model, w, h int) string {
	r := d.run
	dw := dialogWidth(96, w)
	inner := dw - 4
	c := countItems(r.items)
	var head []string
	parts := []string{m.st.OK.Render("✓ " + itoa(c.ok) + " rotated")}
	if c.notSaved > 0 {
		parts = append(parts, m.st.Error.Render("✗ "+itoa(c.notSaved)+" NOT saved"))
	}
	if c.failed > 0 {
		parts = append(parts, m.st.Error.Render("✗ "+itoa(c.failed)+" failed"))
	}
	if c.unknown > 0 {
		parts = append(parts, m.st.Warn.Render("? "+itoa(c.unknown)+" unknown"))
	}
	if c.notStarted > 0 {
		parts = append(parts, m.st.Subtle.Render("– "+itoa(c.notStarted)+" not started"))
	}
	if c.skipped > 0 {
		parts = append(parts, m.st.Subtle.Render("· "+itoa(c.skipped)+" already done"))
	}
	if c.undelivered > 0 {
		parts = append(parts, m.st.Error.Render("✗ "+itoa(c.undelivered)+" not delivered"))
	}
	head = append(head, strings.Join(parts, "  "))
	if r.stopped {
		msg := "You stopped the run: nothing more was sent."
		if d.resumable() {
			msg = "Stopped: nothing more was sent. R resumes the run, skipping those done."
		}
		head = append(head, m.st.Subtle.Render(wrap(msg, inner)))
	}
	if r.runErr != nil {
		head = append(head, m.st.Warn.Render(wrap("The run ended with an error: "+r.runErr.Error(), inner)))
	}
	if n := len(r.unsaved); n > 0 {
		head = append(head, m.st.ErrorBG.Render("✗ "+plural(n, "token", "tokens")+" NOT saved")+" "+
			m.st.Error.Render(truncate("only in this window: s saves it again, c copies it", inner-lipgloss.Width("✗ "+plural(n, "token", "tokens")+" NOT saved")-3)))
	}
	if d.note != "" {
		head = append(head, m.st.Accent.Render(wrap(d.note, inner)))
	}
	if d.leaving {
		head = append(head, m.st.Error.Render(wrap(plural(len(r.unsaved), "token is", "tokens are")+" NOT saved anywhere. Closing loses them for good. Close anyway? y/n", inner)))
	}
	headText := strings.Join(head, "\n")
	// The frame takes 4 lines (borders, title, gap) and the gaps around
	// the list 2; the details get up to 8 lines and the list the rest.
	room := h - 4 - lipgloss.Height(headText) - 2
	detail := d.detail(m, inner, max(2, min(8, room-5)))
	list := d.list(m, inner, max(3, room-len(detail)))
	body := headText + "\n\n" + strings.Join(list, "\n") + "\n\n" + strings.Join(detail, "\n")
	title := "Rotated · " + r.section
	if r.stopped {
		title = "Stopped · " + r.section
	}
	return frame(m, title, body, dw, len(r.unsaved) > 0)
}

// list is the window of report lines around the cursor.
func (d *bulkDialog) list(m *Model, w, h int) []string {
	n := d.rows.len()
	if n == 0 {
		return []string{m.st.Faint.Render("The section has no tokens now.")}
	}
	rows := h
	more := n > h
	if more {
		rows = h - 1
	}
	lw := 30
	if w < 90 {
		lw = 24
	}
	out := d.rows.render(rows, nil, func(it account.BulkItem, sel bool) []string {
		var mark, outcome string
		switch word := outcomeWord(it); word {
		case "NOT saved":
			mark = m.st.Error.Render("✗")
			outcome = m.st.Error.Render("NOT saved") + m.st.Subtle.Render(" · issued …"+it.Fingerprint+", only in this window")
		case "rotated":
			mark = m.st.OK.Render("✓")
			outcome = m.st.OK.Render("rotated") + m.st.Subtle.Render(" · saved …"+it.Fingerprint)
			if n := deliveryFailed(it.Deliveries); n > 0 {
				outcome += m.st.Error.Render(" · " + itoa(n) + " not delivered")
			} else if len(it.Deliveries) > 0 {
				outcome += m.st.Subtle.Render(" · delivered")
			}
		case "already done":
			mark = m.st.Faint.Render("·")
			outcome = m.st.Subtle.Render("already done")
			if it.Fingerprint != "" {
				outcome += m.st.Subtle.Render(" · saved …" + it.Fingerprint)
			}
		case "unknown":
			mark = m.st.Warn.Render("?")
			outcome = m.st.Warn.Render("unknown") + m.st.Subtle.Render(" · sent, no answer")
		case "not started":
			mark = m.st.Faint.Render("–")
			outcome = m.st.Subtle.Render("not started")
		default:
			mark = m.st.Error.Render("✗")
			outcome = m.st.Error.Render("failed") + m.st.Subtle.Render(" · "+firstLine(it.Error))
		}
		label := pad(truncate(itemLabel(it), lw), lw)
		line := mark + " " + label + " " + outcome
		if sel {
			return []string{m.st.Cursor.Render("›") + m.st.Selected.Render(pad(" "+ansi.Strip(line), w-1))}
		}
		return []string{"  " + truncate(line, w-2)}
	})
	if more {
		start, end := d.rows.window(rows, nil)
		out = append(out, m.st.Faint.Render("   "+itoa(start+1)+"–"+itoa(end)+" of "+itoa(n)+" · ↑/↓ scroll"))
	}
	return out
}

// detail says everything about the selected token.
func (d *bulkDialog) detail(m *Model, w, maxLines int) []string {
	it, ok := d.selected()
	if !ok {
		return nil
	}
	var b []string
	head := m.st.Bold.Render(truncate(itemLabel(it), w/2)) + m.st.Subtle.Render(" · "+it.Ref)
	if it.Team != "" {
		head += m.st.Subtle.Render(" · team " + it.Team)
	}
	b = append(b, truncate(head, w))
	add := func(s string, st func(...string) string) {
		for _, l := range strings.Split(wrap(s, w), "\n") {
			b = append(b, st(l))
		}
	}
	switch outcomeWord(it) {
	case "NOT saved":
		value := mask(it.Value)
		if d.revealed {
			value = it.Value
		}
		add("Token: "+value, m.st.Bold.Render)
		if d.savingSelected(m) {
			b = append(b, m.spin.View()+" Saving…"+m.st.Faint.Render("  (esc stops)"))
		} else {
			add("The only copy: c copies it, "+m.keys.Reveal.Help().Key+" reveals it. Fix the store and save it again (s).", m.st.Subtle.Render)
		}
		add(it.Error, m.st.Error.Render)
	case "rotated":
		add("Rotated and saved as "+it.Name+" (…"+it.Fingerprint+").", m.st.OK.Render)
		if it.Note != "" {
			add(upperFirst(it.Note)+".", m.st.Subtle.Render)
		}
		b = append(b, deliveryLines(m, it.Deliveries, w, "")...)
	case "already done":
		add("Rotated by an earlier run; saved as "+it.Name+".", m.st.Subtle.Render)
	case "unknown":
		add("keyturn does not send it again: check the integration, or rotate this token on its own (r on the account screen).", m.st.Subtle.Render)
		add(it.Error, m.st.Warn.Render)
	case "not started":
		add("Not started: the run was stopped before this token. It keeps its old value.", m.st.Subtle.Render)
	default:
		add(it.Error, m.st.Error.Render)
	}
	// Leave the list its room.
	if len(b) > maxLines {
		b = append(b[:maxLines-1], ansi.Truncate(ansi.Strip(b[maxLines-1]), w-1, "")+"…")
	}
	return b
}

func firstLine(s string) string {
	l, _, _ := strings.Cut(s, "\n")
	return l
}

func (d *bulkDialog) short(k keyMap) []key.Binding {
	if d.phase == bulkRunning {
		return []key.Binding{k.Stop}
	}
	if d.leaving {
		return []key.Binding{k.Yes, k.No}
	}
	bs := []key.Binding{k.Up, k.Down}
	if it, ok := d.selected(); ok && it.Value != "" {
		reveal := k.Reveal
		if d.revealed {
			reveal = k.Hide
		}
		// "save" for short: the footer holds the whole list at 80 columns.
		bs = append(bs, reveal, k.Copy, key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "save")))
	}
	if d.resumable() {
		bs = append(bs, key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "resume")))
	}
	return append(bs, k.Close)
}
