package tui

import (
	"context"
	"errors"
	"slices"
	"sort"
	"strings"
	"time"

	"charm.land/bubbles/v2/key"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
)

// autoRegenBefore is how long before the Capillary session's expiry the
// open account screen regenerates it.
const autoRegenBefore = time.Minute

// accountScreen shows one account in sections of what its service
// supports: Mattermost MFA, user access tokens, slash commands and outgoing
// webhooks by team; Rocket.Chat PATs and TOTP; the Capillary session.
type accountScreen struct {
	name string
	st   *account.Status
	gen  int

	tokens    []account.Token
	tokLoaded bool
	tokErr    error
	mfa       *bool
	mfaErr    error

	nav list[acctRow] // the cursor over rows()

	drawn    int  // rows the last frame drew (for tests)
	fullDraw bool // tests: draw every row, to compare with the window

	loads []int // loads in flight, cancelled when the screen is left

	// Capillary auto-regeneration.
	autoOff     bool      // switched off with t
	autoStopped string    // why it stopped by itself (a failure)
	autoFor     time.Time // the expiry it last ran for
	autoOp      int
	lastAuto    string
}

func newAccountScreen(name string) accountScreen { return accountScreen{name: name} }

// load reads the account's state, then its tokens and MFA state from the
// server.
func (s *accountScreen) load(m *Model) tea.Cmd {
	s.gen++
	gen := s.gen
	name := s.name
	s.loads = slices.DeleteFunc(s.loads, func(id int) bool { return !m.running(id) })
	id, cmd := m.start("Loading "+name+"…", func(ctx context.Context) (any, error) {
		return m.mgr.Show(ctx, name)
	}, func(val any, err error) tea.Cmd {
		if m.screen != screenAccount || m.acct.gen != gen {
			return nil
		}
		s := &m.acct
		if err != nil {
			m.showError("Cannot read "+name, err)
			return nil
		}
		s.st = val.(*account.Status)
		if !s.st.SignedIn {
			s.tokens, s.tokLoaded, s.tokErr, s.mfa, s.mfaErr = nil, true, nil, nil, nil
		}
		s.syncRows()
		if !s.st.SignedIn {
			return nil
		}
		return s.loadServer(m, gen)
	})
	s.loads = append(s.loads, id)
	return cmd
}

// cancelLoads abandons the screen's reads (leaving it).
func (s *accountScreen) cancelLoads(m *Model) {
	for _, id := range s.loads {
		m.cancelOp(id)
	}
	s.loads = nil
}

func (s *accountScreen) loadServer(m *Model, gen int) tea.Cmd {
	name, service := s.name, s.st.Service
	tid, tcmd := m.start("Listing tokens…", func(ctx context.Context) (any, error) {
		return m.mgr.Tokens(ctx, name, account.ListFilter{})
	}, func(val any, err error) tea.Cmd {
		if m.screen != screenAccount || m.acct.gen != gen {
			return nil
		}
		s := &m.acct
		s.tokLoaded, s.tokErr = true, err
		s.tokens, _ = val.([]account.Token)
		if err != nil {
			m.showError("Cannot list the tokens of "+name, err)
		}
		s.syncRows()
		return nil
	})
	s.loads = append(s.loads, tid)
	if service != account.Mattermost && service != account.RocketChat {
		return tcmd
	}
	mid, mcmd := m.start("", func(ctx context.Context) (any, error) {
		return m.mgr.MFAActive(ctx, name)
	}, func(val any, err error) tea.Cmd {
		if m.screen != screenAccount || m.acct.gen != gen {
			return nil
		}
		s := &m.acct
		s.mfaErr = err
		if err == nil {
			on := val.(bool)
			s.mfa = &on
		}
		return nil
	})
	s.loads = append(s.loads, mid)
	return tea.Batch(tcmd, mcmd)
}

// Rows of the screen.

type rowKind int

const (
	rowMFA rowKind = iota + 1
	rowToken
	rowSession
)

type acctRow struct {
	kind rowKind
	tok  *account.Token
}

// section is a heading with its rows (or a line saying there are none).
type section struct {
	title string
	rows  []acctRow
	empty string
	// kind and team say what "rotate all" covers in a token section.
	kind string
	team string
}

func (s *accountScreen) sections() []section {
	if s.st == nil || !s.st.SignedIn {
		return nil
	}
	byKind := func(kind string) []*account.Token {
		var out []*account.Token
		for i := range s.tokens {
			if s.tokens[i].Kind == kind {
				out = append(out, &s.tokens[i])
			}
		}
		return out
	}
	rows := func(ts []*account.Token) []acctRow {
		var out []acctRow
		for _, t := range ts {
			out = append(out, acctRow{kind: rowToken, tok: t})
		}
		return out
	}
	loading := "loading…"
	if s.tokLoaded {
		loading = "none"
	}
	if s.tokErr != nil {
		loading = "could not list them (ctrl+r retries)"
	}
	var out []section
	switch s.st.Service {
	case account.Mattermost:
		out = append(out, section{title: "Multi-factor authentication", rows: []acctRow{{kind: rowMFA}}})
		out = append(out, section{title: "User access tokens", rows: rows(byKind(account.KindUserToken)), empty: emptyOr(loading, "none · n creates one"), kind: account.KindUserToken})
		for _, kind := range []string{account.KindCommand, account.KindWebhook} {
			teams := map[string][]*account.Token{}
			for _, t := range byKind(kind) {
				teams[t.Team] = append(teams[t.Team], t)
			}
			names := make([]string, 0, len(teams))
			for n := range teams {
				names = append(names, n)
			}
			sort.Strings(names)
			title := "Slash commands"
			if kind == account.KindWebhook {
				title = "Outgoing webhooks"
			}
			if len(names) == 0 {
				out = append(out, section{title: title, empty: loading})
			}
			for _, n := range names {
				out = append(out, section{title: title + " · team " + n, rows: rows(teams[n]), kind: kind, team: n})
			}
		}
	case account.RocketChat:
		out = append(out, section{title: "Personal access tokens", rows: rows(byKind(account.KindPAT)), empty: emptyOr(loading, "none · n creates one"), kind: account.KindPAT})
		out = append(out, section{title: "Two-factor authentication (TOTP)", rows: []acctRow{{kind: rowMFA}}})
	case account.Capillary:
		out = append(out, section{title: "Session", rows: []acctRow{{kind: rowSession}}})
	}
	return out
}

func emptyOr(loading, none string) string {
	if loading == "none" {
		return none
	}
	return loading
}

func (s *accountScreen) rows() []acctRow {
	var out []acctRow
	for _, sec := range s.sections() {
		out = append(out, sec.rows...)
	}
	return out
}

// syncRows gives the cursor the rows of the state just loaded (the
// rows change only with the status and the tokens).
func (s *accountScreen) syncRows() { s.nav.setItems(s.rows()) }

// selectedSection is the section holding the row under the cursor.
func (s *accountScreen) selectedSection() (section, bool) {
	i, cur := 0, s.nav.index()
	for _, sec := range s.sections() {
		if cur >= i && cur < i+len(sec.rows) {
			return sec, true
		}
		i += len(sec.rows)
	}
	return section{}, false
}

func (s *accountScreen) selected() (acctRow, bool) { return s.nav.selected() }

func (s *accountScreen) update(m *Model, msg tea.KeyPressMsg) tea.Cmd {
	k := m.keys
	st := s.st
	switch {
	case key.Matches(msg, k.Back):
		return m.back()
	case s.nav.navigate(msg, listKeys{up: k.Up, down: k.Down}):
	case key.Matches(msg, k.Refresh):
		return s.load(m)
	case st == nil:
		return nil
	case key.Matches(msg, k.SignIn):
		m.pushDialog(newSignInDialog(m, *st))
	case !st.SignedIn:
		return nil
	case key.Matches(msg, k.SignOut):
		return m.confirmSignOut(*st)
	case key.Matches(msg, k.MFA) && (st.Service == account.Mattermost || st.Service == account.RocketChat):
		return m.openMFA(*st, false)
	case key.Matches(msg, k.MFAOff) && (st.Service == account.Mattermost || st.Service == account.RocketChat):
		return m.confirmDisableMFA(*st)
	case key.Matches(msg, k.NewToken) && (st.Service == account.Mattermost || st.Service == account.RocketChat):
		m.pushDialog(newCreateDialog(m, *st))
	case key.Matches(msg, k.AutoRegen) && st.Service == account.Capillary:
		if s.autoStopped != "" {
			// t restarts it after a failure.
			s.autoOff, s.autoStopped, s.autoFor = false, "", time.Time{}
		} else {
			s.autoOff = !s.autoOff
		}
		if s.autoOff {
			m.setStatus("Auto-regeneration off")
			return nil
		}
		m.setStatus("Auto-regeneration on: the session is renewed a minute before it expires")
		return s.autoRegen(m)
	case key.Matches(msg, k.RotateAll) && (st.Service == account.Mattermost || st.Service == account.RocketChat):
		sec, ok := s.selectedSection()
		if !ok || sec.kind == "" || len(sec.rows) == 0 {
			m.setStatus("R rotates every token of a section: move to one of its tokens first")
			return nil
		}
		return m.confirmRotateAll(*st, sec)
	case key.Matches(msg, k.Rotate):
		r, ok := s.selected()
		switch {
		case ok && r.kind == rowToken:
			return m.confirmRotate(*st, *r.tok)
		case ok && r.kind == rowSession:
			return m.rotateToken(*st, account.Token{Ref: account.Ref{Kind: account.KindSession}, Kind: account.KindSession, Label: "session"}, false)
		}
	case key.Matches(msg, k.Fetch):
		if r, ok := s.selected(); ok && canFetch(r) {
			return m.fetchToken(*st, *r.tok)
		}
		m.setStatus("f stores the token the server holds for a slash command or webhook: move to one first")
		return nil
	case key.Matches(msg, k.Revoke):
		r, ok := s.selected()
		switch {
		case ok && r.kind == rowToken:
			return m.confirmRevoke(*st, *r.tok)
		case ok && r.kind == rowSession:
			return m.confirmRevoke(*st, account.Token{Ref: account.Ref{Kind: account.KindSession}, Kind: account.KindSession, Label: "session"})
		}
	case key.Matches(msg, k.Open):
		r, ok := s.selected()
		if ok && r.kind == rowMFA {
			return m.openMFA(*st, false)
		}
		if ok {
			m.setStatus("r regenerates the selected token" + map[bool]string{true: ", x revokes it", false: ""}[canRevoke(r)] +
				map[bool]string{true: ", f stores the token the server holds now", false: ""}[canFetch(r)])
		}
	}
	return nil
}

// canFetch: the server shows slash-command and webhook tokens, so keyturn
// can store the current one without rotating it.
func canFetch(r acctRow) bool {
	return r.kind == rowToken && r.tok != nil && (r.tok.Kind == account.KindCommand || r.tok.Kind == account.KindWebhook)
}

func canRevoke(r acctRow) bool {
	if r.kind == rowSession {
		return true
	}
	return r.kind == rowToken && (r.tok.Kind == account.KindUserToken || r.tok.Kind == account.KindPAT)
}

// autoRegen renews the Capillary session a minute before it expires, once
// per expiry, while the account is open. A failure stops it: it is never
// retried by itself.
func (s *accountScreen) autoRegen(m *Model) tea.Cmd {
	st := s.st
	if st == nil || st.Service != account.Capillary || !st.SignedIn || st.Expires == nil || s.autoOff || s.autoStopped != "" {
		return nil
	}
	if m.running(s.autoOp) || st.Expires.Sub(m.clock) > autoRegenBefore || s.autoFor.Equal(*st.Expires) {
		return nil
	}
	s.autoFor = *st.Expires
	name := s.name
	var cmd tea.Cmd
	s.autoOp, cmd = m.start("Regenerating the session…", func(ctx context.Context) (any, error) {
		return m.mgr.Rotate(ctx, name, account.Ref{Kind: account.KindSession}, nil)
	}, func(val any, err error) tea.Cmd {
		var ns *account.NotStoredError
		if errors.As(err, &ns) {
			if m.screen == screenAccount && m.acct.name == name {
				m.acct.autoStopped = "the last token was not saved"
			}
			return tea.Batch(m.showIssued("Session regenerated, but NOT saved", "keyturn renewed the session before it expired, and the store refused the new token.", ns.Issued, ns.Err), m.reload())
		}
		if err != nil {
			if m.screen == screenAccount && m.acct.name == name {
				m.acct.autoStopped = "stopped after a failure"
			}
			m.showError("Automatic regeneration of "+name+"'s session failed", err)
			return m.reload()
		}
		iss, _ := val.(*account.Issued)
		if m.screen == screenAccount && m.acct.name == name && iss != nil {
			m.acct.lastAuto = "renewed automatically at " + m.clock.Local().Format("15:04:05") + ", saved to " + storeName(iss.Store) + " as " + iss.Name
		}
		return m.reload()
	})
	return cmd
}

// What each action breaks, in words, for the confirm dialogs.

func rotateConsequence(st account.Status, t account.Token) []string {
	label := t.Label
	switch t.Kind {
	case account.KindCommand:
		return []string{
			"Mattermost replaces the token of the slash command " + label + " (team " + t.Team + ") at once.",
			"The integration that checks this slash command's token must get the new one, or it will refuse Mattermost's requests.",
			"If the answer never arrives, keyturn will not retry: it tells you how to check.",
		}
	case account.KindWebhook:
		return []string{
			"Mattermost replaces the token of the outgoing webhook \"" + label + "\" (team " + t.Team + ") at once.",
			"The service receiving this webhook must check the new token, or it will reject Mattermost's posts.",
		}
	case account.KindUserToken:
		return []string{
			"keyturn creates a new user access token \"" + label + "\", saves it, checks that it works, then revokes the old one.",
			"Whatever uses the old token stops working once it is revoked: give it the new one.",
		}
	case account.KindPAT:
		return []string{
			"Rocket.Chat replaces the personal access token \"" + label + "\" at once.",
			"Every script or integration using it stops working until it gets the new token.",
		}
	}
	return []string{"The server replaces the token."}
}

func (m *Model) confirmRotate(st account.Status, t account.Token) tea.Cmd {
	title := "Regenerate " + kindName(t.Kind) + "?"
	m.pushDialog(newConfirmDialog(title, rotateConsequence(st, t), "Regenerate", true, func() tea.Cmd {
		return m.rotateToken(st, t, true)
	}))
	return nil
}

// rotateToken regenerates a token (or the Capillary session) and shows the
// result dialog: where the new token was saved, or that it was NOT.
func (m *Model) rotateToken(st account.Status, t account.Token, _ bool) tea.Cmd {
	name := st.Name
	ref := t.Ref
	what := describeToken(t)
	f := &flow{title: "Regenerate · " + what, label: "Regenerating " + kindName(t.Kind) + "…", acct: name}
	f.run = func(ctx context.Context, ans *account.Answer, resend bool) (any, error) {
		return m.mgr.Rotate(ctx, name, ref, ans)
	}
	f.done = m.issuedDone(what, issuedTitles{notSaved: "Regenerated, but NOT saved", failed: "Could not regenerate " + what, saved: "New"})
	return m.runAction("Regenerate", f)
}

// fetchToken stores the token the server holds now for a slash command or
// webhook, and shows where it went.
func (m *Model) fetchToken(st account.Status, t account.Token) tea.Cmd {
	name, ref, what := st.Name, t.Ref, describeToken(t)
	f := &flow{title: "Fetch · " + what, label: "Reading the " + kindName(t.Kind) + "…", acct: name}
	f.run = func(ctx context.Context, _ *account.Answer, _ bool) (any, error) {
		return m.mgr.Fetch(ctx, name, ref)
	}
	f.done = m.issuedDone(what, issuedTitles{notSaved: "Fetched, but NOT saved", failed: "Could not fetch " + what, saved: "Current"})
	return m.runAction("Fetch", f)
}

func describeToken(t account.Token) string {
	switch t.Kind {
	case account.KindCommand:
		return "slash command " + t.Label + " (team " + t.Team + ")"
	case account.KindWebhook:
		return "outgoing webhook \"" + t.Label + "\" (team " + t.Team + ")"
	case account.KindUserToken:
		return "user access token \"" + t.Label + "\""
	case account.KindPAT:
		return "personal access token \"" + t.Label + "\""
	case account.KindSession:
		return "the Capillary session"
	}
	return t.Ref.String()
}

func (m *Model) confirmRevoke(st account.Status, t account.Token) tea.Cmd {
	what := describeToken(t)
	var lines []string
	switch t.Kind {
	case account.KindCommand, account.KindWebhook:
		m.setStatus("Mattermost cannot revoke a " + kindName(t.Kind) + ", only regenerate it (r)")
		return nil
	case account.KindSession:
		lines = []string{"Capillary ends the current session token now. Anything using it is refused; regenerate (r) or sign in again to get a new one."}
	default:
		lines = []string{
			"The server deletes " + what + " now. Anything using it is refused from then on.",
			"keyturn also deletes its stored copy.",
		}
	}
	m.pushDialog(newConfirmDialog("Revoke "+kindName(t.Kind)+"?", lines, "Revoke", true, func() tea.Cmd {
		name, ref := st.Name, t.Ref
		f := &flow{title: "Revoke · " + what, label: "Revoking…", acct: name}
		f.run = func(ctx context.Context, ans *account.Answer, _ bool) (any, error) {
			return nil, m.mgr.Revoke(ctx, name, ref, ans)
		}
		f.done = func(_ any, err error) tea.Cmd {
			if err != nil {
				m.showError("Could not revoke "+what, err)
			} else {
				m.setStatus("Revoked " + what)
			}
			return m.reload()
		}
		return m.runAction("Revoke", f)
	}))
	return nil
}

func (m *Model) confirmSignOut(st account.Status) tea.Cmd {
	lines := []string{"keyturn ends the session on " + host(st.URL) + " and deletes the credential from " + storeName(m.mgr.Store()) + "."}
	if st.Via == "personal access token" {
		lines = []string{"keyturn deletes the credential from " + storeName(m.mgr.Store()) + ". The personal access token itself stays valid on the server (a logout would delete it)."}
	}
	lines = append(lines, "Tokens keyturn issued stay in the store and keep working.")
	name := st.Name
	m.pushDialog(newConfirmDialog("Sign out of "+name+"?", lines, "Sign out", false, func() tea.Cmd {
		f := &flow{title: "Sign out · " + name, label: "Signing out…", acct: name}
		f.run = func(ctx context.Context, _ *account.Answer, _ bool) (any, error) {
			return nil, m.mgr.Logout(ctx, name)
		}
		f.done = func(_ any, err error) tea.Cmd {
			if err != nil {
				m.showError("Sign-out of "+name, err)
			} else {
				m.setStatus("Signed out of " + name)
			}
			return m.reload()
		}
		return m.runAction("Sign out", f)
	}))
	return nil
}

// View.

func (s *accountScreen) view(m *Model, w, h int) string {
	st := s.st
	if st == nil {
		return "  " + m.st.Subtle.Render("Loading "+s.name+"…")
	}
	var head []string
	who := st.User
	if st.Service == account.Capillary {
		who = strings.ToLower(st.Extra.IdentifierType) + " " + st.Extra.Identifier + " · brand " + st.Extra.Brand
	}
	head = append(head, " "+m.st.badge(st.Service)+" "+m.st.Bold.Render(st.Name)+m.st.Subtle.Render("  "+serviceName(st.Service)+" at "+host(st.URL)+" · "+who))
	var state string
	switch {
	case st.Problem != "":
		// Wrapped, not cut: its end says what to do.
		state = m.st.Error.Render(strings.ReplaceAll(wrap("! "+st.Problem, w-2), "\n", "\n "))
	case !st.SignedIn && st.Pending != "":
		state = m.st.Warn.Render("◐ A sign-in is waiting for a code.") + " Press s to sign in again."
	case !st.SignedIn:
		state = m.st.Faint.Render("○ Not signed in.") + " Press s to sign in."
	default:
		state = m.st.OK.Render("● Signed in")
		if st.Via != "" {
			state += m.st.Subtle.Render(" with a " + st.Via)
		}
		if st.Since != nil {
			state += m.st.Subtle.Render(" · " + age(m.clock, *st.Since))
		}
		state += m.st.Subtle.Render(" · credential in " + storeName(st.Store))
	}
	head = append(head, " "+state, "")

	type line struct {
		text string
		row  int
	}
	var lines []line
	ri, cur := 0, s.nav.index()
	s.drawn = 0
	// A row more than a screen away from the cursor's cannot be in the
	// window (every row takes a line at least): it stands in as one blank
	// line instead of being drawn, so a frame costs the screen, not the list.
	avail := max(h-len(head), 1)
	for _, sec := range s.sections() {
		heading := " " + m.st.Section.Render(sec.title)
		if sec.kind != "" && cur >= ri && cur < ri+len(sec.rows) {
			heading += m.st.Faint.Render("   R rotates all " + itoa(len(sec.rows)))
		}
		lines = append(lines, line{text: heading, row: -1})
		if len(sec.rows) == 0 {
			lines = append(lines, line{text: "   " + m.st.Faint.Render(sec.empty), row: -1})
		}
		for _, r := range sec.rows {
			if !s.fullDraw && (ri < cur-avail || ri > cur+avail) {
				lines = append(lines, line{row: ri})
				ri++
				continue
			}
			s.drawn++
			mark := "  "
			if ri == cur {
				mark = m.st.Cursor.Render("› ")
			}
			for j, part := range strings.Split(s.rowText(m, r, w-4), "\n") {
				text := "    " + part
				if j == 0 {
					text = " " + mark + part
					if ri == cur {
						text = " " + mark + m.st.Selected.Render(pad(ansi.Strip(part), w-3))
					}
				}
				lines = append(lines, line{text: text, row: ri})
			}
			ri++
		}
		lines = append(lines, line{row: -1})
	}
	// The list's window, line by line (headings scroll too): the selected
	// row's last line stays in view.
	last := -1
	for i, l := range lines {
		if l.row == cur {
			last = i
		}
	}
	start, end := fitWindow(len(lines), last, h-len(head), nil)
	out := head
	for _, l := range lines[start:end] {
		out = append(out, l.text)
	}
	return strings.Join(out, "\n")
}

func (s *accountScreen) rowText(m *Model, r acctRow, w int) string {
	switch r.kind {
	case rowMFA:
		switch {
		case s.mfaErr != nil:
			return m.st.Error.Render("could not check: " + truncate(s.mfaErr.Error(), w-20))
		case s.mfa == nil:
			return m.st.Subtle.Render("checking…")
		case *s.mfa && s.st.Service == account.RocketChat:
			return m.st.OK.Render("✓ active") + m.st.Faint.Render("  · M disables (asks for a current code)")
		case *s.mfa:
			return m.st.OK.Render("✓ active") + m.st.Faint.Render("  · m replaces the secret (asks first) · M disables")
		}
		return m.st.Warn.Render("not active") + m.st.Faint.Render("  · m sets it up with a QR code")
	case rowSession:
		return s.sessionText(m, w)
	}
	t := r.tok
	lw := 30
	if w < 100 {
		lw = 22
	}
	label := pad(truncate(t.Label, lw), lw)
	var parts []string
	if t.ID != "" && t.Kind != account.KindPAT {
		parts = append(parts, truncate(t.ID, 10))
	}
	if t.Active != nil && !*t.Active {
		parts = append(parts, "inactive")
	}
	if t.Created != nil {
		parts = append(parts, "created "+age(m.clock, *t.Created))
	}
	if t.LastPart != "" {
		parts = append(parts, "…"+t.LastPart)
	}
	if t.Bypass2FA != nil && *t.Bypass2FA {
		parts = append(parts, "bypasses 2FA")
	}
	held := m.st.Faint.Render("not held by keyturn")
	if t.Stored {
		held = m.st.OK.Render("✓ saved …" + t.Fingerprint)
	}
	return m.st.Bold.Render(label) + " " + m.st.Subtle.Render(strings.Join(parts, " · ")) + "  " + held
}

func (s *accountScreen) sessionText(m *Model, w int) string {
	var t *account.Token
	for i := range s.tokens {
		if s.tokens[i].Kind == account.KindSession {
			t = &s.tokens[i]
		}
	}
	exp := s.st.Expires
	if t != nil && t.Expires != nil {
		exp = t.Expires
	}
	var b []string
	switch {
	case exp == nil:
		b = append(b, m.st.Subtle.Render("no session token stored"))
	case countdown(m.clock, *exp) == "":
		b = append(b, m.st.Error.Render("expired at "+exp.Local().Format("15:04:05")))
	case exp.Sub(m.clock) < 2*time.Minute:
		b = append(b, m.st.Warn.Render("expires in "+countdown(m.clock, *exp))+m.st.Subtle.Render(" ("+exp.Local().Format("15:04:05")+")"))
	default:
		b = append(b, m.st.OK.Render("expires in "+countdown(m.clock, *exp))+m.st.Subtle.Render(" ("+exp.Local().Format("15:04:05")+")"))
	}
	if t != nil && t.Stored {
		b = append(b, m.st.OK.Render("✓ saved …"+t.Fingerprint))
	}
	switch {
	case s.autoOff:
		b = append(b, m.st.Faint.Render("auto-regenerate off (t)"))
	case s.autoStopped != "":
		b = append(b, m.st.Warn.Render("auto-regenerate "+s.autoStopped+" (t restarts)"))
	default:
		b = append(b, m.st.Subtle.Render("auto-regenerate on"))
	}
	line := strings.Join(b, "  ·  ")
	if s.lastAuto != "" {
		for _, l := range strings.Split(wrap(s.lastAuto, w-6), "\n") {
			line += "\n " + m.st.Faint.Render(l)
		}
	}
	return line + "\n " + m.st.Faint.Render("r regenerates now · x ends the session · t switches auto-regenerate")
}

func (s *accountScreen) short(m *Model) []key.Binding {
	k := m.keys
	st := s.st
	bs := []key.Binding{k.Back}
	if st == nil {
		return bs
	}
	if !st.SignedIn {
		return append(bs, k.SignIn, k.Refresh)
	}
	switch st.Service {
	case account.Mattermost, account.RocketChat:
		bs = append(bs, k.NewToken, k.Rotate)
		// Mattermost cannot revoke slash-command and webhook tokens, only
		// regenerate them: no revoke hint on those rows.
		if r, ok := s.selected(); ok && canFetch(r) {
			bs = append(bs, k.Fetch)
		} else {
			bs = append(bs, k.Revoke)
		}
		bs = append(bs, k.MFAShort)
	case account.Capillary:
		bs = append(bs, k.Rotate, k.AutoRegen, k.Revoke)
	}
	return append(bs, k.SignOut)
}

func (s *accountScreen) full(m *Model) []key.Binding {
	k := m.keys
	return []key.Binding{k.Back, k.SignIn, k.SignOut, k.NewToken, k.Rotate, k.RotateAll, k.Fetch, k.Revoke, k.MFA, k.MFAOff, k.AutoRegen}
}
