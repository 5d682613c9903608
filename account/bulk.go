package account

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"keyturn/client"
	"keyturn/config"
	"keyturn/keystore"
)

// BulkOptions choose what a bulk rotation covers and how.
type BulkOptions struct {
	Kind     string // "" for every kind the service has
	Team     string // Mattermost team; "" for every team the account sees
	Parallel int    // concurrent requests; default 4
	Resume   bool   // continue a stopped run from its journal
	// Overdue rotates only the tokens past their policy's age or their
	// server's expiry, of the kinds a bulk rotation takes (and those a
	// stopped run left unsettled).
	Overdue bool
	Answer  *Answer
	// Progress, when set, is called after each token settles.
	Progress func(BulkProgress)
}

// BulkProgress is a running count. Skipped counts the tokens a resumed
// run finds already settled (done before, or unknown from the stopped run);
// the first call, before any request, carries only those.
type BulkProgress struct {
	Total, Done, Failed, Unknown, Skipped int
	Last                                  BulkItem
}

// Outcomes of one token in a bulk run.
const (
	BulkOK      = "ok"
	BulkFailed  = "failed"
	BulkUnknown = "unknown" // request sent, no answer: the server may have rotated it
	BulkSkipped = "skipped" // done by the run being resumed
)

// BulkItem is one token's outcome.
type BulkItem struct {
	Ref         string `json:"ref"`
	Label       string `json:"label,omitempty"`
	Team        string `json:"team,omitempty"`
	Status      string `json:"status"`
	Error       string `json:"error,omitempty"`
	Name        string `json:"name,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Stored      bool   `json:"stored"`
	// NotSaved says the server issued a token the store refused: Value
	// holds it in the run that got it; on a resume it is gone.
	NotSaved bool `json:"not_saved,omitempty"`
	// Note says how an ok came about when it is not the plain way: a token
	// a stopped run rotated, read back from the server on resume.
	Note string `json:"note,omitempty"`
	// Deliveries are what became of the token's consumers once it was
	// stored.
	Deliveries []Delivery `json:"deliveries,omitempty"`
	// Value is set only when the token could not be stored: it is the only
	// copy and the face must hand it to the person. Issued is the same
	// token, for RetryStore.
	Value  string  `json:"-"`
	Issued *Issued `json:"-"`
	// Challenge is set when the token failed for want of a second factor.
	Challenge *Challenge `json:"-"`
}

// BulkReport is the whole run.
type BulkReport struct {
	Account string     `json:"account"`
	Items   []BulkItem `json:"items"`
	OK      int        `json:"ok"`
	Failed  int        `json:"failed"`
	Unknown int        `json:"unknown"`
	Skipped int        `json:"skipped"`
	// CodePerToken: the server remembers no passed second factor, so the
	// run stopped after the token its answer was for; each token left
	// needs its own code (see NextCode).
	CodePerToken bool `json:"code_per_token,omitempty"`
}

// AllOK reports whether every token was rotated (or already was, on resume).
func (r *BulkReport) AllOK() bool { return r.Failed == 0 && r.Unknown == 0 }

// ErrInterruptedRun refuses a fresh run over a journal that shows requests
// sent without an answer; the error is an *InterruptedRunError.
var ErrInterruptedRun = errors.New("a previous rotation run of this account was interrupted")

// InterruptedRunError names the request left without an answer and the
// journal that records it.
type InterruptedRunError struct {
	Ref     string
	Journal string
}

func (e *InterruptedRunError) Error() string {
	return fmt.Sprintf("%v (%s was sent with no answer); resuming finishes it, deleting %s starts over", ErrInterruptedRun, e.Ref, e.Journal)
}

func (e *InterruptedRunError) Is(target error) bool { return target == ErrInterruptedRun }

// RotateAll rotates every matching token of the account with bounded
// concurrency. Each new token is stored the moment it arrives; a journal
// (no secrets) records each request before it is sent, so a stopped run
// is resumed with Resume and never rotates a token twice. A 429 pauses all
// workers, not one.
func (m *Manager) RotateAll(ctx context.Context, account string, opts BulkOptions) (*BulkReport, error) {
	unlock, err := m.lockAccount(ctx, account, "rotating every token")
	if err != nil {
		return nil, err
	}
	defer unlock()
	s, err := m.session(ctx, account)
	if err != nil {
		return nil, err
	}
	tokens, err := m.Tokens(ctx, account, ListFilter{Kind: opts.Kind, Team: opts.Team})
	if err != nil {
		return nil, err
	}
	path := journalPath(m.cfg.Path, account, opts.Kind, opts.Team)
	prior, priorPath, err := m.readPriorJournal(path, account, opts)
	if err != nil {
		return nil, err
	}
	if opts.Overdue {
		if tokens, err = m.overdueOnly(account, s.acct.Service, tokens, prior); err != nil {
			return nil, err
		}
	}
	plan, err := planRotation(account, tokens, prior, opts.Resume, priorPath)
	if err != nil {
		return nil, err
	}
	j, err := openJournal(path, opts.Resume)
	if err != nil {
		return nil, err
	}
	for _, i := range plan.MarkUnknown {
		if err := j.record(journalEntry{Ref: plan.Items[i].Ref, Event: evUnknown}); err != nil {
			plan.Items[i].Error += "; " + err.Error()
		}
	}
	for _, i := range plan.CheckStored {
		if it := plan.Items[i]; m.holds(ctx, it.Name, it.Fingerprint) {
			plan.Items[i] = savedSince(it)
		}
	}
	// One sync puts every plan on disk before the first request.
	if err := j.recordAll(plan.Plans); err != nil {
		return nil, errors.Join(err, j.close())
	}
	// Secrets go to the store as they arrive; their index entries are
	// written together every so often and at the end (the journal holds
	// each one in between).
	batch := m.vault.Batch()
	// The consumers are read once for the run, not once per token.
	_ = m.cfg.Read(func(c *config.Config) {
		s.consumers = &config.Config{Consumers: slices.Clone(c.Consumers)}
	})
	s.holdDeliveryAudit = true // settle writes them after each rotation's entry
	parallel := bulkParallel(opts.Parallel)
	s.put = queuedPut(batch.Put, storeWriters(m.vault.Backend(), parallel))
	// The audit log's entries go with them.
	aud := &auditLater{m: m}
	stopFlushing := flushEvery(ctx, func(ctx context.Context) { _ = batch.Flush(ctx); aud.flush(ctx) }, 500*time.Millisecond)
	run := &bulkRun{m: m, ctx: ctx, s: s, j: j, gate: &rateGate{}, tokens: tokens, items: plan.Items, ans: opts.Answer,
		progress: opts.Progress, prog: BulkProgress{Total: len(tokens), Skipped: plan.Settled}, audit: aud,
		forgets: s.acct.Server != nil && s.acct.Server.ForgetsSecondFactor}
	run.execute(plan, parallel)
	stopFlushing()
	run.markNotStarted()
	jerr := errors.Join(j.close(), batch.Flush(ctx))
	aud.flush(ctx)
	report := &BulkReport{Account: account, Items: run.items, CodePerToken: run.forgets}
	if opts.Resume {
		jerr = errors.Join(jerr, m.repairAfterResume(ctx, account, report))
	}
	report.tally()
	return report, jerr
}

// readPriorJournal is each ref's last event in the selection's journal,
// and the journal it was read from: one a keyturn that named journals the
// old way left, when the current one is empty.
func (m *Manager) readPriorJournal(path, account string, opts BulkOptions) (map[string]journalEntry, string, error) {
	prior, err := readJournal(path)
	if err != nil || len(prior) > 0 {
		return prior, path, err
	}
	legacy := legacyJournalPath(m.cfg.Path, account, opts.Kind, opts.Team)
	prior, err = readJournal(legacy)
	return prior, legacy, err
}

// flushEvery writes a run's index (and audit) entries every interval until the
// returned stop is called, which waits for the last write to end. Each
// write rewrites the whole config file, so the pause after one is also at
// least flushPause times as long as it took: with an index of 10,000
// entries a flush every interval took a third of a run's CPU.
func flushEvery(ctx context.Context, flush func(context.Context), interval time.Duration) (stop func()) {
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		wait := interval
		for {
			t := time.NewTimer(wait)
			select {
			case <-done:
				t.Stop()
				return
			case <-t.C:
				t0 := time.Now()
				flush(ctx)
				wait = max(interval, flushPause*time.Since(t0))
			}
		}
	}()
	return func() {
		close(done)
		<-stopped
	}
}

// bulkRun is one run's workers and what they share: the items they
// settle and the running count the Progress callback sees.
type bulkRun struct {
	m      *Manager
	ctx    context.Context
	s      *session
	j      *journal
	gate   *rateGate
	tokens []Token
	ans    *Answer
	slots  requestSlots // the run's requests in flight (execute makes it)
	audit  *auditLater
	// forgets: the server remembers no passed second factor (known from
	// the account's facts, or found out by this run).
	forgets bool

	mu       sync.Mutex
	items    []BulkItem
	prog     BulkProgress
	pmu      sync.Mutex // Progress calls come one at a time
	progress func(BulkProgress)
}

// settle records a token's outcome and tells Progress.
func (r *bulkRun) settle(i int, item BulkItem) {
	r.mu.Lock()
	r.items[i] = item
	switch item.Status {
	case BulkOK:
		r.prog.Done++
	case BulkUnknown:
		r.prog.Unknown++
	default:
		r.prog.Failed++
	}
	r.prog.Last = item
	p := r.prog
	r.mu.Unlock()
	r.audit.add(Event{Action: ActRotate, Account: r.s.acct.Name, Ref: item.Ref, Secret: item.Name}, bulkOutcome(item.Status))
	for _, d := range item.Deliveries { // after the rotation they follow
		ev, outcome := deliveryEvent(d)
		r.audit.add(ev, outcome)
	}
	r.report(p)
}

func (r *bulkRun) report(p BulkProgress) {
	if r.progress != nil {
		r.pmu.Lock()
		r.progress(p)
		r.pmu.Unlock()
	}
}

// item is token i's item as planned; only its own worker settles it.
func (r *bulkRun) item(i int) BulkItem {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.items[i]
}

func (r *bulkRun) rotate(i int) { r.rotateAnswering(i, r.ans) }

// rotateAnswering rotates token i within a request slot. Where the answer
// is all there is to wait for, the store write gives the slot to the next
// request (queuedPut); a run being stopped makes rotateOne stop before
// sending.
func (r *bulkRun) rotateAnswering(i int, ans *Answer) {
	ctx := r.ctx
	if slot, err := r.slots.acquire(ctx); err == nil {
		defer slot.release()
		if freesSlotAtStore(r.tokens[i]) {
			ctx = withSlot(ctx, slot)
		}
	}
	r.settle(i, r.m.rotateOne(ctx, r.s, r.j, r.gate, r.tokens[i], r.item(i), ans))
}

// execute reads back, then rotates, the plan's tokens: the one that signs
// in last, the rest by workers, parallel requests at a time.
func (r *bulkRun) execute(plan *rotationPlan, parallel int) {
	r.report(r.prog)
	r.slots = make(requestSlots, parallel)
	next := make(chan int)
	var wg sync.WaitGroup
	// parallel workers send; the others wait on the store with their
	// tokens while the next requests go (the writer queue).
	for w := 0; w < parallel+bulkWriteQueue; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				r.rotate(i)
			}
		}()
	}
	for _, i := range plan.ReadBack {
		r.settle(i, r.m.readBack(r.ctx, r.s, r.j, r.tokens[i], r.item(i)))
	}
	work, last := r.m.signInLast(r.ctx, r.s, r.tokens, plan.Work)
	// With a second-factor answer, the first tokens go alone: a single-use
	// code (email) must pass once, and the server then remembers it for the
	// batch, before the rest go in parallel; a server that remembers
	// nothing stops the run there, one code per token (codesPerToken).
	if stop := false; r.ans != nil || r.forgets {
		if work, stop = r.codesPerToken(work); stop {
			work, last = nil, nil
		}
	}
feed:
	for _, i := range work {
		select {
		case next <- i:
		case <-r.ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()
	for _, i := range last {
		if r.ctx.Err() != nil {
			break // left "not started" (markNotStarted)
		}
		r.rotate(i)
	}
}

// markNotStarted fails the tokens a stopped run never reached.
func (r *bulkRun) markNotStarted() {
	for i := range r.items {
		if it := &r.items[i]; it.Status == "" {
			it.Status, it.Error = BulkFailed, "not started: the run was stopped"
			// Settles its plan: a later fresh run is not held back by it.
			r.j.note(journalEntry{Ref: it.Ref, Event: evFailed, Error: it.Error})
		}
	}
}

// tally counts the report's items by outcome.
func (r *BulkReport) tally() {
	r.OK, r.Skipped, r.Unknown, r.Failed = 0, 0, 0, 0
	for _, it := range r.Items {
		switch it.Status {
		case BulkOK:
			r.OK++
		case BulkSkipped:
			r.Skipped++
		case BulkUnknown:
			r.Unknown++
		default:
			r.Failed++
		}
	}
}

// repairAfterResume puts back the index entries a crash of the stopped
// run lost: those of the tokens it finished (every store can be asked for
// them by name), and any other of the account's the store can list.
func (m *Manager) repairAfterResume(ctx context.Context, account string, report *BulkReport) error {
	var names []string
	for _, it := range report.Items {
		if it.Status == BulkSkipped && it.Name != "" {
			names = append(names, it.Name)
		}
	}
	if _, err := m.reindex(ctx, account, names); err != nil {
		return err
	}
	if _, err := m.RepairIndex(ctx, account); err != nil && !errors.Is(err, keystore.ErrCannotList) {
		return err
	}
	return nil
}

// signInLast takes out of work the tokens that may be the one keyturn
// signs in with, to be rotated last and one at a time: the rest of the
// batch runs with a credential that still works, and the session's
// credential changes while no other request uses it. A Mattermost user
// token keyturn holds no copy of cannot be told apart (see keepSignedIn),
// so when none is known to be the credential, every user token goes last.
func (m *Manager) signInLast(ctx context.Context, s *session, tokens []Token, work []int) (rest, last []int) {
	if s.cred.Via != viaPAT {
		return work, nil
	}
	var userTokens []int
	for _, i := range work {
		ref := tokens[i].Ref
		switch {
		case m.signsInWith(ctx, s, ref):
			last = append(last, i)
		case ref.Kind == KindUserToken:
			userTokens = append(userTokens, i)
			rest = append(rest, i)
		default:
			rest = append(rest, i)
		}
	}
	if len(last) > 0 || len(userTokens) == 0 {
		return rest, last
	}
	rest = slices.DeleteFunc(rest, func(i int) bool { return tokens[i].Ref.Kind == KindUserToken })
	return rest, userTokens
}

// rotateOne rotates one token: journal "sent", request, store, journal
// "done". A 429 (nothing applied) waits for the shared gate and tries again.
func (m *Manager) rotateOne(ctx context.Context, s *session, j *journal, gate *rateGate, t Token, item BulkItem, ans *Answer) BulkItem {
	for {
		if err := gate.wait(ctx); err != nil {
			item.Status, item.Error = BulkFailed, "stopped before it was sent"
			j.note(journalEntry{Ref: item.Ref, Event: evFailed, Error: item.Error})
			return item
		}
		sent := journalEntry{Ref: item.Ref, Event: evSent}
		if t.current != "" {
			// Its plan is on disk: a resume tells from the server's token
			// whether this request was applied, so no sync is waited for.
			j.note(sent)
		} else if err := j.record(sent); err != nil {
			item.Status, item.Error = BulkFailed, err.Error()
			return item
		}
		// Once "sent" is on disk the request goes out whole and its answer is
		// stored even if the run is being stopped: cancelling it midway would
		// only turn a rotated token into a lost one. The client's own timeout
		// still bounds it.
		iss, err := m.rotateWith(context.WithoutCancel(ctx), s, t.Ref, ans)
		var rl *client.RateLimitedError
		if errors.As(err, &rl) {
			// Refused before it was applied: safe to send again.
			gate.pause(rl.RetryAfter)
			j.note(journalEntry{Ref: item.Ref, Event: evFailed, Error: "rate limited"})
			continue
		}
		if iss != nil {
			item.Name, item.Fingerprint, item.Stored = iss.Name, iss.Fingerprint, iss.Stored
			item.Deliveries = iss.Deliveries
		}
		var ns *NotStoredError
		var uo *UnknownOutcomeError
		switch {
		case err == nil:
			item.Status = BulkOK
			j.note(journalEntry{Ref: item.Ref, Event: evDone, Fingerprint: iss.Fingerprint})
		case errors.As(err, &ns):
			item = unsaved(j, item, ns)
		case errors.As(err, &uo):
			// Leave "sent" as the last event: a resume reports it unknown.
			item.Status, item.Error = BulkUnknown, err.Error()
		default:
			item.Status, item.Error = BulkFailed, err.Error()
			errors.As(err, &item.Challenge)
			j.note(journalEntry{Ref: item.Ref, Event: evFailed, Error: err.Error()})
		}
		return item
	}
}

// holds reports whether the store has a value under name that ends with
// fingerprint: a token a stopped run could not save, saved since.
func (m *Manager) holds(ctx context.Context, name, fingerprint string) bool {
	if name == "" || fingerprint == "" {
		return false
	}
	v, err := m.vault.Get(ctx, name)
	return err == nil && keystore.Fingerprint(v) == fingerprint
}

// unsaved settles an item whose new token the store refused: the token
// goes back to the face (the only copy), and the journal says so, so that
// a resume neither skips it nor calls it stored.
func unsaved(j *journal, item BulkItem, ns *NotStoredError) BulkItem {
	item.Status, item.Error, item.NotSaved = BulkFailed, ns.Error(), true
	item.Name, item.Fingerprint, item.Stored = ns.Issued.Name, ns.Issued.Fingerprint, false
	item.Value, item.Issued = ns.Issued.Value, ns.Issued
	j.note(journalEntry{Ref: item.Ref, Event: evNotStored, Name: ns.Issued.Name, Fingerprint: ns.Issued.Fingerprint})
	return item
}

// readBack stores the token the server holds for a ref a stopped run
// rotated without its answer arriving.
func (m *Manager) readBack(ctx context.Context, s *session, j *journal, t Token, item BulkItem) BulkItem {
	iss, err := m.issueIn(ctx, s, t.Ref, t.current, nil)
	if iss != nil {
		// The stopped run's rotation is finished here: its consumers get it.
		m.deliverRotated(ctx, s, t.Ref, iss)
		item.Name, item.Fingerprint, item.Stored = iss.Name, iss.Fingerprint, iss.Stored
		item.Deliveries = iss.Deliveries
	}
	var ns *NotStoredError
	switch {
	case err == nil:
		item.Status = BulkOK
		item.Note = "rotated by the stopped run, whose answer was lost; saved the token the server holds now"
		j.note(journalEntry{Ref: item.Ref, Event: evDone, Fingerprint: iss.Fingerprint})
	case errors.As(err, &ns):
		item = unsaved(j, item, ns)
	default:
		item.Status, item.Error = BulkFailed, err.Error()
		j.note(journalEntry{Ref: item.Ref, Event: evFailed, Error: err.Error()})
	}
	return item
}

// rateGate holds every worker back after a 429 until the server's reset.
type rateGate struct {
	mu    sync.Mutex
	until time.Time
}

// maxRatePause bounds one pause, whatever the server says.
const maxRatePause = 5 * time.Minute

func (g *rateGate) pause(d time.Duration) {
	if d <= 0 {
		d = time.Second
	}
	d = min(d, maxRatePause)
	g.mu.Lock()
	if t := time.Now().Add(d); t.After(g.until) {
		g.until = t
	}
	g.mu.Unlock()
}

func (g *rateGate) wait(ctx context.Context) error {
	for {
		g.mu.Lock()
		d := time.Until(g.until)
		g.mu.Unlock()
		if d <= 0 {
			return ctx.Err()
		}
		t := time.NewTimer(d)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
	}
}
