package tui

import (
	"context"
	"errors"
	"strings"
	"unicode"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"

	"keyturn/account"
	"keyturn/qr"
)

type mfaPhase int

const (
	mfaStarting   mfaPhase = iota // BeginMFA in flight
	mfaAskReplace                 // MFA is active: replace it on purpose?
	mfaShow                       // QR, secret, code input
	mfaDone                       // active; Rocket.Chat's backup codes
)

// mfaDialog sets up TOTP: the QR code of the otpauth URI (dark on light,
// centred), the secret in groups of four, c to copy it, then the first code
// and the activation result. When the window is too small for the code it
// says so and shows the secret and the URI instead: a cropped code is never
// drawn.
type mfaDialog struct {
	st      account.Status
	phase   mfaPhase
	replace bool
	setup   *account.MFASetup
	qr      []string
	qrErr   error
	input   textinput.Model
	showURI bool
	f       *flow
	err     string
	note    string
	leaving bool

	backup         []string
	backupRevealed bool
	backupSaved    *account.Issued
	backupOp       int
}

// openMFA opens the MFA setup for an account and asks the server for a new
// secret.
func (m *Model) openMFA(st account.Status, replace bool) []action {
	d := &mfaDialog{st: st, input: newCodeInput(m)}
	return acts(openDlg(d), runCmd(d.begin(m, replace)))
}

// askReplaceMFA opens the MFA setup on its replace question, for an
// account the screen already knows has TOTP active: no check runs first,
// so a y typed right after m answers it instead of being dropped.
func (m *Model) askReplaceMFA(st account.Status) []action {
	return acts(openDlg(&mfaDialog{st: st, phase: mfaAskReplace, input: newCodeInput(m)}))
}

func newCodeInput(m *Model) textinput.Model {
	in := textinput.New()
	in.Prompt = "› "
	in.Placeholder = "6 digits"
	in.CharLimit = 8
	in.SetWidth(10)
	in.SetStyles(m.st.Input)
	return in
}

func (d *mfaDialog) restyle(m *Model) { d.input.SetStyles(m.st.Input) }

func (d *mfaDialog) busy(m *Model) bool { return d.f != nil && m.running(d.f.opID) }

func (d *mfaDialog) begin(m *Model, replace bool) tea.Cmd {
	d.phase, d.replace, d.err, d.note = mfaStarting, replace, "", ""
	name := d.st.Name
	f := &flow{title: "Set up MFA · " + name, label: "Asking " + serviceName(d.st.Service) + " for a new secret…", acct: name, owner: d}
	bindFlow(f, func(ctx context.Context, ans *account.Answer, _ bool) (*account.MFASetup, error) {
		return m.mgr.BeginMFA(ctx, name, replace, ans)
	}, func(val *account.MFASetup, err error) []action {
		if !m.dialogOpen(d) {
			return nil
		}
		switch {
		case errors.Is(err, account.ErrMFAActive) && !account.Info(d.st.Service).MFA.Replaceable:
			// Rocket.Chat cannot replace an active secret at all.
			return acts(closeDlg(d), status("TOTP is already active on "+name+". To set it up again, disable it first (M, with a current code)."))
		case errors.Is(err, account.ErrMFAActive):
			d.phase = mfaAskReplace
			return nil
		case err != nil:
			return acts(closeDlg(d), errorBanner("MFA setup for "+name+" failed", err))
		}
		d.setup = val
		d.qr, d.qrErr = qr.Render(d.setup.URL)
		d.phase = mfaShow
		return acts(runCmd(d.input.Focus()))
	}, nil)
	f.cancelled = func() []action { return acts(closeDlg(d)) }
	d.f = f
	return m.runFlow(f, nil, false)
}

func (d *mfaDialog) activate(m *Model, code string) tea.Cmd {
	name := d.st.Name
	f := &flow{title: "Activate MFA · " + name, label: "Activating…", acct: name, owner: d}
	bindFlow(f, func(ctx context.Context, ans *account.Answer, _ bool) ([]string, error) {
		return m.mgr.ActivateMFA(ctx, name, code, ans)
	}, func(val []string, err error) []action {
		if !m.dialogOpen(d) {
			if err == nil {
				return acts(succeeded(name, "MFA is active on "+name), reloadScreen())
			}
			return acts(reloadScreen())
		}
		if err != nil {
			// A wrong code keeps the setup open with the server's words.
			d.err = m.errText(err)
			d.input.SetValue("")
			return nil
		}
		d.phase = mfaDone
		d.backup = val
		d.input.Blur()
		return acts(succeeded(name, "MFA is active on "+name), reloadScreen())
	}, nil)
	d.f = f
	return m.runFlow(f, nil, false)
}

func (d *mfaDialog) capturesText() bool { return false }

func (d *mfaDialog) update(m *Model, msg tea.Msg) []action {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		if p, ok := msg.(tea.PasteMsg); ok && d.phase == mfaShow {
			d.input, _ = d.input.Update(tea.PasteMsg{Content: digits(p.Content)})
		}
		return nil
	}
	if d.leaving {
		switch {
		case key.Matches(k, m.keys.Yes):
			// The row shows the unconfirmed secret.
			return acts(closeDlg(d), status("MFA setup left unfinished"), reloadScreen())
		case key.Matches(k, m.keys.No), key.Matches(k, m.keys.Cancel):
			d.leaving = false
		}
		return nil
	}
	if key.Matches(k, m.keys.Cancel) {
		switch {
		case d.busy(m) && d.phase == mfaStarting && d.replace:
			// Once sent, the replacement runs to its answer (the new
			// secret, the only copy), which this dialog still shows.
			m.stopOp(d.f.opID)
			return acts(status("Cancelling: if the server has already replaced the secret, the new one is shown"))
		case d.busy(m):
			m.cancelOp(d.f.opID)
			if d.phase == mfaStarting {
				return acts(closeDlg(d), status("Cancelled"))
			}
			return acts(status("Cancelled"))
		case d.phase == mfaShow && d.replace:
			d.leaving = true
			return nil
		case d.phase == mfaDone && len(d.backup) > 0 && d.backupSaved == nil:
			d.leaving = true
			return nil
		}
		return acts(closeDlg(d))
	}
	if d.busy(m) {
		return nil
	}
	switch d.phase {
	case mfaAskReplace:
		switch {
		case key.Matches(k, m.keys.Yes):
			return acts(runCmd(d.begin(m, true)))
		case key.Matches(k, m.keys.No):
			return acts(closeDlg(d))
		}
	case mfaShow:
		switch {
		case key.Matches(k, m.keys.Copy):
			d.note = "Secret copied to the clipboard (OSC 52). Your terminal must allow it."
			return acts(runCmd(tea.SetClipboard(d.setup.Secret)))
		case key.Matches(k, m.keys.URI):
			d.showURI = !d.showURI
		case key.Matches(k, m.keys.Submit):
			code := strings.TrimSpace(d.input.Value())
			if len(code) < 6 {
				d.err = "Type the 6-digit code your authenticator app shows for this account."
				return nil
			}
			d.err = ""
			return acts(runCmd(d.activate(m, code)))
		default:
			if k.Text != "" {
				k.Text = digits(k.Text)
				if k.Text == "" {
					return nil
				}
			}
			var cmd tea.Cmd
			d.input, cmd = d.input.Update(k)
			return acts(runCmd(cmd))
		}
	case mfaDone:
		switch {
		case key.Matches(k, m.keys.Reveal) && len(d.backup) > 0:
			d.backupRevealed = !d.backupRevealed
		case key.Matches(k, m.keys.Copy) && len(d.backup) > 0:
			d.note = "Backup codes copied to the clipboard (OSC 52)."
			return acts(runCmd(tea.SetClipboard(strings.Join(d.backup, "\n"))))
		case key.Matches(k, m.keys.Retry) && len(d.backup) > 0 && d.backupSaved == nil && !m.running(d.backupOp):
			return acts(runCmd(d.storeBackup(m)))
		case key.Matches(k, m.keys.Submit):
			if len(d.backup) > 0 && d.backupSaved == nil {
				d.leaving = true
				return nil
			}
			return acts(closeDlg(d))
		}
	}
	return nil
}

func (d *mfaDialog) storeBackup(m *Model) tea.Cmd {
	name, codes := d.st.Name, d.backup
	var cmd tea.Cmd
	d.backupOp, cmd = startOpLate(m, "Saving the backup codes…", func(ctx context.Context) (*account.Issued, error) {
		return m.mgr.StoreBackupCodes(ctx, name, codes)
	}, func(val *account.Issued, err error) []action {
		as := d.backupStored(m, val, err)
		if m.hungUp {
			// Nobody is left to see what came of it: on to the quit.
			return append(as, quitNow())
		}
		return as
	}, lateIssued)
	return cmd
}

// backupStored shows what came of saving the backup codes.
func (d *mfaDialog) backupStored(m *Model, val *account.Issued, err error) []action {
	var ns *account.NotStoredError
	if errors.As(err, &ns) {
		rd := &resultDialog{title: "Backup codes NOT saved", what: "Rocket.Chat's one-time TOTP backup codes", iss: ns.Issued, storeErr: ns.Err}
		m.addUnsaved(ns.Issued)
		return acts(closeDlg(d), openDlg(rd))
	}
	if err != nil {
		d.err = m.errText(err)
		return nil
	}
	d.backupSaved = val
	return nil
}

func digits(s string) string {
	var b strings.Builder
	for _, r := range s {
		if unicode.IsDigit(r) {
			b.WriteRune(r)
		}
	}
	return b.String()
}

func (d *mfaDialog) view(m *Model, w, h int) string {
	title := "Set up MFA · " + d.st.Name
	switch d.phase {
	case mfaStarting:
		return frame(m, title, spinnerLine(m, d.f.label), dialogWidth(64, w), false)
	case mfaAskReplace:
		dw := dialogWidth(68, w)
		body := wrap("MFA is already active on "+d.st.Name+".", dw-4) + "\n\n" +
			wrap("Setting it up again replaces the secret on the server at once: the entry in your authenticator app stops working until you scan the new code.", dw-4) +
			"\n\n" + m.st.Bold.Render("Replace the secret?") + "  " + m.st.ButtonOn.Render("y Replace") + " " + m.st.Button.Render("n Keep it")
		return frame(m, title, body, dw, true)
	case mfaDone:
		return d.doneView(m, w)
	}
	return d.showView(m, w, h)
}

func (d *mfaDialog) doneView(m *Model, w int) string {
	dw := dialogWidth(70, w)
	inner := dw - 4
	var b []string
	b = append(b, m.st.OK.Render("✓ MFA is active on "+d.st.Name+"."), wrap("From now on, signing in asks for a code from your authenticator app.", inner))
	if len(d.backup) > 0 {
		b = append(b, "")
		for i, l := range strings.Split(wrap("Backup codes — shown only once; each works one time if you lose the app:", inner), "\n") {
			if i == 0 {
				if rest, ok := strings.CutPrefix(l, "Backup codes"); ok {
					b = append(b, m.st.Bold.Render("Backup codes")+m.st.Subtle.Render(rest))
					continue
				}
			}
			b = append(b, m.st.Subtle.Render(l))
		}
		codes := make([]string, len(d.backup))
		for i, c := range d.backup {
			if d.backupRevealed {
				codes[i] = c
			} else {
				codes[i] = strings.Repeat("•", len(c))
			}
		}
		b = append(b, wrap(strings.Join(codes, "  "), inner))
		switch {
		case d.backupSaved != nil:
			b = append(b, m.st.OK.Render(wrap("✓ Saved to "+storeName(d.backupSaved.Store)+" as "+d.backupSaved.Name, inner)))
		case m.running(d.backupOp):
			b = append(b, spinnerLine(m, "Saving…"))
		default:
			b = append(b, m.st.Warn.Render(wrap("Not saved: s saves them to "+storeName(m.mgr.Store())+".", inner)))
		}
	}
	if d.err != "" {
		b = append(b, m.st.Error.Render(wrap("✗ "+d.err, inner)))
	}
	if d.note != "" {
		b = append(b, m.st.Accent.Render(wrap(d.note, inner)))
	}
	if d.leaving {
		b = append(b, "", m.st.Error.Render(wrap("The backup codes are not saved and will not be shown again. Close anyway? y/n", inner)))
	}
	return frame(m, "MFA active · "+d.st.Name, strings.Join(b, "\n"), dw, false)
}

// showView lays out the QR code and the text: side by side when the window
// is wide enough, stacked when it is tall enough, else the text alone with
// a word on why.
func (d *mfaDialog) showView(m *Model, w, h int) string {
	title := "Set up MFA · " + d.st.Name
	innerW := w - 4 // border and padding
	textW := min(46, innerW)
	text := d.textBlock(m, textW, false)
	qw, qh := qr.Size(d.qr)
	beside, above := d.framedLayout(m, w, h)
	var body string
	switch {
	case beside:
		body = lipgloss.JoinHorizontal(lipgloss.Center, d.qrBlock(m), "   ", text)
	case above:
		body = lipgloss.JoinVertical(lipgloss.Center, d.qrBlock(m), "", text)
	default:
		// The least the code takes is the whole window with one caption
		// line (fullScreenView): say that, against the window's own size.
		why := "The window is too small for the QR code: it needs " + itoa(qw) + "×" + itoa(qh+1) + " cells, this one is " + itoa(m.width) + "×" + itoa(m.height) + ". Enlarge the window to scan it, or type the secret into your app by hand:"
		switch {
		case d.qrErr != nil:
			why = "The QR code cannot be drawn (" + d.qrErr.Error() + "). Type the secret into your app by hand:"
		case qr.Fits(d.qr, m.width, m.height-1):
			// The full-screen code fits: the person asked for the text (u).
			why = "Type the secret into your app by hand, or press u to scan the QR code again:"
		}
		textW = min(innerW, 76)
		body = m.st.Warn.Render(wrap(why, textW)) + "\n\n" + d.textBlock(m, textW, true)
	}
	return frame(m, title, body, max(lipgloss.Width(body), lipgloss.Width(title))+4, false)
}

// fullScreenView is the QR code alone on the screen with one caption line
// (the code field and the keys), for a window where the dialog's frame and
// text would not leave room for it: at 80×24 an otpauth URI's code (41
// modules and a 2-module quiet zone: 45×23 cells) fits only so. It reports
// false when the framed dialog fits, or the code fits nowhere, or the
// person asked for the secret as text (u).
func (d *mfaDialog) fullScreenView(m *Model, w, h int) (string, bool) {
	if d.phase != mfaShow || d.qrErr != nil || d.showURI || d.leaving || !qr.Fits(d.qr, w, h-1) {
		return "", false
	}
	if beside, above := d.framedLayout(m, w-2, h-2); beside || above {
		return "", false
	}
	var caption string
	switch {
	case d.f != nil && m.running(d.f.opID):
		caption = spinnerLine(m, d.f.label)
	case d.err != "":
		caption = m.st.Error.Render("✗ "+d.err) + "  " + d.input.View()
	case d.note != "":
		caption = m.st.Accent.Render(d.note) + "  " + d.input.View()
	default:
		caption = m.st.FieldFocus.Render("Scan it, then the code: ") + d.input.View() +
			m.st.Faint.Render("  u secret as text · c copy · esc cancel")
	}
	qrLines := strings.Split(d.qrBlock(m), "\n")
	body := lipgloss.PlaceHorizontal(w, lipgloss.Center, strings.Join(qrLines, "\n"))
	return fitBlock(body, w, h-1) + "\n" + truncate(caption, w), true
}

// framedLayout says where showView, given w×h, puts the code: beside the
// text, above it, or (both false) nowhere.
func (d *mfaDialog) framedLayout(m *Model, w, h int) (beside, above bool) {
	if d.qrErr != nil {
		return false, false
	}
	innerW, innerH := w-4, h-4 // border and padding; border, title and the blank line under it
	tw, th := lipgloss.Size(d.textBlock(m, min(46, innerW), false))
	beside = qr.Fits(d.qr, innerW-tw-3, innerH) && innerH >= th
	return beside, !beside && qr.Fits(d.qr, innerW, innerH-th-1)
}

// qrBlock draws the code dark on light: bright white on black with the
// half blocks inverted by the terminal's palette. With no colours at all
// (NO_COLOR), the glyphs themselves are flipped for a light background.
func (d *mfaDialog) qrBlock(m *Model) string {
	lines := d.qr
	if m.profile <= colorprofile.ASCII {
		if !m.dark {
			lines = invertQR(lines)
		}
		return strings.Join(lines, "\n")
	}
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = m.st.QR.Render(l)
	}
	return strings.Join(out, "\n")
}

// invertQR swaps light and dark half blocks, for terminals drawing dark
// glyphs on a light background with no colours to pin.
func invertQR(lines []string) []string {
	r := strings.NewReplacer("█", " ", " ", "█", "▀", "▄", "▄", "▀")
	out := make([]string, len(lines))
	for i, l := range lines {
		out[i] = r.Replace(l)
	}
	return out
}

func (d *mfaDialog) textBlock(m *Model, w int, withURI bool) string {
	var b []string
	if withURI {
		b = append(b, m.st.Subtle.Render("Secret:"))
	} else {
		b = append(b, wrap("Scan the code with your authenticator app, or type this secret into it:", w), "")
	}
	b = append(b, "  "+m.st.Bold.Render(account.GroupSecret(d.setup.Secret)), "")
	if withURI || d.showURI {
		b = append(b, m.st.Subtle.Render("otpauth URI:"), wrap(d.setup.URL, w), "")
	}
	b = append(b, m.st.Faint.Render("c copies the secret"+map[bool]string{true: "", false: " · u " + map[bool]string{true: "hides", false: "shows"}[d.showURI] + " the URI"}[withURI]), "")
	b = append(b, m.st.FieldFocus.Render("Code from the app: ")+d.input.View())
	if d.err != "" {
		b = append(b, m.st.Error.Render(wrap("✗ "+d.err, w)))
	}
	if d.note != "" {
		b = append(b, m.st.Accent.Render(wrap(d.note, w)))
	}
	if d.f != nil && m.running(d.f.opID) {
		b = append(b, spinnerLine(m, d.f.label))
	}
	if d.leaving {
		b = append(b, m.st.Error.Render(wrap("The old secret is already replaced: leaving now leaves your app with neither. Leave anyway? y/n", w)))
	}
	return strings.Join(b, "\n")
}

func (d *mfaDialog) short(k keyMap) []key.Binding {
	if d.leaving {
		return []key.Binding{k.Yes, k.No}
	}
	switch d.phase {
	case mfaAskReplace:
		return []key.Binding{k.Yes, k.No, k.Cancel}
	case mfaShow:
		uri := k.URI
		if d.showURI {
			uri = key.NewBinding(key.WithKeys(k.URI.Keys()...), key.WithHelp(k.URI.Help().Key, "hide URI"))
		}
		return []key.Binding{k.Submit, k.Copy, uri, k.Cancel}
	case mfaDone:
		if len(d.backup) == 0 {
			return []key.Binding{k.Close}
		}
		reveal := k.Reveal
		if d.backupRevealed {
			reveal = k.Hide
		}
		bs := []key.Binding{reveal, k.Copy}
		if d.backupSaved == nil {
			bs = append(bs, k.Save)
		}
		return append(bs, k.Close)
	}
	return []key.Binding{k.Cancel}
}

// confirmDisableMFA switches TOTP off: Mattermost after a confirmation,
// Rocket.Chat with a current code.
func (m *Model) confirmDisableMFA(st account.Status) []action {
	name := st.Name
	f := &flow{title: "Disable MFA · " + name, label: "Disabling MFA…", acct: name}
	done := func(_ struct{}, err error) []action {
		if err != nil {
			return acts(errorBanner("Could not disable MFA on "+name, err), reloadScreen())
		}
		return acts(succeeded(name, "MFA is off on "+name), reloadScreen())
	}
	if mfa := account.Info(st.Service).MFA; mfa != nil && mfa.DisableNeedsCode {
		bindFlow(f, func(ctx context.Context, ans *account.Answer, _ bool) (struct{}, error) {
			code := ""
			if ans != nil {
				code = ans.Code
			}
			err := m.mgr.DisableMFA(ctx, name, code)
			var ch *account.Challenge
			if err != nil && !errors.As(err, &ch) && ctx.Err() == nil {
				// A refused code comes back as a plain error: keep the
				// dialog open with the server's words.
				return struct{}{}, &account.Challenge{Account: name, Service: st.Service, Step: "2fa", Method: methodTOTP,
					Methods: []string{methodTOTP}, Invalid: true, Message: err.Error()}
			}
			return struct{}{}, err
		}, done, nil)
		// Rocket.Chat wants a current code: ask for it as a challenge.
		f.chal = newChallengeDialog(m, f, &account.Challenge{Account: name, Service: st.Service, Step: "2fa",
			Method: methodTOTP, Methods: []string{methodTOTP}})
		return acts(openDlg(f.chal))
	}
	bindFlow(f, func(ctx context.Context, _ *account.Answer, _ bool) (struct{}, error) {
		return struct{}{}, m.mgr.DisableMFA(ctx, name, "")
	}, done, nil)
	return acts(openDlg(newConfirmDialog("Disable MFA on "+name+"?", []string{
		"Signing in to " + name + " will no longer ask for a code from the authenticator app.",
		"The entry in your app stops being useful; setting MFA up again makes a new secret.",
	}, "Disable", true, func() []action { return m.runAction("Disable MFA", f) })))
}
