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

// opDoneMsg is the result of one operation, already bound to the typed
// functions that handle it: nothing in Update asserts a result's type.
type opDoneMsg struct {
	id  int
	err error
	// done hands the result to the op's done function; nil when it has none.
	done func() []action
	// late hands the result to the op's late-result handler, for when the
	// op was cancelled; nil when it has none.
	late func() []action
}

// opRecord is an operation in flight.
type opRecord struct {
	label     string
	cancel    context.CancelFunc
	cancelled bool
	quiet     bool // a background refresh: no spinner in the header
}

// startOp runs fn in a command. done is called in Update with its result,
// unless the operation was cancelled first (see finishCancelled). A generic
// function rather than a method: methods cannot have type parameters.
func startOp[T any](m *Model, label string, fn func(ctx context.Context) (T, error), done func(val T, err error) []action) (int, tea.Cmd) {
	return startOpLate(m, label, fn, done, nil)
}

// startOpLate is startOp with a late-result handler: what a result that
// comes back after the person cancelled still says (see lateIssued,
// lateSignIn).
func startOpLate[T any](m *Model, label string, fn func(ctx context.Context) (T, error), done, late func(val T, err error) []action) (int, tea.Cmd) {
	m.nextOp++
	id := m.nextOp
	ctx, cancel := context.WithCancel(m.ctx)
	m.ops[id] = &opRecord{label: label, cancel: cancel}
	run := func() tea.Msg {
		defer cancel()
		val, err := fn(ctx)
		msg := opDoneMsg{id: id, err: err}
		if done != nil {
			msg.done = func() []action { return done(val, err) }
		}
		if late != nil {
			msg.late = func() []action { return late(val, err) }
		}
		return msg
	}
	cmds := []tea.Cmd{run}
	if !m.spinning {
		m.spinning = true
		cmds = append(cmds, m.spin.Tick)
	}
	return id, tea.Batch(cmds...)
}

// startQuietOp is startOp for background refreshes.
func startQuietOp[T any](m *Model, label string, fn func(ctx context.Context) (T, error), done func(val T, err error) []action) (int, tea.Cmd) {
	id, cmd := startOp(m, label, fn, done)
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
	if msg.done == nil {
		return nil
	}
	return m.apply(msg.done())
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
		return m.apply(m.showIssued("Token issued before you cancelled", "", ns.Issued, ns.Err))
	case errors.As(msg.err, &uo):
		m.apply(acts(errorBanner("Cancelled while the server was working", msg.err)))
	case msg.late != nil:
		return m.apply(msg.late())
	}
	return nil
}

// lateIssued is the late-result handler of an op that issues a token: a
// token saved after the person cancelled is still reported.
func lateIssued(iss *account.Issued, _ error) []action {
	if iss == nil || !iss.Stored {
		return nil
	}
	// What happened comes first: a narrow status line cuts the name.
	return acts(status("Cancelled too late: the server issued a token, saved as "+iss.Name), reloadScreen())
}

// lateSignIn is the late-result handler of an op that returns an account's
// status: a sign-in request, once sent, runs to its answer.
func lateSignIn(st *account.Status, err error) []action {
	if st == nil || !st.SignedIn || err != nil {
		return nil
	}
	return acts(status("Cancelled too late: the server signed in to "+st.Name+"; the session is saved"), reloadScreen())
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
	// launch starts the operation with an answer (nil the first time) or
	// a request for a new code; set by bindFlow.
	launch func(m *Model, ans *account.Answer, resend bool) (int, tea.Cmd)
	// cancelled is called when the person gives up (Esc).
	cancelled func() []action
	// answer, when set, takes the person's answer instead of running the
	// flow again (a bulk rotation runs its batch again itself).
	answer func(ans *account.Answer) []action

	// owner is the dialog that started the flow; with replaceOwner the
	// challenge dialog takes its place, else it opens on top of it.
	owner        dialog
	replaceOwner bool
	// inline, when set, lets the owner keep an error the person can fix
	// there (a wrong password, a name taken): it reports whether it did,
	// with what the owner does about it, and the owner comes back in the
	// challenge dialog's place.
	inline func(err error) ([]action, bool)

	opID int
	chal *challengeDialog
}

// bindFlow gives a flow its typed operation: run performs it with an answer
// (nil the first time) or a request for a new code; done gets the final
// result, a value or an error that is not a challenge; late, when set, is the
// op's late-result handler (see startOpLate).
func bindFlow[T any](f *flow, run func(ctx context.Context, ans *account.Answer, resend bool) (T, error), done, late func(val T, err error) []action) *flow {
	f.launch = func(m *Model, ans *account.Answer, resend bool) (int, tea.Cmd) {
		return startOpLate(m, f.label, func(ctx context.Context) (T, error) {
			return run(ctx, ans, resend)
		}, func(val T, err error) []action {
			return m.flowResult(f, err, func() []action { return done(val, err) })
		}, late)
	}
	return f
}

// runFlow starts or continues a flow.
func (m *Model) runFlow(f *flow, ans *account.Answer, resend bool) tea.Cmd {
	if f.launch == nil {
		// A flow that only takes answers (a bulk run asks its own batch
		// again) has nothing to run: a method switch or a resend there is
		// handled by the challenge dialog itself or not offered.
		return nil
	}
	id, cmd := f.launch(m, ans, resend)
	f.opID = id
	return cmd
}

// flowResult routes a flow's result: a challenge opens or updates the
// challenge dialog, anything else closes the flow's dialogs and goes to
// finish (the flow's done function with the result).
func (m *Model) flowResult(f *flow, err error, finish func() []action) []action {
	var ch *account.Challenge
	if errors.As(err, &ch) {
		if f.chal != nil {
			f.chal.setChallenge(ch)
			return nil
		}
		f.chal = newChallengeDialog(m, f, ch)
		if f.owner != nil && f.replaceOwner {
			return acts(replaceDlg(f.owner, f.chal))
		}
		return acts(openDlg(f.chal))
	}
	if err != nil && f.owner != nil && f.inline != nil {
		if then, kept := f.inline(err); kept {
			return append(f.backToOwner(), then...)
		}
	}
	// The flow's dialogs close before finish runs: it may look at what is
	// open.
	cmd := m.apply(f.closeDialogs())
	return append(acts(runCmd(cmd)), finish()...)
}

// backToOwner puts the flow's owner back where its challenge dialog is,
// if one took its place, for another try.
func (f *flow) backToOwner() []action {
	ch := f.chal
	f.chal = nil
	switch {
	case ch == nil:
		return nil
	case f.replaceOwner:
		return acts(replaceDlg(ch, f.owner))
	}
	return acts(closeDlg(ch))
}

// closeDialogs closes the challenge dialog, and the owner the challenge
// took the place of.
func (f *flow) closeDialogs() []action {
	var as []action
	if f.chal != nil {
		as = append(as, closeDlg(f.chal))
	}
	if f.owner != nil && f.replaceOwner {
		as = append(as, closeDlg(f.owner))
	}
	return as
}

// cancelFlow gives up on a flow: its request is cancelled and, for a
// sign-in, the server's pending challenge is forgotten.
func (m *Model) cancelFlow(f *flow) []action {
	m.cancelOp(f.opID)
	as := f.closeDialogs()
	if f.login {
		acct := f.acct
		_, cmd := startQuietOp(m, "", func(ctx context.Context) (struct{}, error) {
			return struct{}{}, m.mgr.CancelPending(context.WithoutCancel(ctx), acct)
		}, func(struct{}, error) []action { return acts(reloadScreen()) })
		as = append(as, runCmd(cmd))
	}
	if f.cancelled != nil {
		as = append(as, f.cancelled()...)
	}
	return append(as, status("Cancelled"))
}
