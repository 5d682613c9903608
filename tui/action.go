package tui

import tea "charm.land/bubbletea/v2"

// An action is what a dialog or a screen asks of the model: close, replace
// or open a dialog, put an error in the banner, say something in the status
// line, reload what is on screen, quit, or run a command. Dialogs return
// actions instead of changing the dialog stack, the banner or the status
// line themselves; Model.apply carries them out, in order, within the same
// Update, so the next View already shows the result.
type action interface{ isAction() }

type (
	closeAction   struct{ d dialog }
	replaceAction struct{ old, d dialog }
	openAction    struct{ d dialog }
	errorAction   struct {
		title string
		err   error
	}
	statusAction   struct{ text string }
	successAction  struct{ acct, text string }
	resolvedAction struct{ acct string }
	reloadAction   struct{}
	quitAction     struct{}
	cmdAction      struct{ cmd tea.Cmd }
)

func (closeAction) isAction()    {}
func (replaceAction) isAction()  {}
func (openAction) isAction()     {}
func (errorAction) isAction()    {}
func (statusAction) isAction()   {}
func (successAction) isAction()  {}
func (resolvedAction) isAction() {}
func (reloadAction) isAction()   {}
func (quitAction) isAction()     {}
func (cmdAction) isAction()      {}

// closeDlg closes d wherever it is in the stack.
func closeDlg(d dialog) action { return closeAction{d} }

// replaceDlg puts d in old's place (on top when old is gone).
func replaceDlg(old, d dialog) action { return replaceAction{old, d} }

// openDlg opens d on top.
func openDlg(d dialog) action { return openAction{d} }

// errorBanner puts err in the banner under title (nothing when err is nil).
func errorBanner(title string, err error) action { return errorAction{title, err} }

// succeeded says text in the status line for an action on acct that
// worked, and drops the banner's failure about acct (or about no account):
// it no longer stands.
func succeeded(acct, text string) action { return successAction{acct, text} }

// resolved drops the banner's failure about acct (or about no account):
// an action on acct just worked.
func resolved(acct string) action { return resolvedAction{acct} }

// status says text in the status line.
func status(text string) action { return statusAction{text} }

// reloadScreen refreshes what is on screen (Model.reload).
func reloadScreen() action { return reloadAction{} }

// quitNow asks the model to quit (Model.quit).
func quitNow() action { return quitAction{} }

// runCmd runs a command; a nil command does nothing.
func runCmd(cmd tea.Cmd) action { return cmdAction{cmd} }

// acts is a list of actions, for a return statement.
func acts(a ...action) []action { return a }

// apply carries out actions in order and returns the commands they started.
// It is the one place where a dialog's wishes change the model.
func (m *Model) apply(as []action) tea.Cmd {
	var cmds []tea.Cmd
	for _, a := range as {
		switch a := a.(type) {
		case closeAction:
			m.closeDialog(a.d)
		case replaceAction:
			m.replaceDialog(a.old, a.d)
		case openAction:
			m.pushDialog(a.d)
		case errorAction:
			m.showError(a.title, a.err)
		case statusAction:
			m.setStatus(a.text)
		case successAction:
			m.succeeded(a.acct, a.text)
		case resolvedAction:
			m.clearBannerFor(a.acct)
		case reloadAction:
			cmds = append(cmds, m.reload())
		case quitAction:
			cmds = append(cmds, m.quit())
		case cmdAction:
			cmds = append(cmds, a.cmd)
		}
	}
	return tea.Batch(cmds...)
}
