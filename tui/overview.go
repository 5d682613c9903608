package tui

import (
	"context"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
)

// The overview (i on the accounts screen): every token on every account,
// asked of the servers in parallel (account.Inventory), with its age,
// expiry, policy deadline and state. An account that cannot be asked shows
// its error on a row of its own, above the tokens the store holds for it.
// Overdue and expired tokens are marked; R rotates all the overdue tokens
// of the account under the cursor, through the bulk rotation.

// overviewWarn is the window in which tokens count as expiring or due.
const overviewWarn = 7 * 24 * time.Hour

// overviewRow is an account's error, or one token.
type overviewRow struct {
	acct    string
	service string
	err     string
	tok     account.InventoryToken
}

type overviewScreen struct {
	rows   list[overviewRow]
	loaded bool
	gen    int
	at     time.Time // when the servers were asked
}

func overviewHay(r overviewRow) string {
	return strings.Join([]string{r.acct, r.tok.RefString, r.tok.Label, r.tok.State}, " ")
}

func (m *Model) openOverview() tea.Cmd {
	m.screen = screenOverview
	m.overview = overviewScreen{rows: newList(overviewHay)}
	m.status = ""
	return m.overview.load(m)
}

func (s *overviewScreen) load(m *Model) tea.Cmd {
	s.gen++
	gen := s.gen
	_, cmd := startOp(m, "Asking every server for its tokens…", func(ctx context.Context) (*account.Inventory, error) {
		return m.mgr.Inventory(ctx, account.InventoryOptions{WarnWithin: overviewWarn})
	}, func(inv *account.Inventory, err error) []action {
		if m.screen != screenOverview || m.overview.gen != gen {
			return nil
		}
		s := &m.overview
		s.loaded = true
		if err != nil {
			return acts(errorBanner("Cannot list the tokens", err))
		}
		s.at = inv.Time
		s.rows.setItems(overviewRows(inv))
		return nil
	})
	return cmd
}

// overviewRows flattens the inventory: each account's error first, then
// its tokens.
func overviewRows(inv *account.Inventory) []overviewRow {
	var out []overviewRow
	for _, a := range inv.Accounts {
		if a.Error != "" {
			out = append(out, overviewRow{acct: a.Account, service: a.Service, err: a.Error})
		}
		for _, t := range a.Tokens {
			out = append(out, overviewRow{acct: a.Account, service: a.Service, tok: t})
		}
	}
	return out
}

// overdue is the rows of acct that a rotation of the overdue covers: those
// past their policy or expiry, of the kinds a bulk rotation takes.
func (s *overviewScreen) overdue(acct string) []account.InventoryToken {
	var out []account.InventoryToken
	for _, r := range s.rows.all() {
		k, _ := account.Info(r.service).Kind(r.tok.Kind)
		if r.err == "" && r.acct == acct && k.RotateAll && (r.tok.State == account.StateOverdue || r.tok.State == account.StateExpired) {
			out = append(out, r.tok)
		}
	}
	return out
}

func (s *overviewScreen) update(m *Model, msg tea.KeyPressMsg) []action {
	k := m.keys
	switch {
	case key.Matches(msg, k.Back):
		return acts(runCmd(m.back()))
	case s.rows.navigate(msg, listKeys{up: k.Up, down: k.Down, top: k.Top, bottom: k.Bottom}):
	case key.Matches(msg, k.Refresh):
		return acts(runCmd(s.load(m)))
	case key.Matches(msg, k.Open):
		if r, ok := s.rows.selected(); ok {
			return acts(runCmd(m.openAccount(r.acct)))
		}
	case key.Matches(msg, k.RotateOverdue):
		r, ok := s.rows.selected()
		if !ok {
			return nil
		}
		due := s.overdue(r.acct)
		if len(due) == 0 {
			return acts(status("Nothing overdue or expired on " + r.acct))
		}
		return m.confirmRotateOverdue(r.acct, r.service, due)
	}
	return nil
}

// confirmRotateOverdue asks before rotating an account's overdue tokens.
func (m *Model) confirmRotateOverdue(acct, service string, due []account.InventoryToken) []action {
	n := len(due)
	lines := []string{"keyturn rotates these " + plural(n, "token", "tokens") + " of " + acct + ", " + itoa(bulkParallel) + " at a time, each saved the moment it arrives:"}
	for i, t := range due {
		if i == 5 {
			lines = append(lines, "  … and "+itoa(n-5)+" more")
			break
		}
		lines = append(lines, "  "+t.RefString+"  "+t.Label+"  ("+t.State+")")
	}
	lines = append(lines,
		"Every integration using them must get its new token: the old ones stop working (a user access token once the new one is checked).",
		"Esc stops the run: nothing more is sent; the requests already sent finish and are saved.")
	r := &bulkRun{acct: acct, service: service, overdue: true, section: "overdue tokens", listed: n}
	return acts(openDlg(newConfirmDialog("Rotate "+plural(n, "overdue token", "overdue tokens")+" of "+acct+"?", lines, "Rotate "+itoa(n), true, func() []action {
		return m.startBulk(r)
	})))
}

// overviewWhen is the date that matters for a token, in words: its expiry
// when it has one that counts, else its policy's deadline.
func overviewWhen(t account.InventoryToken, now time.Time) string {
	switch {
	case t.State == account.StateExpired || t.State == account.StateExpiring:
		return "expires " + relative(now, *t.Expires)
	case t.Due != nil:
		return "due " + relative(now, *t.Due)
	case t.Expires != nil:
		return "expires " + relative(now, *t.Expires)
	}
	return ""
}

// relative is at from now: "3d ago", "in 5h".
func relative(now, at time.Time) string {
	switch d := at.Sub(now); {
	case d >= time.Minute:
		return "in " + strings.TrimSuffix(age(at, now), " ago")
	case d > 0:
		return "now"
	}
	return age(now, at)
}

// stateMark is a token's state as the overview shows it, coloured, with
// a PAT's 2FA bypass flagged.
func (m *Model) stateMark(t account.InventoryToken) string {
	s := m.stateWord(t)
	if t.Bypass2FA != nil && *t.Bypass2FA {
		s += " " + m.st.Warn.Render("⚠ bypasses 2FA")
	}
	if !t.OnServer {
		s += " " + m.st.Subtle.Render("(stored only)")
	}
	return s
}

// stateWord is a token's state alone, coloured.
func (m *Model) stateWord(t account.InventoryToken) string {
	var s string
	switch t.State {
	case account.StateExpired:
		s = m.st.Error.Render("✗ expired")
	case account.StateOverdue:
		s = m.st.Error.Render("✗ overdue")
	case account.StateExpiring:
		s = m.st.Warn.Render("◐ expiring")
	case account.StateDue:
		s = m.st.Warn.Render("◐ due soon")
	case account.StateAgeUnknown:
		s = m.st.Subtle.Render("age unknown")
	default:
		s = m.st.OK.Render("ok")
	}
	return s
}

func (s *overviewScreen) view(m *Model, w, h int) string {
	lines := []string{" " + m.st.Subtle.Render(truncate("Every token on every account. Ages count from the server's date or keyturn's save, whichever is later.", w-2)), ""}
	all := s.rows.all()
	acctW := len("ACCOUNT")
	for _, r := range all {
		acctW = max(acctW, min(16, ansi.StringWidth(r.acct)))
	}
	const kindW, ageW, whenW, heldW = 10, 9, 16, 4
	labelW := max(12, w-2-acctW-kindW-ageW-whenW-heldW-6-18)
	head := "  " + pad("ACCOUNT", acctW) + " " + pad("KIND", kindW) + " " + pad("TOKEN", labelW) + " " + pad("ROTATED", ageW) + " " + pad("WHEN", whenW) + " " + pad("HELD", heldW) + " STATE"
	lines = append(lines, m.st.Faint.Render(head))
	switch {
	case !s.loaded:
		lines = append(lines, "  "+m.st.Subtle.Render("Asking the servers…"))
	case len(all) == 0:
		lines = append(lines, "", "  "+m.st.Subtle.Render("No tokens yet: add an account (a) and sign in."))
	}
	lines = append(lines, s.rows.renderMarked(h-len(lines)-2, nil, func(r overviewRow, sel bool) []string {
		mark := "  "
		if sel {
			mark = m.st.Cursor.Render("› ")
		}
		var rest string
		if r.err != "" {
			rest = pad(truncate(r.acct, acctW), acctW) + " " + m.st.Error.Render(truncate("! "+r.err, w-4-acctW))
		} else {
			t := r.tok
			rotated := ""
			if t.Rotated != nil {
				rotated = age(s.at, *t.Rotated)
			}
			held := "no"
			if t.Stored {
				held = "yes"
			}
			rest = pad(truncate(r.acct, acctW), acctW) + " " + pad(t.Kind, kindW) + " " + pad(truncate(t.Label, labelW), labelW) + " " +
				pad(rotated, ageW) + " " + pad(overviewWhen(t, s.at), whenW) + " " + pad(held, heldW) + " " + m.stateMark(t)
		}
		if sel {
			rest = m.st.Selected.Render(pad(ansi.Strip(rest), w-2))
		}
		return []string{mark + rest}
	}, m.st.Faint.Render)...)
	if s.loaded && len(all) > 0 {
		n := 0
		for _, r := range all {
			if r.err == "" && (r.tok.State == account.StateOverdue || r.tok.State == account.StateExpired) {
				n++
			}
		}
		lines = append(lines, "", "  "+m.st.Faint.Render(plural(n, "token", "tokens")+" overdue or expired · R rotates the overdue ones of the account under the cursor"))
	}
	return strings.Join(lines, "\n")
}

// short offers enter and R only where they act: on a row, and on an
// account with something overdue.
func (s *overviewScreen) short(k keyMap) []key.Binding {
	bs := []key.Binding{k.Back}
	if r, ok := s.rows.selected(); ok {
		bs = append(bs, k.Open)
		if len(s.overdue(r.acct)) > 0 {
			bs = append(bs, k.RotateOverdue)
		}
	}
	return append(bs, k.Refresh)
}

func (s *overviewScreen) full(m *Model) []key.Binding {
	bs := s.short(m.keys)
	if s.rows.len() > 1 {
		bs = append(bs, m.keys.Top, m.keys.Bottom)
	}
	return bs
}

// judgedTokens are an account's tokens with their states.
type judgedTokens struct {
	tokens []account.Token
	states map[string]account.InventoryToken
	denied []account.DeniedSection // the sections the server did not permit
}

// policyMark is the account screen's mark for a token its policy or
// expiry calls to rotate; nothing for one that is fine.
func (s *accountScreen) policyMark(m *Model, t *account.Token) string {
	it, ok := s.states[t.Ref.String()]
	if !ok {
		return ""
	}
	switch it.State {
	case account.StateExpired, account.StateOverdue, account.StateExpiring, account.StateDue:
		return "  " + m.stateWord(it) + m.st.Faint.Render(" "+overviewWhen(it, m.clock))
	}
	return ""
}
