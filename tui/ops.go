package tui

import (
	"context"
	"errors"

	tea "charm.land/bubbletea/v2"

	"keyturn/account"
)

// Every call into account/ runs in a tea.Cmd with its own cancellable
// context: Update never waits on a server or a store. An operation's
// result comes back as an opDoneMsg and goes to the closure that started it,
// which runs inside Update and only changes the model.

// opDoneMsg is the result of one operation.
type opDoneMsg struct {
	id  int
	val any
	err error
}

// opRecord is an operation in flight.
type opRecord struct {
	label     string
	cancel    context.CancelFunc
	done      func(val any, err error) tea.Cmd
	cancelled bool
	quiet     bool // a background refresh: no spinner in the header
}

// start runs fn in a command. done is called in Update with its result,
// unless the operation was cancelled first (see cancelled).
func (m *Model) start(label string, fn func(ctx context.Context) (any, error), done func(val any, err error) tea.Cmd) (int, tea.Cmd) {
	m.nextOp++
	id := m.nextOp
	ctx, cancel := context.WithCancel(m.ctx)
	m.ops[id] = &opRecord{label: label, cancel: cancel, done: done}
	run := func() tea.Msg {
		defer cancel()
		val, err := fn(ctx)
		return opDoneMsg{id: id, val: val, err: err}
	}
	cmds := []tea.Cmd{run}
	if !m.spinning {
		m.spinning = true
		cmds = append(cmds, m.spin.Tick)
	}
	return id, tea.Batch(cmds...)
}

// startQuiet is start for background refreshes.
func (m *Model) startQuiet(label string, fn func(ctx context.Context) (any, error), done func(val any, err error) tea.Cmd) (int, tea.Cmd) {
	id, cmd := m.start(label, fn, done)
	m.ops[id].quiet = true
	return id, cmd
}

// running reports whether operation id is still in flight.
func (m *Model) running(id int) bool {
	if id == 0 {
		return false
	}
	r, ok := m.ops[id]
	return ok && !r.cancelled
}

// cancelOp cancels an operation (Esc). Its request is abandoned; its result,
// when it comes, is dropped unless it holds something the person must not
// lose (see finishCancelled).
func (m *Model) cancelOp(id int) {
	if r, ok := m.ops[id]; ok && !r.cancelled {
		r.cancelled = true
		r.cancel()
	}
}

// stopOp cancels an operation's context but still hands its result to its
// done function: a bulk rotation stopped with Esc reports what it did.
func (m *Model) stopOp(id int) {
	if r, ok := m.ops[id]; ok && !r.cancelled {
		r.cancel()
	}
}

// cancelAll cancels everything in flight (quitting).
func (m *Model) cancelAll() {
	for id := range m.ops {
		m.cancelOp(id)
	}
}

func (m *Model) handleOpDone(msg opDoneMsg) tea.Cmd {
	r, ok := m.ops[msg.id]
	if !ok {
		return nil
	}
	delete(m.ops, msg.id)
	if r.cancelled {
		return m.finishCancelled(msg)
	}
	if r.done == nil {
		return nil
	}
	return r.done(msg.val, msg.err)
}

// finishCancelled handles the result of an operation the person cancelled.
// A token the server issued but the store refused is still shown (it is
// the only copy), and a request that may have changed a token on the server
// is still reported: cancelling does not make either go away.
func (m *Model) finishCancelled(msg opDoneMsg) tea.Cmd {
	var ns *account.NotStoredError
	var uo *account.UnknownOutcomeError
	switch {
	case errors.As(msg.err, &ns):
		return m.showIssued("Token issued before you cancelled", "", ns.Issued, ns.Err)
	case errors.As(msg.err, &uo):
		m.showError("Cancelled while the server was working", msg.err)
	default:
		if iss, ok := msg.val.(*account.Issued); ok && iss != nil && iss.Stored {
			// What happened comes first: a narrow status line cuts the name.
			m.setStatus("Cancelled too late: the server issued a token, saved as " + iss.Name)
			return m.reload()
		}
		if st, ok := msg.val.(*account.Status); ok && st != nil && st.SignedIn && msg.err == nil {
			// A sign-in request, once sent, runs to its answer.
			m.setStatus("Cancelled too late: the server signed in to " + st.Name + "; the session is saved")
			return m.reload()
		}
	}
	return nil
}

// flow is an operation the server may answer with a second-factor
// challenge: it runs once without an answer, and again with each answer the
// person gives in the challenge dialog, until it ends one way or another.
type flow struct {
	title string // the challenge dialog's title: "Sign in · prod"
	label string // what the spinner says: "Signing in…"
	intro string // said under the challenge's first line, when set
	login bool   // a sign-in: Esc also forgets the server's pending challenge
	acct  string
	// run performs the operation with an answer (nil the first time) or a
	// request for a new code.
	run func(ctx context.Context, ans *account.Answer, resend bool) (any, error)
	// done gets the final result: a value, or an error that is not a
	// challenge.
	done func(val any, err error) tea.Cmd
	// cancelled is called when the person gives up (Esc).
	cancelled func() tea.Cmd
	// answer, when set, takes the person's answer instead of running the
	// flow again (a bulk rotation runs its batch again itself).
	answer func(ans *account.Answer) tea.Cmd

	// owner is the dialog that started the flow; with replaceOwner the
	// challenge dialog takes its place, else it opens on top of it.
	owner        dialog
	replaceOwner bool

	opID int
	chal *challengeDialog
}

// runFlow starts or continues a flow.
func (m *Model) runFlow(f *flow, ans *account.Answer, resend bool) tea.Cmd {
	id, cmd := m.start(f.label, func(ctx context.Context) (any, error) {
		return f.run(ctx, ans, resend)
	}, func(val any, err error) tea.Cmd {
		return m.flowResult(f, val, err)
	})
	f.opID = id
	return cmd
}

func (m *Model) flowResult(f *flow, val any, err error) tea.Cmd {
	var ch *account.Challenge
	if errors.As(err, &ch) {
		if f.chal == nil {
			f.chal = newChallengeDialog(m, f, ch)
			if f.owner != nil && f.replaceOwner {
				m.replaceDialog(f.owner, f.chal)
			} else {
				m.pushDialog(f.chal)
			}
		} else {
			f.chal.setChallenge(ch)
		}
		return nil
	}
	if f.chal != nil {
		m.closeDialog(f.chal)
	}
	if f.owner != nil && f.replaceOwner {
		m.closeDialog(f.owner)
	}
	return f.done(val, err)
}

// cancelFlow gives up on a flow: its request is cancelled and, for a
// sign-in, the server's pending challenge is forgotten.
func (m *Model) cancelFlow(f *flow) tea.Cmd {
	m.cancelOp(f.opID)
	if f.chal != nil {
		m.closeDialog(f.chal)
	}
	if f.owner != nil && f.replaceOwner {
		m.closeDialog(f.owner)
	}
	var cmds []tea.Cmd
	if f.login {
		acct := f.acct
		_, cmd := m.startQuiet("", func(ctx context.Context) (any, error) {
			return nil, m.mgr.CancelPending(context.WithoutCancel(ctx), acct)
		}, func(any, error) tea.Cmd { return m.reload() })
		cmds = append(cmds, cmd)
	}
	if f.cancelled != nil {
		cmds = append(cmds, f.cancelled())
	}
	m.setStatus("Cancelled")
	return tea.Batch(cmds...)
}
