package tui

import (
	"context"
	"errors"
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"

	"keyturn/keystore"
)

// unlockDialog asks for the secrets file's passphrase when keyturn has none
// (no KEYTURN_FILE_PASSPHRASE): a prompt would read the terminal Bubble Tea
// owns. Until it is answered every store call waits (see
// keystore.Unlocker); a new file's passphrase is typed twice, since one
// typo would lock every secret saved after it.
type unlockDialog struct {
	u        keystore.Unlocker
	checking bool // the file's existence is being looked up
	create   bool // the file does not exist yet: ask twice
	again    bool // the second input has the focus
	first    textinput.Model
	second   textinput.Model
	err      string
	opID     int
}

// openStore shows the passphrase dialog if the store waits for one, and
// looks up whether its file exists. Called from Init.
func (m *Model) openStore() tea.Cmd {
	u := m.mgr.Vault().Unlocker()
	if u == nil || !u.Locked() {
		return nil
	}
	d := &unlockDialog{u: u, checking: true}
	d.first, d.second = passphraseInput(m), passphraseInput(m)
	d.first.Focus()
	m.pushDialog(d)
	_, cmd := startQuietOp(m, "", func(context.Context) (bool, error) {
		return u.Exists()
	}, func(exists bool, err error) []action {
		d.checking = false
		// An error here shows again, with its cause, when the file is read.
		d.create = err == nil && !exists
		return nil
	})
	return cmd
}

func passphraseInput(m *Model) textinput.Model {
	in := textinput.New()
	in.Prompt = "› "
	in.EchoMode = textinput.EchoPassword
	in.EchoCharacter = '•'
	in.CharLimit = 1024
	in.SetWidth(36)
	in.SetStyles(m.st.Input)
	return in
}

func (d *unlockDialog) restyle(m *Model) {
	d.first.SetStyles(m.st.Input)
	d.second.SetStyles(m.st.Input)
}

func (d *unlockDialog) capturesText() bool { return true }

func (d *unlockDialog) focused() *textinput.Model {
	if d.again {
		return &d.second
	}
	return &d.first
}

func (d *unlockDialog) update(m *Model, msg tea.Msg) []action {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		in := d.focused()
		var cmd tea.Cmd
		*in, cmd = in.Update(msg)
		return acts(runCmd(cmd))
	}
	switch {
	case key.Matches(k, m.keys.Cancel):
		m.cancelOp(d.opID)
		d.u.Close()
		m.storeClosed(d.u.Path())
		return acts(closeDlg(d))
	case m.running(d.opID) || d.checking:
		return nil
	case key.Matches(k, m.keys.Submit):
		return acts(runCmd(d.submit(m)))
	}
	in := d.focused()
	var cmd tea.Cmd
	*in, cmd = in.Update(k)
	return acts(runCmd(cmd))
}

func (d *unlockDialog) submit(m *Model) tea.Cmd {
	if d.focused().Value() == "" {
		d.err = "Type the passphrase first."
		return nil
	}
	d.err = ""
	if d.create && !d.again {
		d.again = true
		d.first.Blur()
		d.second.Focus()
		return nil
	}
	pass := []byte(d.first.Value())
	mismatch := d.create && d.second.Value() != d.first.Value()
	d.reset()
	if mismatch {
		d.err = "The two passphrases differ. Type it again, twice."
		return nil
	}
	var cmd tea.Cmd
	d.opID, cmd = startOp(m, "Opening the secrets file…", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, d.u.Unlock(ctx, pass)
	}, func(_ struct{}, err error) []action {
		switch {
		case err == nil:
			return acts(closeDlg(d), status("Opened the secrets file "+d.u.Path()))
		case errors.Is(err, keystore.ErrWrongPassphrase):
			d.err = "Wrong passphrase: it does not open " + d.u.Path() + ". Try again."
		default:
			// A damaged or unreadable file: asking again cannot help.
			d.u.Close()
			m.storeClosed(d.u.Path())
			m.banner.msg = err.Error() + "\n" + m.banner.msg
			return acts(closeDlg(d))
		}
		return nil
	})
	return cmd
}

// reset empties both inputs and puts the focus back on the first.
func (d *unlockDialog) reset() {
	d.first.SetValue("")
	d.second.SetValue("")
	d.again = false
	d.second.Blur()
	d.first.Focus()
}

// storeClosed says what a closed secrets file means.
func (m *Model) storeClosed(path string) {
	m.banner = &banner{
		title: "The secrets file stays closed",
		msg: "keyturn did not open " + path + ": nothing can be read from it or saved to it in this session. " +
			"Accounts signed in before cannot be used (their credentials are in it); a sign-in or a token a server issues now is kept only in this window (NOT saved).",
		hint: "Quit and restart keyturn to be asked for the passphrase again, or set " + keystore.EnvPassphrase + ".",
	}
}

// storeState is the header's note on a store waiting for its passphrase.
func (m *Model) storeState() string {
	u := m.mgr.Vault().Unlocker()
	switch {
	case u == nil:
		return ""
	case u.Closed():
		return " (closed)"
	case u.Locked():
		return " (locked)"
	}
	return ""
}

func (d *unlockDialog) view(m *Model, w, h int) string {
	dw := dialogWidth(70, w)
	inner := dw - 4
	path := d.u.Path()
	if n := len([]rune(path)); n > inner {
		path = "…" + string([]rune(path)[n-inner+1:]) // the file's name matters most
	}
	var b []string
	switch {
	case d.checking:
		b = append(b, "Looking for the secrets file:", path)
	case d.create:
		b = append(b, "keyturn keeps secrets in a new encrypted file:", path, "",
			wrap("Choose its passphrase: every secret saved there needs it, and nothing can recover it.", inner))
	default:
		b = append(b, "keyturn keeps secrets in this encrypted file:", path, "", "Type its passphrase to open it.")
	}
	b = append(b, "", m.st.FieldFocus.Render("Passphrase: ")+d.first.View())
	if d.create && d.again {
		b = append(b, m.st.FieldFocus.Render("Again:      ")+d.second.View())
	}
	if d.err != "" {
		b = append(b, m.st.Error.Render(wrap("✗ "+d.err, inner)))
	}
	if m.running(d.opID) {
		b = append(b, "", spinnerLine(m, "Opening the secrets file…"))
	}
	b = append(b, "", m.st.Faint.Render(wrap("Esc leaves it closed: nothing is read or saved until keyturn restarts.", inner)))
	return frame(m, "Open the secrets file", strings.Join(b, "\n"), dw, false)
}

func (d *unlockDialog) short(k keyMap) []key.Binding {
	return []key.Binding{k.Submit, k.Cancel}
}
