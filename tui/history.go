package tui

import (
	"context"
	"strconv"
	"strings"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"

	"keyturn/account"
	"keyturn/audit"
)

// historyLimit is how many of an account's newest audit entries l shows.
const historyLimit = 15

// historyDialog shows an account's recent history from the audit log (l
// on the account screen): what was done, to which token, how it ended,
// and from which face.
type historyDialog struct {
	acct    string
	loaded  bool
	entries []audit.Entry
	skipped int
	err     error
}

func (m *Model) openHistory(acct string) []action {
	d := &historyDialog{acct: acct}
	_, cmd := startQuietOp(m, "", func(ctx context.Context) (historyRead, error) {
		es, skipped, err := m.mgr.Log(ctx, account.LogFilter{Account: acct, Limit: historyLimit})
		return historyRead{es, skipped}, err
	}, func(r historyRead, err error) []action {
		d.loaded, d.err, d.entries, d.skipped = true, err, r.entries, r.skipped
		return nil
	})
	return acts(openDlg(d), runCmd(cmd))
}

type historyRead struct {
	entries []audit.Entry
	skipped int
}

func (d *historyDialog) update(m *Model, msg tea.Msg) []action {
	if k, ok := msg.(tea.KeyPressMsg); ok && (key.Matches(k, m.keys.Close) || key.Matches(k, m.keys.History)) {
		return acts(closeDlg(d))
	}
	return nil
}

func (d *historyDialog) view(m *Model, w, h int) string {
	dw := dialogWidth(96, w)
	var b []string
	switch {
	case !d.loaded:
		b = append(b, m.st.Subtle.Render("Reading the audit log…"))
	case d.err != nil:
		b = append(b, m.st.Error.Render(wrap("Cannot read the audit log: "+d.err.Error(), dw-4)))
	case len(d.entries) == 0:
		b = append(b, m.st.Subtle.Render("Nothing recorded for "+d.acct+" yet."))
	default:
		b = append(b, m.st.Faint.Render(pad("WHEN", 17)+" "+pad("ACTION", 13)+" "+pad("TOKEN", 34)+" "+pad("OUTCOME", 9)+" FACE"))
		// Newest first, as many as the screen holds.
		room := max(1, h-8)
		for i := len(d.entries) - 1; i >= 0 && len(b) <= room; i-- {
			e := d.entries[i]
			what := e.Ref
			if what == "" {
				what = e.Secret
			}
			outcome := e.Outcome
			switch e.Outcome {
			case audit.OK:
				outcome = m.st.OK.Render(pad(outcome, 9))
			case audit.Failed, audit.Unknown:
				outcome = m.st.Error.Render(pad(outcome, 9))
			default:
				outcome = m.st.Warn.Render(pad(outcome, 9))
			}
			face := e.Face
			if e.Exit != nil {
				face += " (exit " + strconv.Itoa(*e.Exit) + ")"
			}
			b = append(b, pad(e.Time.Local().Format("2006-01-02 15:04"), 17)+" "+pad(e.Action, 13)+" "+pad(truncate(what, 34), 34)+" "+outcome+" "+face)
		}
	}
	if d.skipped > 0 {
		b = append(b, "", m.st.Warn.Render(plural(d.skipped, "line", "lines")+" of the log could not be read"))
	}
	b = append(b, "", m.st.Faint.Render(wrap("From "+m.mgr.LogPath()+" · 'keyturn log --account "+d.acct+"' shows it all", dw-4)))
	return frame(m, "History · "+d.acct, strings.Join(b, "\n"), dw, false)
}

func (d *historyDialog) short(k keyMap) []key.Binding { return []key.Binding{k.Close} }
