package tui

import (
	"slices"
	"strings"

	tea "charm.land/bubbletea/v2"

	"keyturn/account"
)

// quitWait is a quit that waits for requests that issue tokens: once sent,
// their answers are stored before keyturn ends (account.Manager.issuing).
type quitWait struct {
	what    []account.InFlight
	unsaved int    // tokens already unsaved when quitting began
	mfa     string // what an MFA setup already risked then (mfaAtRisk)
}

// inFlight lists the issuing requests on their way.
func (m *Model) inFlight() []account.InFlight {
	if m.mgr == nil {
		return nil
	}
	return m.mgr.InFlight()
}

// settleQuit ends a waiting quit once nothing issuing is on its way, unless
// an answer came that could not be stored: then the person must see it.
func (m *Model) settleQuit() tea.Cmd {
	if m.quitting == nil {
		return nil
	}
	if fl := m.inFlight(); len(fl) > 0 {
		m.quitting.what = fl
		m.noteWaited(fl)
		return nil
	}
	q := m.quitting
	m.quitting = nil
	if m.hungUp {
		if d := m.unsavedBackupCodes(); d != nil && !m.running(d.backupOp) {
			return d.storeBackup(m)
		}
		return tea.Quit
	}
	if len(m.unsaved) > q.unsaved || (q.mfa == "" && m.mfaAtRisk() != "") {
		// Not quitting after all: a later quit does not report this wait.
		m.waited = nil
	}
	if len(m.unsaved) > q.unsaved {
		m.setStatus("Not quitting: a token arrived that could NOT be saved; copy it or save it, then quit")
		return nil
	}
	if q.mfa == "" && m.mfaAtRisk() != "" {
		m.setStatus(m.notQuittingForMFA())
		return nil
	}
	return tea.Quit
}

// keyQuit is a quit asked for by a key: a signal that asked before (and
// whose confirmation was declined) is no longer why keyturn quits.
func (m *Model) keyQuit() tea.Cmd {
	m.quitSig = nil
	return m.requestQuit()
}

// noteWaited adds what a quit waits for to what Run reports afterwards.
func (m *Model) noteWaited(fl []account.InFlight) {
	for _, f := range fl {
		if !slices.Contains(m.waited, f) {
			m.waited = append(m.waited, f)
		}
	}
}

// hangUp quits after SIGHUP. Nobody is left to answer a dialog, so nothing
// is asked and nothing keeps keyturn open, but issuing requests on their way
// are still waited for and stored; another hangup does not force.
func (m *Model) hangUp() tea.Cmd {
	m.hungUp = true
	if m.quitting != nil {
		return nil
	}
	if d := m.unsavedBackupCodes(); d != nil {
		return d.storeBackup(m) // and quits once stored (or refused)
	}
	return m.quit()
}

// unsavedBackupCodes is an MFA setup showing backup codes that are shown
// only once and not saved yet, or nil. After a hangup nobody can see them
// any more, so keyturn keeps them in the store rather than lose them.
func (m *Model) unsavedBackupCodes() *mfaDialog {
	for _, d := range m.dialogs {
		if md, ok := d.(*mfaDialog); ok && md.phase == mfaDone && len(md.backup) > 0 && md.backupSaved == nil {
			return md
		}
	}
	return nil
}

// forceQuit quits without waiting (a second ctrl+c); Run names what may
// be lost.
func (m *Model) forceQuit() tea.Cmd {
	m.forced = m.inFlight()
	m.quitting = nil
	return tea.Quit
}

func (m *Model) quitWaitView(w int) string {
	ws := make([]string, 0, len(m.quitting.what))
	for _, f := range m.quitting.what {
		ws = append(ws, f.What)
	}
	body := strings.Join([]string{
		m.spin.View() + " Waiting for " + strings.Join(ws, " and ") + " to answer and be stored.",
		"The server may already have issued the token: keyturn keeps it before it quits.",
		"",
		m.st.Faint.Render("ctrl+c again quits now: that token may then be lost"),
	}, "\n")
	return frame(m, "Quitting…", wrap(body, dialogWidth(72, w)-4), dialogWidth(72, w), false)
}

// notQuittingForMFA is the status when a quit's wait ended on an MFA
// answer that must not be left unseen.
func (m *Model) notQuittingForMFA() string {
	for _, d := range m.dialogs {
		if md, ok := d.(*mfaDialog); ok && md.phase == mfaShow && md.replace {
			return "Not quitting: the MFA secret of " + md.st.Name + " is already replaced and the new one is not activated; activate it, then quit"
		}
	}
	return "Not quitting: the MFA activation answered with backup codes shown only once; save or copy them, then quit"
}

// mfaAtRisk says what quitting loses in an open MFA setup: a replaced
// secret not yet activated, or backup codes not yet saved.
func (m *Model) mfaAtRisk() string {
	for _, d := range m.dialogs {
		md, ok := d.(*mfaDialog)
		if !ok {
			continue
		}
		switch {
		case md.phase == mfaShow && md.replace:
			return "The MFA secret of " + md.st.Name + " is already replaced on the server and the new one is not activated: quitting leaves your authenticator app with neither."
		}
	}
	if md := m.unsavedBackupCodes(); md != nil {
		return "The backup codes of " + md.st.Name + " are not saved and will not be shown again: quitting loses them."
	}
	return ""
}
