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
	loaded   bool
	gen      int
	revealed map[string]string // name → value, while shown
	fetching int
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
	switch {
	case key.Matches(msg, k.Back):
		return acts(runCmd(m.back()))
	case s.rows.navigate(msg, listKeys{up: k.Up, down: k.Down}):
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
				return acts(status("Deleted "+name), reloadScreen())
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
	case s.rows.len() == 0:
		lines = append(lines, "", "  "+m.st.Subtle.Render("Nothing stored yet. Sign in or issue a token and it shows up here."))
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
	lines = append(lines, s.rows.render(h-len(lines)-1, height, func(e keystore.Entry, sel bool) []string {
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
		rest := pad(truncate(e.Name, colName), colName) + " " + pad(truncate(kindName(e.Kind), colKind), colKind) + " " + pad(stamp(saved), colDate) + " " + pad(exp, colDate) + " " + fp
		if e.Missing {
			rest = pad(truncate(e.Name, colName), colName) + " " + m.st.Error.Render("listed, but missing from the store")
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
	})...)
	return strings.Join(lines, "\n")
}

func (s *vaultScreen) short(k keyMap) []key.Binding {
	return []key.Binding{k.Back, k.Reveal, k.Copy, k.Delete, k.Refresh}
}

func (s *vaultScreen) full(m *Model) []key.Binding { return s.short(m.keys) }
