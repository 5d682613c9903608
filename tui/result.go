package tui

import (
	"context"
	"errors"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"keyturn/account"
	"keyturn/textsafe"
)

// resultDialog shows a token a server just issued: masked until r, copied
// with c, and where it was saved, or, in red, that it was NOT saved, with
// save-again and copy. Leaving it while the token is unsaved asks first.
type resultDialog struct {
	title    string
	what     string
	iss      *account.Issued
	storeErr error
	revealed bool
	saving   int // the save-again operation
	// delivering is the deliver-again operation.
	delivering int
	leaving    bool
	note       string
}

// issuedTitles name the three ends of a flow that issues or reads a token.
type issuedTitles struct {
	notSaved string // the store refused it
	failed   string // the call failed
	saved    string // before the kind's name: "New", "Current"
}

// issuedDone ends such a flow: the result dialog says where the token was
// saved, or that it was NOT (and keeps it), or the error; then the screen
// is reloaded.
func (m *Model) issuedDone(what string, t issuedTitles) func(*account.Issued, error) []action {
	return func(iss *account.Issued, err error) []action {
		var ns *account.NotStoredError
		switch {
		case errors.As(err, &ns):
			return append(m.showIssued(t.notSaved, what, ns.Issued, ns.Err), reloadScreen())
		case err != nil:
			return acts(errorBanner(t.failed, err), reloadScreen())
		}
		return append(acts(resolved(iss.Account)), append(m.showIssued(t.saved+" "+kindName(iss.Kind), what, iss, nil), reloadScreen())...)
	}
}

// showIssued opens the result dialog for a token. storeErr non-nil means
// the store refused it: it is remembered as unsaved until saved.
func (m *Model) showIssued(title, what string, iss *account.Issued, storeErr error) []action {
	if iss == nil {
		return acts(errorBanner(title, storeErr))
	}
	if storeErr == nil && !iss.Stored {
		storeErr = errors.New("the store did not confirm it")
	}
	d := &resultDialog{title: title, what: what, iss: iss, storeErr: storeErr}
	if storeErr != nil {
		m.addUnsaved(iss)
	}
	return acts(openDlg(d))
}

func (d *resultDialog) saved() bool { return d.storeErr == nil }

func (d *resultDialog) update(m *Model, msg tea.Msg) []action {
	k, ok := msg.(tea.KeyPressMsg)
	if !ok {
		return nil
	}
	if d.leaving {
		switch {
		case key.Matches(k, m.keys.Yes):
			m.dropUnsaved(d.iss)
			return acts(closeDlg(d), status(d.iss.Name+" was discarded: it was never saved"))
		case key.Matches(k, m.keys.No), key.Matches(k, m.keys.Cancel):
			d.leaving = false
		}
		return nil
	}
	switch {
	case key.Matches(k, m.keys.Reveal):
		d.revealed = !d.revealed
	case key.Matches(k, m.keys.Copy):
		d.note = "Copied to the clipboard (OSC 52). Your terminal must allow it."
		return acts(runCmd(tea.SetClipboard(d.iss.Value)))
	case key.Matches(k, m.keys.Retry) && !d.saved():
		if m.running(d.saving) {
			return nil
		}
		return acts(runCmd(d.retry(m)))
	case key.Matches(k, m.keys.Deliver) && d.saved() && deliveryFailed(d.iss.Deliveries) > 0:
		if m.running(d.delivering) {
			return nil
		}
		return acts(runCmd(d.redeliver(m)))
	case key.Matches(k, m.keys.Close):
		if m.running(d.saving) {
			if key.Matches(k, m.keys.Cancel) {
				m.cancelOp(d.saving)
			}
			return nil
		}
		if !d.saved() {
			d.leaving = true
			return nil
		}
		return acts(closeDlg(d))
	}
	return nil
}

func (d *resultDialog) retry(m *Model) tea.Cmd {
	iss := d.iss
	d.note = ""
	var cmd tea.Cmd
	d.saving, cmd = startOp(m, "Saving "+iss.Name+"…", func(ctx context.Context) (struct{}, error) {
		return struct{}{}, m.mgr.RetryStore(ctx, iss)
	}, func(_ struct{}, err error) []action {
		if err != nil {
			var ns *account.NotStoredError
			if errors.As(err, &ns) {
				err = ns.Err
			}
			d.storeErr = err
			d.note = "Still NOT saved."
			return nil
		}
		d.storeErr = nil
		m.dropUnsaved(iss)
		d.note = "Saved."
		return acts(reloadScreen())
	})
	return cmd
}

func (d *resultDialog) view(m *Model, w, h int) string {
	iss := d.iss
	dw := dialogWidth(76, w)
	inner := dw - 4
	var b []string
	if d.what != "" {
		b = append(b, wrap(d.what, inner))
	}
	b = append(b, m.st.Subtle.Render(wrap(kindName(iss.Kind)+" · "+iss.Ref+" · account "+iss.Account, inner)))
	if iss.Expires != nil {
		b = append(b, m.st.Subtle.Render("expires "+dateTime(*iss.Expires)+" (in "+countdown(m.clock, *iss.Expires)+")"))
	}
	b = append(b, "")
	value := mask(iss.Value)
	if d.revealed {
		value = textsafe.Line(iss.Value) // shown only: the copy and the store get it as issued
	}
	for i, l := range strings.Split(wrap(value, inner-7), "\n") {
		if i == 0 {
			b = append(b, m.st.Bold.Render("Token: ")+l)
		} else {
			b = append(b, "       "+l)
		}
	}
	b = append(b, "")
	if d.saved() {
		b = append(b, m.st.OK.Render(wrap("✓ Saved to "+storeName(iss.Store)+" as "+textsafe.Line(iss.Name), inner)))
	} else {
		b = append(b, m.st.ErrorBG.Render("✗ NOT saved"))
		b = append(b, m.st.Error.Render(wrap(m.errText(d.storeErr), inner)))
		b = append(b, wrap("This window holds the only copy. Copy it (c), or fix the store and save it again (s).", inner))
	}
	for _, n := range iss.Notes {
		b = append(b, m.st.Warn.Render(wrap("• "+n, inner)))
	}
	for _, r := range iss.Next {
		b = append(b, m.st.Warn.Render(wrap("• "+m.remedyWords(r), inner)))
	}
	b = append(b, deliveryLines(m, iss.Deliveries, inner, "press "+m.keys.Deliver.Help().Key+" to deliver again")...)
	if m.running(d.delivering) {
		b = append(b, spinnerLine(m, "Delivering…"))
	}
	if d.note != "" {
		b = append(b, m.st.Accent.Render(wrap(d.note, inner)))
	}
	if m.running(d.saving) {
		b = append(b, spinnerLine(m, "Saving…"))
	}
	if d.leaving {
		b = append(b, "", m.st.Error.Render(wrap("The token is NOT saved anywhere. Closing loses it for good. Close anyway? y/n", inner)))
	}
	return frame(m, d.title, strings.Join(b, "\n"), dw, !d.saved())
}

func (d *resultDialog) short(k keyMap) []key.Binding {
	if d.leaving {
		return []key.Binding{k.Yes, k.No}
	}
	reveal := k.Reveal
	if d.revealed {
		reveal = k.Hide
	}
	bs := []key.Binding{reveal, k.Copy}
	if !d.saved() {
		bs = append(bs, k.Retry)
	}
	if d.saved() && deliveryFailed(d.iss.Deliveries) > 0 {
		bs = append(bs, k.Deliver)
	}
	return append(bs, k.Close)
}
