package account

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"keyturn/audit"
)

// Audit actions: what each line of the audit log says was done.
const (
	ActLogin        = "login"
	ActLogout       = "logout"
	ActMFASetup     = "mfa-setup"
	ActMFAActivate  = "mfa-activate"
	ActMFADisable   = "mfa-disable"
	ActCreate       = "create"
	ActRotate       = "rotate"
	ActFetch        = "fetch"
	ActRevoke       = "revoke"
	ActReveal       = "reveal"
	ActCopy         = "copy"
	ActExec         = "exec"
	ActSecretSet    = "secret-set"
	ActSecretDelete = "secret-delete"
	ActDeliver      = "deliver"
)

// auditState is the manager's side of the audit log.
type auditState struct {
	log  *audit.Log
	mu   sync.Mutex
	held []audit.Entry
	warn func(string)
	// pending are warnings no one was told of yet (no Warn set): the TUI
	// takes them after each operation.
	pending []string
}

// Event is one thing done, for the audit log: never a value.
type Event struct {
	Action  string
	Account string
	Ref     string // the token's REF, if any
	Secret  string // its name in the store, if any
}

// outcomeOf reads an operation's error as an audit outcome.
func outcomeOf(err error) string {
	var uo *UnknownOutcomeError
	switch {
	case err == nil:
		return audit.OK
	case errors.As(err, &uo):
		return audit.Unknown
	case errors.Is(err, context.Canceled):
		return audit.Cancelled
	}
	return audit.Failed
}

// audit records one thing done and how it ended. It is the one place the
// log is written from: the operations call it as they end, deliveries
// too. A log that cannot be written is a warning, never the operation's
// failure: the token it made is stored already.
func (m *Manager) audit(ctx context.Context, ev Event, err error) {
	m.record(ctx, ev, outcomeOf(err))
}

// auditStep is audit for one step of a conversation with the server: a
// step that only asks for the second factor is not an outcome yet (a wrong
// or refused answer is).
func (m *Manager) auditStep(ctx context.Context, ev Event, err error) {
	var ch *Challenge
	if errors.As(err, &ch) && !ch.Invalid && !ch.Locked {
		return
	}
	m.audit(ctx, ev, err)
}

// bulkOutcome is a bulk item's status as an audit outcome.
func bulkOutcome(status string) string {
	switch status {
	case BulkOK:
		return audit.OK
	case BulkUnknown:
		return audit.Unknown
	}
	return audit.Failed
}

// record appends one entry, or holds it for FlushAudit.
func (m *Manager) record(ctx context.Context, ev Event, outcome string) {
	if m.aud.log == nil {
		return
	}
	e := m.auditEntry(ev, outcome)
	if m.opts.HoldAudit {
		m.aud.mu.Lock()
		m.aud.held = append(m.aud.held, e)
		m.aud.mu.Unlock()
		return
	}
	// Written even when the caller has gone: what was done was done.
	if werr := m.aud.log.Append(context.WithoutCancel(ctx), e); werr != nil {
		m.warn(fmt.Sprintf("the audit log could not be written (%v); %s on %s was done all the same", werr, ev.Action, ev.Account))
	}
}

func (m *Manager) auditEntry(ev Event, outcome string) audit.Entry {
	return audit.Entry{Time: m.opts.Now(), Action: ev.Action, Account: ev.Account, Ref: ev.Ref, Secret: ev.Secret, Outcome: outcome, Face: m.opts.Face}
}

// auditLater holds a bulk run's entries and writes them together at each
// flush (with the run's index entries, and at its end): one lock and one
// fsync for many tokens, where an entry at a time cost both per token.
type auditLater struct {
	m   *Manager
	mu  sync.Mutex
	evs []audit.Entry
}

func (a *auditLater) add(ev Event, outcome string) {
	if a.m.aud.log == nil || a.m.opts.HoldAudit {
		a.m.record(context.Background(), ev, outcome) // nothing, or held already
		return
	}
	e := a.m.auditEntry(ev, outcome)
	a.mu.Lock()
	a.evs = append(a.evs, e)
	a.mu.Unlock()
}

func (a *auditLater) flush(ctx context.Context) {
	a.mu.Lock()
	evs := a.evs
	a.evs = nil
	a.mu.Unlock()
	if len(evs) == 0 {
		return
	}
	if err := a.m.aud.log.AppendAll(context.WithoutCancel(ctx), evs...); err != nil {
		a.m.warn(fmt.Sprintf("the audit log could not be written (%v); %d rotations were done all the same", err, len(evs)))
	}
}

// auditIssued records an operation that may have issued a token: the REF
// and store name come from what was issued when there is one.
func (m *Manager) auditIssued(ctx context.Context, action, account string, ref Ref, iss *Issued, err error) {
	ev := Event{Action: action, Account: account, Ref: ref.String()}
	if iss != nil {
		ev.Ref, ev.Secret = iss.Ref, iss.Name
	}
	m.audit(ctx, ev, err)
}

// FlushAudit writes the entries held back (Options.HoldAudit) with the exit
// code the command ends with. Failures are warnings, and are returned.
func (m *Manager) FlushAudit(exit int) error {
	m.aud.mu.Lock()
	held := m.aud.held
	m.aud.held = nil
	m.aud.mu.Unlock()
	var errs []error
	for _, e := range held {
		code := exit
		e.Exit = &code
		if err := m.aud.log.Append(context.Background(), e); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errors.Join(errs...); err != nil {
		m.warn(fmt.Sprintf("the audit log could not be written (%v); what was done was done all the same", err))
		return err
	}
	return nil
}

// OnWarning sets where warnings go (a problem that did not fail the
// operation), replacing Options.Warn.
func (m *Manager) OnWarning(f func(string)) {
	m.aud.mu.Lock()
	m.aud.warn = f
	m.aud.mu.Unlock()
}

func (m *Manager) warn(msg string) {
	m.aud.mu.Lock()
	f := m.aud.warn
	if f == nil && len(m.aud.pending) < 16 {
		m.aud.pending = append(m.aud.pending, msg)
	}
	m.aud.mu.Unlock()
	if f != nil {
		f(msg)
	}
}

// TakeWarnings returns the warnings no Warn callback was told of, oldest
// first, and forgets them.
func (m *Manager) TakeWarnings() []string {
	m.aud.mu.Lock()
	defer m.aud.mu.Unlock()
	out := m.aud.pending
	m.aud.pending = nil
	return out
}

// LogFilter picks audit entries.
type LogFilter struct {
	Account string
	Since   time.Time
	Limit   int // the newest Limit; 0 = all
}

// Log reads the audit log, oldest first; skipped counts lines that did not
// parse (a torn write, an edit by hand).
func (m *Manager) Log(ctx context.Context, f LogFilter) (entries []audit.Entry, skipped int, err error) {
	if m.aud.log == nil {
		return nil, 0, nil
	}
	return m.aud.log.Read(audit.Filter{Account: f.Account, Since: f.Since, Limit: f.Limit})
}

// LogPath is where the audit log lives.
func (m *Manager) LogPath() string {
	if m.aud.log == nil {
		return ""
	}
	return m.aud.log.Path
}
