package tui

import (
	"context"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
)

// accountsScreen lists every account with its service, server, sign-in
// state and the credential's age, or the Capillary session's countdown.
type accountsScreen struct {
	rows      list[account.Status]
	loaded    bool
	filter    textinput.Model
	filtering bool
	gen       int
	err       error
	want      string // select this account once the list is loaded
}

func newAccountsScreen() accountsScreen {
	f := textinput.New()
	f.Prompt = "/ "
	f.Placeholder = "filter by name, service, server or user"
	f.SetWidth(40)
	return accountsScreen{filter: f, rows: newList(accountHay).identified(func(a account.Status) string { return a.Name })}
}

// accountHay is what the filter searches: name, service, server and user.
func accountHay(a account.Status) string {
	return strings.Join([]string{a.Name, a.Service, serviceName(a.Service), a.URL, a.User}, " ")
}

// loadAccounts reads the account list (config file only: no server, no
// store).
func (m *Model) loadAccounts() tea.Cmd {
	m.accounts.gen++
	gen := m.accounts.gen
	_, cmd := startQuietOp(m, "", func(ctx context.Context) ([]account.Status, error) {
		return m.mgr.List(ctx)
	}, func(list []account.Status, err error) []action {
		if gen != m.accounts.gen {
			return nil
		}
		s := &m.accounts
		s.loaded = true
		s.err = err
		if err != nil {
			return acts(errorBanner("Cannot read the accounts", err))
		}
		s.rows.setItems(list)
		if s.want != "" {
			s.selectName(s.want)
			s.want = ""
		}
		return nil
	})
	return cmd
}

func (s *accountsScreen) selected() (account.Status, bool) { return s.rows.selected() }

// selectName moves the cursor to the named account.
func (s *accountsScreen) selectName(name string) {
	s.rows.selectFirst(func(a account.Status) bool { return a.Name == name })
}

func (s *accountsScreen) update(m *Model, msg tea.KeyPressMsg) []action {
	k := m.keys
	if s.filtering {
		switch {
		case key.Matches(msg, k.Cancel):
			s.filtering = false
			s.filter.SetValue("")
			s.filter.Blur()
		case key.Matches(msg, k.Submit):
			s.filtering = false
			s.filter.Blur()
		default:
			var cmd tea.Cmd
			s.filter, cmd = s.filter.Update(msg)
			s.rows.filter(s.filter.Value())
			return acts(runCmd(cmd))
		}
		s.rows.filter(s.filter.Value())
		return nil
	}
	switch {
	case s.rows.navigate(msg, listKeys{up: k.Up, down: k.Down, top: k.Top, bottom: k.Bottom}):
	case key.Matches(msg, k.Filter):
		s.filtering = true
		return acts(runCmd(s.filter.Focus()))
	case key.Matches(msg, k.Clear) && s.filter.Value() != "":
		s.filter.SetValue("")
		s.rows.filter("")
	case key.Matches(msg, k.Refresh):
		return acts(runCmd(m.loadAccounts()))
	case key.Matches(msg, k.Vault):
		return acts(runCmd(m.openVault()))
	case key.Matches(msg, k.Overview):
		return acts(runCmd(m.openOverview()))
	case key.Matches(msg, k.Add):
		return acts(openDlg(newAddAccountDialog(m)))
	case key.Matches(msg, k.Edit):
		if a, ok := s.selected(); ok {
			return acts(openDlg(newEditAccountDialog(m, a)))
		}
	case key.Matches(msg, k.Open):
		a, ok := s.selected()
		if !ok {
			return nil
		}
		cmd := m.openAccount(a.Name)
		if !a.SignedIn {
			return acts(openDlg(newSignInDialog(m, a)), runCmd(cmd))
		}
		return acts(runCmd(cmd))
	case key.Matches(msg, k.SignIn):
		if a, ok := s.selected(); ok {
			return acts(openDlg(newSignInDialog(m, a)))
		}
	case key.Matches(msg, k.Remove):
		a, ok := s.selected()
		if !ok {
			return nil
		}
		return acts(openDlg(newConfirmDialog("Remove "+a.Name+"?", []string{
			"keyturn forgets the account " + a.Name + " (" + serviceName(a.Service) + ", " + host(a.URL) + ") and deletes its sign-in credential from " + storeName(m.mgr.Store()) + ".",
			"Tokens keyturn issued for it stay in the store and keep working on the server; the vault (v) still lists them.",
		}, "Remove", true, func() []action { return m.removeAccount(a.Name) })))
	}
	return nil
}

func (m *Model) removeAccount(name string) []action {
	f := &flow{title: "Remove " + name, label: "Removing " + name + "…", acct: name}
	bindFlow(f, func(ctx context.Context, _ *account.Answer, _ bool) (struct{}, error) {
		return struct{}{}, m.mgr.Remove(ctx, name)
	}, func(_ struct{}, err error) []action {
		if err != nil {
			return acts(errorBanner("Could not remove "+name, err), runCmd(m.loadAccounts()))
		}
		return acts(succeeded(name, "Removed "+name), runCmd(m.loadAccounts()))
	}, nil)
	return m.runAction("Remove "+name, f)
}

// Fixed parts of the list's rows: the badge, and the widest state cell
// (longer problems are cut to it).
const (
	colBadge = 5
	colState = 26
)

// listLayout is the width of each column of the account list, and of the
// gap between columns.
type listLayout struct{ name, server, user, state, gap int }

// layoutList sizes the columns to what they hold, every column as wide as
// its widest cell or its heading, so nothing is cut while the terminal has
// room; the gap between columns is two spaces when that fits too, else
// one. On a narrow terminal the server column gives way first, down to
// minServer cells, then the user and the name columns, down to minCell.
func layoutList(w int, name, server, user, state int) listLayout {
	const minServer, minCell = 16, 10
	l := listLayout{name: max(name, len("NAME")), server: max(server, len("SERVER")), user: max(user, len("USER")), state: max(state, len("STATE")), gap: 2}
	// the mark, the badge, and a gap after the badge and each column but the last
	width := func() int { return 2 + colBadge + l.name + l.server + l.user + l.state + 4*l.gap }
	if width() > w {
		l.gap = 1
	}
	over := width() - w
	give := func(col *int, floor int) {
		if over <= 0 || *col <= floor {
			return
		}
		d := min(over, *col-floor)
		*col -= d
		over -= d
	}
	give(&l.server, minServer)
	give(&l.user, minCell)
	give(&l.name, minCell)
	return l
}

// userOf is the user an account signs in as: for Capillary, the identifier.
func userOf(a account.Status) string {
	if account.Info(a.Service).SignIn.Identity && a.Extra.Identifier != "" {
		return a.Extra.Identifier
	}
	return a.User
}

func (s *accountsScreen) view(m *Model, w, h int) string {
	var lines []string
	if s.filtering || s.filter.Value() != "" {
		lines = append(lines, s.filter.View())
	}
	all, vis := s.rows.all(), s.rows.visible()
	// Sized over every account, not only those the filter shows, so the
	// columns stay put while a filter is typed.
	var nameW, serverW, userW, stateW int
	for _, a := range all {
		nameW = max(nameW, ansi.StringWidth(a.Name))
		serverW = max(serverW, ansi.StringWidth(host(a.URL)))
		userW = max(userW, ansi.StringWidth(userOf(a)))
		stateW = max(stateW, ansi.StringWidth(stateCell(m, a, m.clock)))
	}
	col := layoutList(w, nameW, serverW, userW, stateW)
	gap := strings.Repeat(" ", col.gap)
	head := "  " + pad("", colBadge) + gap + pad("NAME", col.name) + gap + pad("SERVER", col.server) + gap + pad("USER", col.user) + gap + "STATE"
	lines = append(lines, m.st.Faint.Render(head))
	switch {
	case !s.loaded:
		lines = append(lines, "  "+m.st.Subtle.Render("Loading accounts…"))
	case len(all) == 0:
		lines = append(lines, "", "  "+m.st.Bold.Render("No accounts yet."), "  "+m.st.Subtle.Render("Press a to add a Mattermost, Rocket.Chat or Capillary account."))
	case len(vis) == 0:
		lines = append(lines, "  "+m.st.Subtle.Render("No account matches the filter (esc clears it)."))
	}
	lines = append(lines, s.rows.renderMarked(h-len(lines)-2, nil, func(a account.Status, sel bool) []string {
		mark := "  "
		if sel {
			mark = m.st.Cursor.Render("› ")
		}
		rest := pad(m.st.Bold.Render(truncate(a.Name, col.name)), col.name) + gap +
			pad(truncate(host(a.URL), col.server), col.server) + gap + pad(truncate(userOf(a), col.user), col.user) + gap + stateCell(m, a, m.clock)
		if sel {
			rest = m.st.Selected.Render(pad(ansi.Strip(rest), w-2-colBadge-col.gap))
		}
		return []string{mark + m.st.badge(a.Service) + gap + rest}
	}, m.st.Faint.Render)...)
	if len(vis) > 0 {
		signedIn := 0
		for _, a := range all {
			if a.SignedIn {
				signedIn++
			}
		}
		lines = append(lines, "", "  "+m.st.Faint.Render(plural(len(all), "account", "accounts")+", "+itoa(signedIn)+" signed in · enter opens · s signs in · i lists every token"))
	}
	return strings.Join(lines, "\n")
}

// stateCell says whether an account is signed in and for how long, with
// the Capillary session's live countdown.
func stateCell(m *Model, a account.Status, now time.Time) string {
	switch {
	case a.Problem != "":
		return m.st.Error.Render("! " + truncate(a.Problem, colState-2))
	case a.MFAUnconfirmed != nil:
		// The next sign-in needs a secret no code has confirmed.
		return m.st.Warn.Render("! MFA not confirmed")
	case a.Pending != "" && !a.SignedIn:
		return m.st.Warn.Render("◐ waiting for a code")
	case !a.SignedIn:
		return m.st.Faint.Render("○ not signed in")
	case account.Info(a.Service).HasSession() && a.Expires != nil:
		left := countdown(now, *a.Expires)
		switch {
		case left == "":
			return m.st.Error.Render("● session expired")
		case a.Expires.Sub(now) < 2*time.Minute:
			return m.st.Warn.Render("● session " + left + " left")
		}
		return m.st.OK.Render("● session " + left + " left")
	}
	via := "signed in"
	if a.Via == "personal access token" {
		via = "signed in (PAT)"
	}
	if a.Since != nil {
		via += " · " + age(now, *a.Since)
	}
	return m.st.OK.Render("● " + via)
}

func (s *accountsScreen) short(k keyMap) []key.Binding {
	if s.filtering {
		return []key.Binding{k.Submit, k.Clear}
	}
	var bs []key.Binding
	if _, ok := s.selected(); ok {
		bs = append(bs, k.Open)
	}
	bs = append(bs, k.Add)
	if _, ok := s.selected(); ok {
		bs = append(bs, k.SignIn, k.Remove)
	}
	if len(s.rows.all()) > 0 {
		bs = append(bs, k.Filter)
	}
	if s.filter.Value() != "" {
		bs = append(bs, k.Clear)
	}
	// i (every token) is in the help and the list's last line: the
	// footer has no room left at 80 columns.
	return append(bs, k.Vault)
}

func (s *accountsScreen) full(m *Model) []key.Binding {
	if s.filtering {
		return s.short(m.keys)
	}
	bs := append(s.short(m.keys), m.keys.Overview, m.keys.Refresh)
	if _, ok := s.selected(); ok {
		bs = append(bs, m.keys.Edit)
	}
	if s.rows.len() > 1 {
		bs = append(bs, m.keys.Top, m.keys.Bottom)
	}
	return bs
}
