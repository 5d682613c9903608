package tui

import (
	"context"
	"errors"
	"strings"
	"sync"

	tea "charm.land/bubbletea/v2"

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
	overdue bool   // only the account's overdue tokens (the overview's R)
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
	if r.overdue {
		return plural(n, "overdue token", "overdue tokens") + " of " + r.acct
	}
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
		switch st.UserTokenRotation {
		case account.RotatesInPlace:
			lines = []string{
				"Mattermost gives each of these " + tokens + " a new secret in place, " + at + "; each keeps its id and lifetime, and its old secret stops working at once.",
				"Every integration using these " + tokens + " must get its new one.",
			}
		default:
			lines = []string{
				"For each of these " + tokens + ", keyturn creates a new one, saves it, checks that it works, then revokes the old one, " + at + " (in place instead, where the server can: Mattermost 11.10 and later).",
				"Whatever uses the old tokens stops working as they are revoked: every integration using these " + tokens + " must get its new token.",
			}
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
func (m *Model) confirmRotateAll(st account.Status, sec section) []action {
	n := len(sec.rows)
	r := &bulkRun{acct: st.Name, service: st.Service, kind: sec.kind, team: sec.team, section: sec.title, listed: n}
	title := "Rotate all " + plural(n, kindName(sec.kind), kindName(sec.kind)+"s") + "?"
	return acts(openDlg(newConfirmDialog(title, rotateAllConsequence(st, sec, n), "Rotate all "+itoa(n), true, func() []action {
		return m.startBulk(r)
	})))
}

// startBulk opens the progress dialog and runs the first attempt.
func (m *Model) startBulk(r *bulkRun) []action {
	m.bulk = r
	r.dlg = newBulkDialog(m, r)
	return acts(openDlg(r.dlg), runCmd(r.attempt(m)))
}

// attempt runs RotateAll once, with the run's answer and resume flag.
func (r *bulkRun) attempt(m *Model) tea.Cmd {
	r.stopping = false
	r.prog = account.BulkProgress{}
	r.dlg.phase = bulkRunning
	feed := newBulkFeed()
	r.feed = feed
	opts := account.BulkOptions{Kind: r.kind, Team: r.team, Parallel: bulkParallel, Resume: r.resume, Answer: r.ans, Progress: feed.push, Overdue: r.overdue}
	name := r.acct
	var cmd tea.Cmd
	r.opID, cmd = startOp(m, "Rotating "+r.what(r.listed)+"…", func(ctx context.Context) (*account.BulkReport, error) {
		defer feed.finish()
		return m.mgr.RotateAll(ctx, name, opts)
	}, func(rep *account.BulkReport, err error) []action {
		return r.finished(m, rep, err)
	})
	return tea.Batch(cmd, feed.wait(r))
}

// stop cancels the running attempt: RotateAll sends nothing more and
// reports what became of each token.
func (r *bulkRun) stop(m *Model) []action {
	if r.stopping || r.feed == nil {
		return nil
	}
	r.stopping = true
	m.stopOp(r.opID)
	return acts(status("Stopping the rotation: nothing more is sent"))
}

// finished takes an attempt's result: the report, a second-factor
// question, the offer to resume an interrupted run, or an error.
func (r *bulkRun) finished(m *Model, rep *account.BulkReport, err error) []action {
	r.feed = nil
	if rep == nil && len(r.items) > 0 {
		// A later attempt failed outright: the earlier report stands, with
		// the tokens it holds.
		r.runErr, r.stopped = err, r.stopping
		r.dlg.toReport()
		return acts(reloadScreen())
	}
	if rep == nil {
		if errors.Is(err, account.ErrInterruptedRun) && !r.resume {
			return append(acts(closeDlg(r.dlg)), m.offerResume(r, err)...)
		}
		m.bulk = nil
		return acts(closeDlg(r.dlg), errorBanner("Could not rotate the "+r.what(r.listed), err), reloadScreen())
	}
	for _, it := range rep.Items {
		r.register(m, it)
	}
	r.merge(rep)
	r.runErr = err
	r.stopped = r.stopping
	if ch := bulkChallenge(r.service, rep); ch != nil && !r.stopped && err == nil {
		return append(r.askSecondFactor(m, ch, rep), reloadScreen())
	}
	r.dlg.toReport()
	switch n := len(r.unsaved); {
	case n > 0:
		return acts(status(plural(n, "token was", "tokens were")+" issued but NOT saved: save them again (s) or copy them from the report"), reloadScreen())
	case r.stopped:
		return acts(status("Rotation stopped"), reloadScreen())
	default:
		return acts(status("Rotation finished"), reloadScreen())
	}
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
	r.saving[ref], cmd = startOp(m, "Saving "+iss.Name+"…", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, m.mgr.RetryStore(ctx, iss)
	}, func(_ struct{}, err error) []action {
		delete(r.saving, ref)
		if err != nil {
			r.update(ref, func(it *account.BulkItem) { it.Error = err.Error() })
			r.dlg.noteFor(ref, "Still NOT saved.")
			return acts(status(iss.Name + " is still NOT saved"))
		}
		r.update(ref, func(it *account.BulkItem) {
			it.Status, it.Stored, it.Value, it.Error, it.NotSaved = account.BulkOK, true, "", "", false
			it.Name, it.Fingerprint = iss.Name, iss.Fingerprint
		})
		delete(r.unsaved, iss.Name)
		m.dropUnsaved(iss)
		r.dlg.noteFor(ref, "Saved.")
		return acts(status("Saved "+iss.Name), reloadScreen())
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
// A server that remembers no passed factor is asked a code for each token
// in turn, the prompt counting those left.
func (r *bulkRun) askSecondFactor(m *Model, ch *account.Challenge, rep *account.BulkReport) []action {
	defer func() {
		if rep.CodePerToken {
			_, left := rep.NextCode()
			r.f.intro = "This server does not remember a passed second factor, so each token needs its own code: " +
				plural(left, kindName(r.kind)+" is", kindName(r.kind)+"s are") + " left. keyturn rotates the next one with your answer."
		}
	}()
	if r.f == nil {
		f := &flow{title: "Rotate all · " + r.acct, label: "Rotating…", acct: r.acct}
		f.intro = "One answer covers the whole batch of " + r.what(r.listed) + ": keyturn runs it again with your answer, skipping the tokens already done."
		f.answer = func(ans *account.Answer) []action {
			var as []action
			if f.chal != nil {
				as = append(as, closeDlg(f.chal))
				f.chal = nil
			}
			r.ans, r.resume = ans, true
			return append(as, runCmd(r.attempt(m)))
		}
		f.cancelled = func() []action {
			r.dlg.toReport()
			return nil
		}
		r.f = f
	}
	r.f.chal = newChallengeDialog(m, r.f, ch)
	return acts(openDlg(r.f.chal))
}

// offerResume asks to finish a run that was interrupted with a request
// sent and no answer; a fresh run is refused until then.
func (m *Model) offerResume(r *bulkRun, err error) []action {
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
	c := newConfirmDialog("Resume the interrupted rotation?", lines, "Resume", true, func() []action {
		r.resume = true
		return m.startBulk(r)
	})
	c.onNo = func() []action {
		m.bulk = nil
		return acts(status("Nothing was rotated"))
	}
	return acts(openDlg(c))
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
