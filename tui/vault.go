package tui

import (
	"context"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
	"keyturn/keystore"
)

// vaultScreen lists every stored secret with its metadata (never its value
// until asked): reveal, copy, delete.
type vaultScreen struct {
	rows     list[keystore.Entry]
	find     filterBox
	loaded   bool
	gen      int
	revealed map[string]string // name → value, while shown
	fetching int
	from     string // the account screen it was opened from, if any
}

func newVaultScreen(m *Model) vaultScreen {
	rows := newList(vaultHay).identified(func(e keystore.Entry) string { return e.Name })
	return vaultScreen{rows: rows, find: newFilterBox(m, "filter by account, label, name or kind")}
}

// vaultHay is what the filter searches.
func vaultHay(e keystore.Entry) string {
	return strings.Join([]string{e.Name, e.Account, e.Label, kindName(e.Kind)}, " ")
}

// title is how a row names its secret: the token's label on its server
// when the index knows it, else the store name.
func vaultTitle(e keystore.Entry) string {
	if e.Label != "" {
		return e.Account + " · " + e.Label
	}
	return e.Name
}

func (s *vaultScreen) load(m *Model) tea.Cmd {
	s.gen++
	gen := s.gen
	_, cmd := startOp(m, "Checking the store…", func(ctx context.Context) ([]keystore.Entry, error) {
		return m.mgr.Vault().List(ctx, true)
	}, func(entries []keystore.Entry, err error) []action {
		if m.screen != screenVault || m.vault.gen != gen {
			return nil
		}
		s := &m.vault
		s.loaded = true
		if err != nil {
			// The index alone still says what should be there.
			_, cmd := startQuietOp(m, "", func(ctx context.Context) ([]keystore.Entry, error) {
				return m.mgr.Vault().List(ctx, false)
			}, func(entries []keystore.Entry, err error) []action {
				if m.screen == screenVault && err == nil {
					m.vault.rows.setItems(entries)
				}
				return nil
			})
			return acts(errorBanner("Cannot list the stored secrets", err), runCmd(cmd))
		}
		s.rows.setItems(entries)
		return nil
	})
	return cmd
}

func (s *vaultScreen) selected() (keystore.Entry, bool) { return s.rows.selected() }

func (s *vaultScreen) update(m *Model, msg tea.KeyPressMsg) []action {
	k := m.keys
	if s.find.typing {
		cmd := s.find.key(msg, k.Submit, k.Cancel)
		s.rows.filter(s.find.value())
		return acts(runCmd(cmd))
	}
	was, _ := s.selected()
	switch {
	case key.Matches(msg, k.Clear) && s.find.clear():
		s.rows.filter("")
	case key.Matches(msg, k.Back):
		if s.from != "" {
			m.cancelOp(s.fetching)
			return acts(runCmd(m.openAccount(s.from)))
		}
		return acts(runCmd(m.back()))
	case s.rows.navigate(msg, listKeys{up: k.Up, down: k.Down, top: k.Top, bottom: k.Bottom}):
		// A value is shown for the row it was asked on only.
		if now, _ := s.selected(); now.Name != was.Name {
			s.revealed = nil
		}
	case key.Matches(msg, k.Filter):
		s.revealed = nil
		return acts(runCmd(s.find.open()))
	case key.Matches(msg, k.Refresh):
		s.revealed = nil
		return acts(runCmd(s.load(m)))
	case key.Matches(msg, k.Reveal), key.Matches(msg, k.Open):
		e, ok := s.selected()
		if !ok {
			return nil
		}
		if _, shown := s.revealed[e.Name]; shown {
			delete(s.revealed, e.Name)
			return nil
		}
		return acts(runCmd(s.fetch(m, e.Name, false)))
	case key.Matches(msg, k.Copy):
		e, ok := s.selected()
		if !ok {
			return nil
		}
		if v, shown := s.revealed[e.Name]; shown {
			return acts(status("Copied "+e.Name+" to the clipboard (OSC 52)"), runCmd(tea.SetClipboard(v)))
		}
		return acts(runCmd(s.fetch(m, e.Name, true)))
	case key.Matches(msg, k.Delete):
		e, ok := s.selected()
		if !ok {
			return nil
		}
		lines := []string{"keyturn deletes " + e.Name + " (" + kindName(e.Kind) + ") from " + storeName(m.mgr.Store()) + " and from its index."}
		switch e.Kind {
		case account.KindCredential:
			lines = append(lines, "The account "+e.Account+" is then signed out in keyturn (the session stays open on the server until it ends).")
		case account.KindBackup:
			lines = append(lines, "These backup codes are not shown again by the server: copy them first if you still need them.")
		default:
			lines = append(lines, "The token itself keeps working on the server: revoke it from the account screen to end it. This only drops keyturn's copy.")
		}
		name := e.Name
		return acts(openDlg(newConfirmDialog("Delete "+name+"?", lines, "Delete", true, func() []action {
			f := &flow{title: "Delete " + name, label: "Deleting " + name + "…"}
			bindFlow(f, func(ctx context.Context, _ *account.Answer, _ bool) (struct{}, error) {
				return struct{}{}, m.mgr.DeleteSecret(ctx, name)
			}, func(_ struct{}, err error) []action {
				if err != nil {
					return acts(errorBanner("Could not delete "+name, err), reloadScreen())
				}
				delete(m.vault.revealed, name)
				return acts(succeeded("", "Deleted "+name), reloadScreen())
			}, nil)
			return m.runAction("Delete", f)
		})))
	}
	return nil
}

// fetch reads one value from the store, to show it or to copy it.
func (s *vaultScreen) fetch(m *Model, name string, copyIt bool) tea.Cmd {
	if m.running(s.fetching) {
		return nil
	}
	var cmd tea.Cmd
	use := account.ActReveal
	if copyIt {
		use = account.ActCopy
	}
	s.fetching, cmd = startOp(m, "Reading "+name+"…", func(ctx context.Context) (string, error) {
		return m.mgr.ReadSecret(ctx, name, use)
	}, func(v string, err error) []action {
		if err != nil {
			return acts(errorBanner("Cannot read "+name, err))
		}
		if copyIt {
			return acts(status("Copied "+name+" to the clipboard (OSC 52)"), runCmd(tea.SetClipboard(v)))
		}
		if m.screen == screenVault {
			if m.vault.revealed == nil {
				m.vault.revealed = map[string]string{}
			}
			m.vault.revealed[name] = v
		}
		return nil
	})
	return cmd
}

func (s *vaultScreen) view(m *Model, w, h int) string {
	var lines []string
	for _, l := range strings.Split(wrap("Secrets keyturn holds in "+storeName(m.mgr.Store())+". Values stay hidden until you reveal one.", w-2), "\n") {
		lines = append(lines, " "+m.st.Subtle.Render(l))
	}
	lines = append(lines, "")
	if s.find.shown() {
		lines = append(lines, " "+s.find.view())
	}
	colKind, colDate, stamp := 22, 17, dateTime
	if w < 110 {
		colKind, colDate, stamp = 20, 11, shortDateTime
	}
	colName := max(24, w-2-colKind-1-colDate-1-colDate-1-7)
	head := "  " + pad("NAME", colName) + " " + pad("KIND", colKind) + " " + pad("SAVED", colDate) + " " + pad("EXPIRES", colDate) + " " + "LAST 4"
	lines = append(lines, m.st.Faint.Render(head))
	switch {
	case !s.loaded:
		lines = append(lines, "  "+m.st.Subtle.Render("Loading…"))
	case len(s.rows.all()) == 0:
		lines = append(lines, "", "  "+m.st.Subtle.Render("Nothing stored yet. Sign in or issue a token and it shows up here."))
	case s.rows.len() == 0:
		lines = append(lines, "  "+m.st.Subtle.Render("No secret matches the filter (esc clears it)."))
	}
	// The selected row's store name, as the CLI takes it, on the last line.
	detail := ""
	if e, ok := s.selected(); ok && e.Label != "" {
		detail = "  " + m.st.Faint.Render(truncate("stored as "+e.Name, w-2))
	}
	// A revealed value takes lines of its own under its entry; the window
	// keeps the cursor's entry, and what it reveals, in view.
	entries := s.rows.visible()
	height := func(i int) int {
		v, ok := s.revealed[entries[i].Name]
		if !ok {
			return 1
		}
		return 1 + strings.Count(wrap(v, w-8), "\n") + 1
	}
	rows := h - len(lines) - 1
	if detail != "" {
		rows--
	}
	lines = append(lines, s.rows.renderMarked(rows, height, func(e keystore.Entry, sel bool) []string {
		saved := e.Created
		if e.Rotated != nil {
			saved = *e.Rotated
		}
		exp := ""
		if e.Expires != nil {
			exp = stamp(*e.Expires)
			if left := countdown(m.clock, *e.Expires); left != "" && e.Expires.Sub(m.clock) < 24*time.Hour {
				exp = "in " + left
			} else if left == "" {
				exp = "expired"
			}
		}
		fp := "…" + e.Fingerprint
		rest := pad(truncate(vaultTitle(e), colName), colName) + " " + pad(truncate(kindName(e.Kind), colKind), colKind) + " " + pad(stamp(saved), colDate) + " " + pad(exp, colDate) + " " + fp
		if e.Missing {
			rest = pad(truncate(vaultTitle(e), colName), colName) + " " + m.st.Error.Render("listed, but missing from the store")
		}
		mark := "  "
		if sel {
			mark = m.st.Cursor.Render("› ")
			rest = m.st.Selected.Render(pad(ansi.Strip(rest), w-2))
		}
		out := []string{mark + rest}
		if v, ok := s.revealed[e.Name]; ok {
			for _, l := range strings.Split(wrap(v, w-8), "\n") {
				out = append(out, "      "+m.st.Warn.Render(l))
			}
		}
		return out
	}, m.st.Faint.Render)...)
	if detail != "" {
		lines = append(lines, detail)
	}
	return strings.Join(lines, "\n")
}

// short is the footer: the entry keys only when there is an entry.
func (s *vaultScreen) short(k keyMap) []key.Binding {
	if s.find.typing {
		return []key.Binding{k.Submit, k.Cancel}
	}
	e, ok := s.selected()
	if !ok {
		bs := []key.Binding{k.Back, k.Refresh}
		if len(s.rows.all()) > 0 {
			bs = append(bs, k.Filter) // a filter that hides every row
		}
		return bs
	}
	reveal := k.Reveal
	if _, shown := s.revealed[e.Name]; shown {
		reveal = k.Hide
	}
	return []key.Binding{k.Back, reveal, k.Copy, k.Delete, k.Filter, k.Refresh}
}

func (s *vaultScreen) full(m *Model) []key.Binding {
	if s.rows.len() < 2 {
		return s.short(m.keys)
	}
	return append(s.short(m.keys), m.keys.Top, m.keys.Bottom)
}
