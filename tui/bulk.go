package tui

import (
	"context"
	"errors"
	"strings"
	"sync"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/progress"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
)

// Bulk rotation: "rotate all" (R) on a token section of the account screen.
//
// R asks first, with the count and what breaks, then runs
// account.RotateAll in a command. RotateAll calls Progress from its
// workers; the callback only records the latest count in a bulkFeed and
// kicks a channel, and a command waiting on that channel hands the count
// to Update as a bulkProgressMsg and is started again until the run ends.
// Neither side ever waits for the other. Esc cancels the run's context:
// nothing more is sent, the requests already sent finish and are saved, and
// the report says what became of each token. A token issued and NOT saved
// is registered like any other unsaved one, so closing the report or
// quitting asks first; s in the report saves it again.

// bulkParallel is how many tokens are rotated at a time.
const bulkParallel = 4

type bulkPhase int

const (
	bulkRunning bulkPhase = iota
	bulkDone
)

// bulkRun is one "rotate all", from the confirm to the closed report. A
// Rocket.Chat batch refused for a second factor runs again with the
// answer; a stopped or interrupted run can be resumed. Each such attempt
// is a RotateAll call over the same journal.
type bulkRun struct {
	acct    string
	service string
	kind    string
	team    string
	section string // the section's title
	listed  int    // tokens the section showed

	resume   bool            // the next attempt resumes the journal
	ans      *account.Answer // the second-factor answer for the batch
	opID     int
	feed     *bulkFeed // the running attempt's progress; nil between attempts
	prog     account.BulkProgress
	stopping bool // Esc was pressed during this attempt
	stopped  bool // the last attempt was stopped

	// earlier holds each token's outcome in the attempts so far: a resumed
	// attempt reports tokens an earlier one settled as skipped, and the
	// report keeps what really happened to them (a NOT saved value above all).
	earlier map[string]account.BulkItem
	items   []account.BulkItem // the report
	runErr  error              // an error beside the report (the journal)

	// unsaved are the tokens issued and NOT saved, by name; the model's
	// unsaved list holds the same ones.
	unsaved map[string]*account.Issued
	// saving are the save-again operations in flight, by ref.
	saving map[string]int

	f   *flow // the second-factor question, when Rocket.Chat asks
	dlg *bulkDialog
}

// what names the tokens in words: "3 slash-command tokens of mm (team ops)".
func (r *bulkRun) what(n int) string {
	s := plural(n, kindName(r.kind), kindName(r.kind)+"s") + " of " + r.acct
	if r.team != "" {
		s += " (team " + r.team + ")"
	}
	return s
}

// rotateAllConsequence says, for the confirm, what a rotate-all breaks.
func rotateAllConsequence(st account.Status, sec section, n int) []string {
	tokens := plural(n, kindName(sec.kind), kindName(sec.kind)+"s")
	team := ""
	if sec.team != "" {
		team = " (team " + sec.team + ")"
	}
	at := itoa(bulkParallel) + " at a time"
	var lines []string
	switch sec.kind {
	case account.KindCommand:
		lines = []string{
			"Mattermost replaces the tokens of these " + plural(n, "slash command", "slash commands") + team + " at once, " + at + ". Each new token is saved the moment it arrives.",
			"Every integration using these " + tokens + " must get its new token, or it will refuse Mattermost's requests.",
		}
	case account.KindWebhook:
		lines = []string{
			"Mattermost replaces the tokens of these " + plural(n, "outgoing webhook", "outgoing webhooks") + team + " at once, " + at + ". Each new token is saved the moment it arrives.",
			"Every service receiving these " + plural(n, "outgoing webhook", "outgoing webhooks") + " must check its new token, or it will reject Mattermost's posts.",
		}
	case account.KindUserToken:
		lines = []string{
			"For each of these " + tokens + ", keyturn creates a new one, saves it, checks that it works, then revokes the old one, " + at + ".",
			"Whatever uses the old tokens stops working as they are revoked: every integration using these " + tokens + " must get its new token.",
		}
	case account.KindPAT:
		lines = []string{
			"Rocket.Chat replaces these " + tokens + " at once, " + at + ". Each new token is saved the moment it arrives.",
			"Every script or integration using these " + tokens + " stops working until it gets its new token.",
			"If Rocket.Chat asks for a second factor, keyturn asks once for the whole batch.",
		}
	}
	return append(lines, "Esc stops the run: nothing more is sent; the requests already sent finish and are saved. A request that gets no answer is reported as unknown and never sent again.")
}

// confirmRotateAll asks before rotating every token of a section.
func (m *Model) confirmRotateAll(st account.Status, sec section) tea.Cmd {
	n := len(sec.rows)
	r := &bulkRun{acct: st.Name, service: st.Service, kind: sec.kind, team: sec.team, section: sec.title, listed: n}
	title := "Rotate all " + plural(n, kindName(sec.kind), kindName(sec.kind)+"s") + "?"
	m.pushDialog(newConfirmDialog(title, rotateAllConsequence(st, sec, n), "Rotate all "+itoa(n), true, func() tea.Cmd {
		return m.startBulk(r)
	}))
	return nil
}

// startBulk opens the progress dialog and runs the first attempt.
func (m *Model) startBulk(r *bulkRun) tea.Cmd {
	m.bulk = r
	r.dlg = newBulkDialog(m, r)
	m.pushDialog(r.dlg)
	return r.attempt(m)
}

// attempt runs RotateAll once, with the run's answer and resume flag.
func (r *bulkRun) attempt(m *Model) tea.Cmd {
	r.stopping = false
	r.prog = account.BulkProgress{}
	r.dlg.phase = bulkRunning
	feed := newBulkFeed()
	r.feed = feed
	opts := account.BulkOptions{Kind: r.kind, Team: r.team, Parallel: bulkParallel, Resume: r.resume, Answer: r.ans, Progress: feed.push}
	name := r.acct
	var cmd tea.Cmd
	r.opID, cmd = m.start("Rotating "+r.what(r.listed)+"…", func(ctx context.Context) (any, error) {
		defer feed.finish()
		return m.mgr.RotateAll(ctx, name, opts)
	}, func(val any, err error) tea.Cmd {
		rep, _ := val.(*account.BulkReport)
		return r.finished(m, rep, err)
	})
	return tea.Batch(cmd, feed.wait(r))
}

// stop cancels the running attempt: RotateAll sends nothing more and
// reports what became of each token.
func (r *bulkRun) stop(m *Model) {
	if r.stopping || r.feed == nil {
		return
	}
	r.stopping = true
	m.stopOp(r.opID)
	m.setStatus("Stopping the rotation: nothing more is sent")
}

// finished takes an attempt's result: the report, a second-factor
// question, the offer to resume an interrupted run, or an error.
func (r *bulkRun) finished(m *Model, rep *account.BulkReport, err error) tea.Cmd {
	r.feed = nil
	if rep == nil && len(r.items) > 0 {
		// A later attempt failed outright: the earlier report stands, with
		// the tokens it holds.
		r.runErr, r.stopped = err, r.stopping
		r.dlg.toReport()
		return m.reload()
	}
	if rep == nil {
		m.closeDialog(r.dlg)
		if errors.Is(err, account.ErrInterruptedRun) && !r.resume {
			return m.offerResume(r, err)
		}
		m.bulk = nil
		m.showError("Could not rotate the "+r.what(r.listed), err)
		return m.reload()
	}
	for _, it := range rep.Items {
		r.register(m, it)
	}
	r.merge(rep)
	r.runErr = err
	r.stopped = r.stopping
	if ch := bulkChallenge(r.service, rep); ch != nil && !r.stopped && err == nil {
		return tea.Batch(r.askSecondFactor(m, ch), m.reload())
	}
	r.dlg.toReport()
	switch n := len(r.unsaved); {
	case n > 0:
		m.setStatus(plural(n, "token was", "tokens were") + " issued but NOT saved: save them again (s) or copy them from the report")
	case r.stopped:
		m.setStatus("Rotation stopped")
	default:
		m.setStatus("Rotation finished")
	}
	return m.reload()
}

// merge makes the report from an attempt's, keeping what earlier attempts
// did to the tokens this one skipped.
func (r *bulkRun) merge(rep *account.BulkReport) {
	if r.earlier == nil {
		r.earlier = map[string]account.BulkItem{}
	}
	items := make([]account.BulkItem, len(rep.Items))
	for i, it := range rep.Items {
		if prev, ok := r.earlier[it.Ref]; ok && it.Status == account.BulkSkipped && prev.Status != account.BulkSkipped {
			it = prev
		}
		items[i] = it
		r.earlier[it.Ref] = it
	}
	r.items = items
}

// register keeps a token that was issued and NOT saved: it is the only
// copy, so the model asks before it is lost. RotateAll hands it back as
// the item's Issued, which RetryStore can save again.
func (r *bulkRun) register(m *Model, it account.BulkItem) {
	iss := it.Issued
	if iss == nil || iss.Value == "" || iss.Stored {
		return
	}
	if r.unsaved == nil {
		r.unsaved = map[string]*account.Issued{}
	}
	if _, ok := r.unsaved[iss.Name]; ok {
		return
	}
	r.unsaved[iss.Name] = iss
	m.addUnsaved(iss)
}

// saveAgain stores a NOT saved token again, in a command. Esc stops it
// (its result still comes back), so the report always says where it is.
func (r *bulkRun) saveAgain(m *Model, it account.BulkItem) tea.Cmd {
	if it.Issued == nil || m.running(r.saving[it.Ref]) {
		return nil
	}
	iss, ref := it.Issued, it.Ref
	if r.saving == nil {
		r.saving = map[string]int{}
	}
	var cmd tea.Cmd
	r.saving[ref], cmd = m.start("Saving "+iss.Name+"…", func(ctx context.Context) (any, error) {
		return nil, m.mgr.RetryStore(ctx, iss)
	}, func(_ any, err error) tea.Cmd {
		delete(r.saving, ref)
		if err != nil {
			r.update(ref, func(it *account.BulkItem) { it.Error = err.Error() })
			r.dlg.noteFor(ref, "Still NOT saved.")
			m.setStatus(iss.Name + " is still NOT saved")
			return nil
		}
		r.update(ref, func(it *account.BulkItem) {
			it.Status, it.Stored, it.Value, it.Error, it.NotSaved = account.BulkOK, true, "", "", false
			it.Name, it.Fingerprint = iss.Name, iss.Fingerprint
		})
		delete(r.unsaved, iss.Name)
		m.dropUnsaved(iss)
		r.dlg.noteFor(ref, "Saved.")
		m.setStatus("Saved " + iss.Name)
		return m.reload()
	})
	return cmd
}

// update changes a token's outcome in the report and in what a resumed
// attempt's report is made from.
func (r *bulkRun) update(ref string, change func(*account.BulkItem)) {
	for i := range r.items {
		if r.items[i].Ref == ref {
			change(&r.items[i])
		}
	}
	if it, ok := r.earlier[ref]; ok {
		change(&it)
		r.earlier[ref] = it
	}
}

// savingAny reports whether a save again is in flight.
func (r *bulkRun) savingAny(m *Model) bool {
	for _, id := range r.saving {
		if m.running(id) {
			return true
		}
	}
	return false
}

// stopSaving stops the saves in flight; each still reports its result.
func (r *bulkRun) stopSaving(m *Model) {
	for _, id := range r.saving {
		m.stopOp(id)
	}
}

// discard forgets the NOT saved tokens, on the person's word.
func (r *bulkRun) discard(m *Model) int {
	n := len(r.unsaved)
	for _, iss := range r.unsaved {
		m.dropUnsaved(iss)
	}
	r.unsaved = nil
	return n
}

// askSecondFactor asks once for the batch, then runs it again with the
// answer; the journal skips the tokens already done.
func (r *bulkRun) askSecondFactor(m *Model, ch *account.Challenge) tea.Cmd {
	if r.f == nil {
		f := &flow{title: "Rotate all · " + r.acct, label: "Rotating…", acct: r.acct}
		f.intro = "One answer covers the whole batch of " + plural(r.listed, kindName(r.kind), kindName(r.kind)+"s") + ": keyturn runs it again with your answer, skipping the tokens already done."
		f.answer = func(ans *account.Answer) tea.Cmd {
			if f.chal != nil {
				m.closeDialog(f.chal)
				f.chal = nil
			}
			r.ans, r.resume = ans, true
			return r.attempt(m)
		}
		f.cancelled = func() tea.Cmd {
			r.dlg.toReport()
			return nil
		}
		r.f = f
	}
	r.f.chal = newChallengeDialog(m, r.f, ch)
	m.pushDialog(r.f.chal)
	return nil
}

// offerResume asks to finish a run that was interrupted with a request
// sent and no answer; a fresh run is refused until then.
func (m *Model) offerResume(r *bulkRun, err error) tea.Cmd {
	lines := []string{"A previous rotation run of " + r.acct + " stopped with a request sent and no answer."}
	path := ""
	var ir *account.InterruptedRunError
	if errors.As(err, &ir) {
		lines[0] = "A previous rotation run of " + r.acct + " stopped with a request sent and no answer (" + ir.Ref + ")."
		path = ir.Journal
	}
	lines = append(lines,
		"Resuming finishes it: tokens that run rotated are skipped, the rest of the "+strings.ToLower(r.section)+" are rotated, and a token sent with no answer is never sent again: read back from the server if it shows it (slash commands, webhooks), else reported as unknown.",
	)
	if path != "" {
		lines = append(lines, "To start over instead, delete "+path+".")
	}
	c := newConfirmDialog("Resume the interrupted rotation?", lines, "Resume", true, func() tea.Cmd {
		r.resume = true
		return m.startBulk(r)
	})
	c.onNo = func() tea.Cmd {
		m.bulk = nil
		m.setStatus("Nothing was rotated")
		return nil
	}
	m.pushDialog(c)
	return nil
}

// bulkChallenge is the second factor a Rocket.Chat batch was refused
// for: the challenge of its first token that failed for want of one. Only
// Rocket.Chat takes an answer for a batch.
func bulkChallenge(service string, rep *account.BulkReport) *account.Challenge {
	if !account.Info(service).Challenge.BulkAnswer {
		return nil
	}
	for _, it := range rep.Items {
		if it.Status == account.BulkFailed && it.Challenge != nil {
			return it.Challenge
		}
	}
	return nil
}

// ---- the feed from RotateAll's workers to Update ----

// bulkFeed carries progress from the workers to Update. push never
// blocks: it keeps the latest count, and a channel of one says there is
// news.
type bulkFeed struct {
	mu     sync.Mutex
	prog   account.BulkProgress
	fresh  bool
	issued []account.BulkItem // NOT saved tokens since the last read
	kick   chan struct{}
	done   chan struct{}
}

// bulkProgressMsg is the news from a feed.
type bulkProgressMsg struct {
	run    *bulkRun
	feed   *bulkFeed
	prog   account.BulkProgress
	fresh  bool
	issued []account.BulkItem
	ended  bool
}

func newBulkFeed() *bulkFeed {
	return &bulkFeed{kick: make(chan struct{}, 1), done: make(chan struct{})}
}

// push is RotateAll's Progress callback.
func (f *bulkFeed) push(p account.BulkProgress) {
	f.mu.Lock()
	f.prog, f.fresh = p, true
	if p.Last.Issued != nil {
		f.issued = append(f.issued, p.Last)
	}
	f.mu.Unlock()
	select {
	case f.kick <- struct{}{}:
	default:
	}
}

// finish says the run returned.
func (f *bulkFeed) finish() { close(f.done) }

// wait is the command that waits for news.
func (f *bulkFeed) wait(r *bulkRun) tea.Cmd {
	return func() tea.Msg {
		select {
		case <-f.kick:
		case <-f.done:
		}
		f.mu.Lock()
		defer f.mu.Unlock()
		msg := bulkProgressMsg{run: r, feed: f, prog: f.prog, fresh: f.fresh, issued: f.issued}
		f.fresh, f.issued = false, nil
		select {
		case <-f.done:
			msg.ended = true
		default:
		}
		return msg
	}
}

// handleBulkProgress shows the news and waits for more.
func (m *Model) handleBulkProgress(msg bulkProgressMsg) tea.Cmd {
	r := msg.run
	if r.feed != msg.feed {
		// The attempt has ended; its report holds everything.
		return nil
	}
	for _, it := range msg.issued {
		r.register(m, it)
	}
	if msg.fresh {
		r.prog = msg.prog
	}
	if msg.ended {
		return nil
	}
	return msg.feed.wait(r)
}

// ---- the dialog: progress, then the report ----

type bulkDialog struct {
	run      *bulkRun
	phase    bulkPhase
	bar      progress.Model
	cursor   int
	revealed bool // the selected NOT saved token is shown
	leaving  bool // closing with NOT saved tokens: asking first
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
	d.cursor, d.revealed, d.leaving, d.note = 0, false, false, ""
	// Start on the first token that needs the person.
	for i, it := range d.run.items {
		if it.Value != "" {
			d.cursor = i
			return
		}
	}
	for i, it := range d.run.items {
		if it.Status == account.BulkFailed || it.Status == account.BulkUnknown {
			if !notStarted(it) {
				d.cursor = i
				return
			}
		}
	}
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

func (d *bulkDialog) selected() (account.BulkItem, bool) {
	if d.cursor < 0 || d.cursor >= len(d.run.items) {
		return account.BulkItem{}, false
	}
	return d.run.items[d.cursor], true
}

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

func (d *bulkDialog) update(m *Model, msg tea.Msg) tea.Cmd {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	r := d.run
	if d.phase == bulkRunning {
		if key.Matches(k, m.keys.Stop) {
			r.stop(m)
		}
		return nil
	}
	if d.leaving {
		switch {
		case key.Matches(k, m.keys.Yes):
			n := r.discard(m)
			m.closeDialog(d)
			m.bulk = nil
			m.setStatus(plural(n, "token was", "tokens were") + " discarded: never saved")
		case key.Matches(k, m.keys.No), key.Matches(k, m.keys.Cancel):
			d.leaving = false
		}
		return nil
	}
	n := len(r.items)
	move := func(to int) {
		d.cursor = max(0, min(n-1, to))
		d.revealed, d.note = false, ""
	}
	switch {
	case key.Matches(k, m.keys.Up):
		move(d.cursor - 1)
	case key.Matches(k, m.keys.Down):
		move(d.cursor + 1)
	case key.Matches(k, m.keys.Top):
		move(0)
	case key.Matches(k, m.keys.Bottom):
		move(n - 1)
	case key.Matches(k, m.keys.Reveal):
		if it, ok := d.selected(); ok && it.Value != "" {
			d.revealed = !d.revealed
		}
	case key.Matches(k, m.keys.Copy):
		if it, ok := d.selected(); ok && it.Value != "" {
			d.note = "Copied to the clipboard (OSC 52). Your terminal must allow it."
			return tea.SetClipboard(it.Value)
		}
	case key.Matches(k, m.keys.Retry):
		if it, ok := d.selected(); ok && it.Value != "" {
			d.note = ""
			return r.saveAgain(m, it)
		}
	case key.Matches(k, m.keys.RotateAll) && d.resumable():
		r.resume = true
		return r.attempt(m)
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
		m.closeDialog(d)
		m.bulk = nil
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
type bulkCounts struct{ ok, notSaved, failed, unknown, notStarted, skipped int }

func countItems(items []account.BulkItem) bulkCounts {
	var c bulkCounts
	for _, it := range items {
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
	items := d.run.items
	if len(items) == 0 {
		return []string{m.st.Faint.Render("The section has no tokens now.")}
	}
	rows := h
	more := len(items) > h
	if more {
		rows = h - 1
	}
	start := 0
	if d.cursor >= rows {
		start = d.cursor - rows + 1
	}
	end := min(len(items), start+rows)
	lw := 30
	if w < 90 {
		lw = 24
	}
	var out []string
	for i := start; i < end; i++ {
		it := items[i]
		var mark, outcome string
		switch word := outcomeWord(it); word {
		case "NOT saved":
			mark = m.st.Error.Render("✗")
			outcome = m.st.Error.Render("NOT saved") + m.st.Subtle.Render(" · issued …"+it.Fingerprint+", only in this window")
		case "rotated":
			mark = m.st.OK.Render("✓")
			outcome = m.st.OK.Render("rotated") + m.st.Subtle.Render(" · saved …"+it.Fingerprint)
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
		if i == d.cursor {
			out = append(out, m.st.Cursor.Render("›")+m.st.Selected.Render(pad(" "+ansi.Strip(line), w-1)))
		} else {
			out = append(out, "  "+truncate(line, w-2))
		}
	}
	if more {
		out = append(out, m.st.Faint.Render("   "+itoa(start+1)+"–"+itoa(end)+" of "+itoa(len(items))+" · ↑/↓ scroll"))
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
			add("The only copy: c copies it, r reveals it. Fix the store and save it again (s).", m.st.Subtle.Render)
		}
		add(it.Error, m.st.Error.Render)
	case "rotated":
		add("Rotated and saved as "+it.Name+" (…"+it.Fingerprint+").", m.st.OK.Render)
		if it.Note != "" {
			add(upperFirst(it.Note)+".", m.st.Subtle.Render)
		}
	case "already done":
		add("Rotated by an earlier run; saved as "+it.Name+".", m.st.Subtle.Render)
	case "unknown":
		add("keyturn does not send it again: check the integration, or regenerate this token on its own (r on the account screen).", m.st.Subtle.Render)
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

func (d *bulkDialog) short(m *Model) []key.Binding {
	if d.phase == bulkRunning {
		return []key.Binding{m.keys.Stop}
	}
	if d.leaving {
		return []key.Binding{m.keys.Yes, m.keys.No}
	}
	bs := []key.Binding{m.keys.Up, m.keys.Down}
	if it, ok := d.selected(); ok && it.Value != "" {
		reveal := m.keys.Reveal
		if d.revealed {
			reveal = key.NewBinding(key.WithKeys("r"), key.WithHelp("r", "hide"))
		}
		// "save" for short: the footer holds the whole list at 80 columns.
		bs = append(bs, reveal, m.keys.Copy, key.NewBinding(key.WithKeys("s"), key.WithHelp("s", "save")))
	}
	if d.resumable() {
		bs = append(bs, key.NewBinding(key.WithKeys("R"), key.WithHelp("R", "resume")))
	}
	return append(bs, m.keys.Close)
}
