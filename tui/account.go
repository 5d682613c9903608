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
	states    map[string]account.InventoryToken // by REF: age against the policies
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
	id, cmd := startOpLate(m, "Loading "+name+"…", func(ctx context.Context) (*account.Status, error) {
		return m.mgr.Show(ctx, name)
	}, func(val *account.Status, err error) []action {
		if m.screen != screenAccount || m.acct.gen != gen {
			return nil
		}
		s := &m.acct
		if err != nil {
			return acts(errorBanner("Cannot read "+name, err))
		}
		s.st = val
		if !s.st.SignedIn {
			s.tokens, s.tokLoaded, s.tokErr, s.mfa, s.mfaErr = nil, true, nil, nil, nil
		}
		s.syncRows()
		if !s.st.SignedIn {
			return nil
		}
		return acts(runCmd(s.loadServer(m, gen)))
	}, nil) // a read: when it is cancelled (the screen left), there is nothing to say
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
	tid, tcmd := startOp(m, "Listing tokens…", func(ctx context.Context) (judgedTokens, error) {
		toks, err := m.mgr.Tokens(ctx, name, account.ListFilter{})
		if err != nil {
			return judgedTokens{}, err
		}
		states, _ := m.mgr.Judge(name, toks, overviewWarn) // no marks rather than no list
		return judgedTokens{toks, states}, nil
	}, func(jt judgedTokens, err error) []action {
		if m.screen != screenAccount || m.acct.gen != gen {
			return nil
		}
		s := &m.acct
		s.tokLoaded, s.tokErr = true, err
		s.tokens, s.states = jt.tokens, jt.states
		s.syncRows()
		return acts(errorBanner("Cannot list the tokens of "+name, err))
	})
	s.loads = append(s.loads, tid)
	if account.Info(service).MFA == nil {
		return tcmd
	}
	mid, mcmd := startOp(m, "", func(ctx context.Context) (bool, error) {
		return m.mgr.MFAActive(ctx, name)
	}, func(val bool, err error) []action {
		if m.screen != screenAccount || m.acct.gen != gen {
			return nil
		}
		s := &m.acct
		s.mfaErr = err
		if err == nil {
			on := val
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
	info := account.Info(s.st.Service)
	var out []section
	for _, part := range info.Page {
		k, _ := info.Kind(part)
		switch {
		case part == account.SectionMFA:
			out = append(out, section{title: info.MFA.Title, rows: []acctRow{{kind: rowMFA}}})
		case k.Session:
			out = append(out, section{title: k.Title, rows: []acctRow{{kind: rowSession}}})
		case k.PerTeam:
			out = append(out, teamSections(k, byKind(k.Kind), loading)...)
		default:
			empty := loading
			if k.Kind == info.Creates {
				empty = emptyOr(loading, "none · n creates one")
			}
			out = append(out, section{title: k.Title, rows: rows(byKind(k.Kind)), empty: empty, kind: k.Kind})
		}
	}
	return out
}

// teamSections are a kind's tokens in one section per team, by team name.
func teamSections(k account.TokenKind, toks []*account.Token, loading string) []section {
	teams := map[string][]acctRow{}
	for _, t := range toks {
		teams[t.Team] = append(teams[t.Team], acctRow{kind: rowToken, tok: t})
	}
	names := make([]string, 0, len(teams))
	for n := range teams {
		names = append(names, n)
	}
	sort.Strings(names)
	if len(names) == 0 {
		return []section{{title: k.Title, empty: loading}}
	}
	var out []section
	for _, n := range names {
		out = append(out, section{title: k.Title + " · team " + n, rows: teams[n], kind: k.Kind, team: n})
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

func (s *accountScreen) update(m *Model, msg tea.KeyPressMsg) []action {
	k := m.keys
	st := s.st
	var svc *account.ServiceInfo
	if st != nil {
		svc = account.Info(st.Service)
	}
	switch {
	case key.Matches(msg, k.Back):
		return acts(runCmd(m.back()))
	case s.nav.navigate(msg, listKeys{up: k.Up, down: k.Down}):
	case key.Matches(msg, k.Refresh):
		return acts(runCmd(s.load(m)))
	case key.Matches(msg, k.History):
		return m.openHistory(s.name)
	case st == nil:
		return nil
	case key.Matches(msg, k.SignIn):
		return acts(openDlg(newSignInDialog(m, *st)))
	case !st.SignedIn:
		return nil
	case key.Matches(msg, k.SignOut):
		return m.confirmSignOut(*st)
	case key.Matches(msg, k.MFA) && svc.MFA != nil:
		return m.openMFA(*st, false)
	case key.Matches(msg, k.MFAOff) && svc.MFA != nil:
		return m.confirmDisableMFA(*st)
	case key.Matches(msg, k.NewToken) && svc.Creates != "":
		return acts(openDlg(newCreateDialog(m, *st)))
	case key.Matches(msg, k.AutoRegen) && svc.AutoRegenerate:
		if s.autoStopped != "" {
			// t restarts it after a failure.
			s.autoOff, s.autoStopped, s.autoFor = false, "", time.Time{}
		} else {
			s.autoOff = !s.autoOff
		}
		if s.autoOff {
			return acts(status("Auto-regeneration off"))
		}
		return acts(status("Auto-regeneration on: the session is renewed a minute before it expires"), runCmd(s.autoRegen(m)))
	case key.Matches(msg, k.RotateAll) && svc.RotateAll():
		sec, ok := s.selectedSection()
		if !ok || sec.kind == "" || len(sec.rows) == 0 {
			return acts(status("R rotates every token of a section: move to one of its tokens first"))
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
		return acts(status("f stores the token the server holds for a slash command or webhook: move to one first"))
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
			return acts(status("r regenerates the selected token" + map[bool]string{true: ", x revokes it", false: ""}[canRevoke(r)] +
				map[bool]string{true: ", f stores the token the server holds now", false: ""}[canFetch(r)]))
		}
	}
	return nil
}

// canFetch: the server shows slash-command and webhook tokens, so keyturn
// can store the current one without rotating it.
func canFetch(r acctRow) bool {
	return r.kind == rowToken && r.tok != nil && tokenKind(r.tok.Kind).Fetchable
}

func canRevoke(r acctRow) bool {
	if r.kind == rowSession {
		return true
	}
	return r.kind == rowToken && tokenKind(r.tok.Kind).Revocable
}

// tokenKind describes a kind, whichever service has it.
func tokenKind(kind string) account.TokenKind {
	for _, svc := range account.All() {
		if k, ok := svc.Info().Kind(kind); ok {
			return k
		}
	}
	return account.TokenKind{Kind: kind}
}

// autoRegen renews the Capillary session a minute before it expires, once
// per expiry, while the account is open. A failure stops it: it is never
// retried by itself.
func (s *accountScreen) autoRegen(m *Model) tea.Cmd {
	st := s.st
	if st == nil || !account.Info(st.Service).AutoRegenerate || !st.SignedIn || st.Expires == nil || s.autoOff || s.autoStopped != "" {
		return nil
	}
	if m.running(s.autoOp) || st.Expires.Sub(m.clock) > autoRegenBefore || s.autoFor.Equal(*st.Expires) {
		return nil
	}
	s.autoFor = *st.Expires
	name := s.name
	var cmd tea.Cmd
	s.autoOp, cmd = startOpLate(m, "Regenerating the session…", func(ctx context.Context) (*account.Issued, error) {
		return m.mgr.Rotate(ctx, name, account.Ref{Kind: account.KindSession}, nil)
	}, func(iss *account.Issued, err error) []action {
		var ns *account.NotStoredError
		if errors.As(err, &ns) {
			if m.screen == screenAccount && m.acct.name == name {
				m.acct.autoStopped = "the last token was not saved"
			}
			return append(m.showIssued("Session regenerated, but NOT saved", "keyturn renewed the session before it expired, and the store refused the new token.", ns.Issued, ns.Err), reloadScreen())
		}
		if err != nil {
			if m.screen == screenAccount && m.acct.name == name {
				m.acct.autoStopped = "stopped after a failure"
			}
			return acts(errorBanner("Automatic regeneration of "+name+"'s session failed", err), reloadScreen())
		}
		if m.screen == screenAccount && m.acct.name == name && iss != nil {
			m.acct.lastAuto = "renewed automatically at " + m.clock.Local().Format("15:04:05") + ", saved to " + storeName(iss.Store) + " as " + iss.Name
		}
		return acts(reloadScreen())
	}, lateIssued)
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

func (m *Model) confirmRotate(st account.Status, t account.Token) []action {
	title := "Regenerate " + kindName(t.Kind) + "?"
	return acts(openDlg(newConfirmDialog(title, rotateConsequence(st, t), "Regenerate", true, func() []action {
		return m.rotateToken(st, t, true)
	})))
}

// rotateToken regenerates a token (or the Capillary session) and shows the
// result dialog: where the new token was saved, or that it was NOT.
func (m *Model) rotateToken(st account.Status, t account.Token, _ bool) []action {
	name := st.Name
	ref := t.Ref
	what := describeToken(t)
	f := &flow{title: "Regenerate · " + what, label: "Regenerating " + kindName(t.Kind) + "…", acct: name}
	bindFlow(f, func(ctx context.Context, ans *account.Answer, resend bool) (*account.Issued, error) {
		return m.mgr.Rotate(ctx, name, ref, ans)
	}, m.issuedDone(what, issuedTitles{notSaved: "Regenerated, but NOT saved", failed: "Could not regenerate " + what, saved: "New"}), lateIssued)
	return m.runAction("Regenerate", f)
}

// fetchToken stores the token the server holds now for a slash command or
// webhook, and shows where it went.
func (m *Model) fetchToken(st account.Status, t account.Token) []action {
	name, ref, what := st.Name, t.Ref, describeToken(t)
	f := &flow{title: "Fetch · " + what, label: "Reading the " + kindName(t.Kind) + "…", acct: name}
	bindFlow(f, func(ctx context.Context, _ *account.Answer, _ bool) (*account.Issued, error) {
		return m.mgr.Fetch(ctx, name, ref)
	}, m.issuedDone(what, issuedTitles{notSaved: "Fetched, but NOT saved", failed: "Could not fetch " + what, saved: "Current"}), lateIssued)
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

func (m *Model) confirmRevoke(st account.Status, t account.Token) []action {
	what := describeToken(t)
	var lines []string
	switch t.Kind {
	case account.KindCommand, account.KindWebhook:
		return acts(status("Mattermost cannot revoke a " + kindName(t.Kind) + ", only regenerate it (r)"))
	case account.KindSession:
		lines = []string{"Capillary ends the current session token now. Anything using it is refused; regenerate (r) or sign in again to get a new one."}
	default:
		lines = []string{
			"The server deletes " + what + " now. Anything using it is refused from then on.",
			"keyturn also deletes its stored copy.",
		}
	}
	return acts(openDlg(newConfirmDialog("Revoke "+kindName(t.Kind)+"?", lines, "Revoke", true, func() []action {
		name, ref := st.Name, t.Ref
		f := &flow{title: "Revoke · " + what, label: "Revoking…", acct: name}
		bindFlow(f, func(ctx context.Context, ans *account.Answer, _ bool) (struct{}, error) {
			return struct{}{}, m.mgr.Revoke(ctx, name, ref, ans)
		}, func(_ struct{}, err error) []action {
			if err != nil {
				return acts(errorBanner("Could not revoke "+what, err), reloadScreen())
			}
			return acts(status("Revoked "+what), reloadScreen())
		}, nil)
		return m.runAction("Revoke", f)
	})))
}

func (m *Model) confirmSignOut(st account.Status) []action {
	lines := []string{"keyturn ends the session on " + host(st.URL) + " and deletes the credential from " + storeName(m.mgr.Store()) + "."}
	if st.Via == "personal access token" {
		lines = []string{"keyturn deletes the credential from " + storeName(m.mgr.Store()) + ". The personal access token itself stays valid on the server (a logout would delete it)."}
	}
	lines = append(lines, "Tokens keyturn issued stay in the store and keep working.")
	name := st.Name
	return acts(openDlg(newConfirmDialog("Sign out of "+name+"?", lines, "Sign out", false, func() []action {
		f := &flow{title: "Sign out · " + name, label: "Signing out…", acct: name}
		bindFlow(f, func(ctx context.Context, _ *account.Answer, _ bool) (struct{}, error) {
			return struct{}{}, m.mgr.Logout(ctx, name)
		}, func(_ struct{}, err error) []action {
			if err != nil {
				return acts(errorBanner("Sign-out of "+name, err), reloadScreen())
			}
			return acts(status("Signed out of "+name), reloadScreen())
		}, nil)
		return m.runAction("Sign out", f)
	})))
}

// View.

func (s *accountScreen) view(m *Model, w, h int) string {
	st := s.st
	if st == nil {
		return "  " + m.st.Subtle.Render("Loading "+s.name+"…")
	}
	var head []string
	who := st.User
	if account.Info(st.Service).SignIn.Identity {
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
		case *s.mfa && !account.Info(s.st.Service).MFA.Replaceable:
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
	return m.st.Bold.Render(label) + " " + m.st.Subtle.Render(strings.Join(parts, " · ")) + "  " + held + s.policyMark(m, t)
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

func (s *accountScreen) short(k keyMap) []key.Binding {
	st := s.st
	bs := []key.Binding{k.Back}
	if st == nil {
		return bs
	}
	if !st.SignedIn {
		return append(bs, k.SignIn, k.Refresh)
	}
	svc := account.Info(st.Service)
	if svc.Creates != "" {
		bs = append(bs, k.NewToken)
	}
	bs = append(bs, k.Rotate)
	if svc.AutoRegenerate {
		bs = append(bs, k.AutoRegen)
	}
	// Slash-command and webhook tokens cannot be revoked, only
	// regenerated: no revoke hint on those rows.
	if r, ok := s.selected(); ok && canFetch(r) {
		bs = append(bs, k.Fetch)
	} else {
		bs = append(bs, k.Revoke)
	}
	if svc.MFA != nil {
		bs = append(bs, k.MFAShort)
	}
	// l (history) is in the help: the footer has no room left at 80
	// columns.
	return append(bs, k.SignOut)
}

func (s *accountScreen) full(m *Model) []key.Binding {
	k := m.keys
	return []key.Binding{k.Back, k.SignIn, k.SignOut, k.NewToken, k.Rotate, k.RotateAll, k.Fetch, k.Revoke, k.MFA, k.MFAOff, k.AutoRegen, k.History}
}
