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
	denied    []account.DeniedSection // sections the server did not permit
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

func newAccountScreen(name string) accountScreen {
	return accountScreen{name: name, nav: list[acctRow]{}.identified(acctRow.id)}
}

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
		wasIn := s.st != nil && s.st.SignedIn
		s.st = val
		switch {
		case !s.st.SignedIn:
			s.tokens, s.tokLoaded, s.tokErr, s.mfa, s.mfaErr = nil, true, nil, nil, nil
		case !wasIn:
			// Just signed in: the tokens are still to come.
			s.tokLoaded = false
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
		var pe *account.PartialListError
		if errors.As(err, &pe) {
			// What loaded is shown; each refused section says so itself.
			err = nil
		}
		if err != nil {
			return judgedTokens{}, err
		}
		states, _ := m.mgr.Judge(name, toks, overviewWarn) // no marks rather than no list
		jt := judgedTokens{tokens: toks, states: states}
		if pe != nil {
			jt.denied = pe.Denied
		}
		return jt, nil
	}, func(jt judgedTokens, err error) []action {
		if m.screen != screenAccount || m.acct.gen != gen {
			return nil
		}
		s := &m.acct
		first := !s.tokLoaded
		s.tokLoaded, s.tokErr = true, err
		s.tokens, s.states, s.denied = jt.tokens, jt.states, jt.denied
		s.syncRows()
		if first {
			// The page is complete only now: it starts at its top, not
			// on the one row that was there while it loaded.
			s.nav.moveTo(0)
		}
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

// id tells rows apart across reloads: the token's kind and server id.
func (r acctRow) id() string {
	if r.tok == nil {
		return itoa(int(r.kind))
	}
	return itoa(int(r.kind)) + "/" + r.tok.Kind + "/" + r.tok.Ref.String()
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
			out = append(out, teamSections(k, byKind(k.Kind), loading, s.denied)...)
		default:
			empty := loading
			if k.Kind == info.Creates {
				empty = emptyOr(loading, "none · n creates one")
			}
			if d, ok := deniedIn(s.denied, k.Kind, ""); ok {
				empty = notPermitted(d)
			}
			out = append(out, section{title: k.Title, rows: rows(byKind(k.Kind)), empty: empty, kind: k.Kind})
		}
	}
	return out
}

// deniedIn is the refused section of kind (and team), if any.
func deniedIn(denied []account.DeniedSection, kind, team string) (account.DeniedSection, bool) {
	for _, d := range denied {
		if d.Kind == kind && d.Team == team {
			return d, true
		}
	}
	return account.DeniedSection{}, false
}

// notPermitted is a refused section's line: why, and what grants it.
func notPermitted(d account.DeniedSection) string {
	return "not permitted for this user · needs " + d.Grant
}

// teamSections are a kind's tokens in one section per team, by team name;
// a team whose list the server refused says so in its own section.
func teamSections(k account.TokenKind, toks []*account.Token, loading string, denied []account.DeniedSection) []section {
	teams := map[string][]acctRow{}
	for _, t := range toks {
		teams[t.Team] = append(teams[t.Team], acctRow{kind: rowToken, tok: t})
	}
	empties := map[string]string{}
	for _, d := range denied {
		if d.Kind == k.Kind {
			if _, ok := teams[d.Team]; !ok {
				teams[d.Team] = nil // its own section, saying why it is empty
			}
			empties[d.Team] = notPermitted(d)
		}
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
		out = append(out, section{title: k.Title + " · team " + n, rows: teams[n], kind: k.Kind, team: n, empty: emptyOr(loading, empties[n])})
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
	case s.nav.navigate(msg, listKeys{up: k.Up, down: k.Down, top: k.Top, bottom: k.Bottom}):
	case key.Matches(msg, k.Refresh):
		return acts(runCmd(s.load(m)))
	case key.Matches(msg, k.History):
		return m.openHistory(s.name)
	case key.Matches(msg, k.Vault):
		name := s.name
		cmd := m.openVault()
		m.vault.from = name
		return acts(runCmd(cmd))
	case st == nil:
		return nil
	case key.Matches(msg, k.SignIn):
		return acts(openDlg(newSignInDialog(m, *st)))
	case key.Matches(msg, k.Edit):
		return acts(openDlg(newEditAccountDialog(m, *st)))
	case !st.SignedIn:
		return nil
	case key.Matches(msg, k.SignOut):
		return m.confirmSignOut(*st)
	case key.Matches(msg, k.MFA) && svc.MFA != nil:
		return s.openMFA(m)
	case key.Matches(msg, k.MFAOff) && svc.MFA != nil:
		if _, off := s.mfaOffers(); !off {
			return acts(status("MFA is not active on " + st.Name + ": there is nothing to disable"))
		}
		return m.confirmDisableMFA(*st)
	case key.Matches(msg, k.NewToken) && svc.Creates != "":
		d := newCreateDialog(m, *st)
		return acts(openDlg(d), runCmd(d.loadLimit(m)))
	case key.Matches(msg, k.AutoRegen) && svc.AutoRegenerate:
		if s.autoStopped != "" {
			// t restarts it after a failure.
			s.autoOff, s.autoStopped, s.autoFor = false, "", time.Time{}
		} else {
			s.autoOff = !s.autoOff
		}
		if s.autoOff {
			return acts(status("Auto-rotation off"))
		}
		return acts(status("Auto-rotation on: the session is renewed a minute before it expires"), runCmd(s.autoRegen(m)))
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
			return m.confirmRotate(*st, sessionToken)
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
		case ok && r.kind == rowSession && s.sessionStored():
			return m.confirmRevoke(*st, sessionToken)
		case ok && r.kind == rowSession:
			return acts(status("No session token is stored: there is none to end. " + k.Rotate.Help().Key + " gets a new one."))
		}
	case key.Matches(msg, k.Open):
		r, ok := s.selected()
		if ok && r.kind == rowMFA {
			return s.openMFA(m)
		}
		if ok {
			return acts(status("r rotates the selected token (asks first)" + map[bool]string{true: ", x revokes it", false: ""}[canRevoke(r)] +
				map[bool]string{true: ", f stores the token the server holds now", false: ""}[canFetch(r)]))
		}
	}
	return nil
}

// openMFA opens the MFA setup the account is ready for: a replaced secret
// no code confirmed is resumed, not asked about again (the old one is gone
// already); an active one is asked about at once.
func (s *accountScreen) openMFA(m *Model) []action {
	st := *s.st
	if setup, _ := s.mfaOffers(); !setup {
		return acts(status("TOTP is already active on " + st.Name + ". To set it up again, disable it first (" + m.keys.MFAOff.Help().Key + ", with a current code)."))
	}
	switch {
	case st.MFAUnconfirmed != nil:
		return m.openMFA(st, true)
	case s.mfa != nil && *s.mfa:
		return m.askReplaceMFA(st)
	}
	return m.openMFA(st, false)
}

// sessionToken stands for the Capillary session in the token operations.
var sessionToken = account.Token{Ref: account.Ref{Kind: account.KindSession}, Kind: account.KindSession, Label: "session"}

// sessionStored reports whether keyturn holds a session token: the row
// says "no session token stored" otherwise, and there is none to end.
func (s *accountScreen) sessionStored() bool {
	if s.st != nil && s.st.Expires != nil {
		return true
	}
	for _, t := range s.tokens {
		if t.Kind == account.KindSession && (t.Stored || t.Expires != nil) {
			return true
		}
	}
	return false
}

// mfaOffers says whether m (set up, replace or resume) and M (disable)
// would act on the account now, from what the server last said.
func (s *accountScreen) mfaOffers() (setup, disable bool) {
	if s.st == nil || !s.st.SignedIn {
		return false, false
	}
	info := account.Info(s.st.Service).MFA
	switch {
	case info == nil:
		return false, false
	case s.mfa == nil:
		// Not known yet (or the check failed): m asks the server.
		return true, false
	case !*s.mfa:
		return true, false
	}
	return info.Replaceable || s.st.MFAUnconfirmed != nil, true
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
	s.autoOp, cmd = startOpLate(m, "Rotating the session…", func(ctx context.Context) (*account.Issued, error) {
		return m.mgr.Rotate(ctx, name, account.Ref{Kind: account.KindSession}, nil)
	}, func(iss *account.Issued, err error) []action {
		var ns *account.NotStoredError
		if errors.As(err, &ns) {
			if m.screen == screenAccount && m.acct.name == name {
				m.acct.autoStopped = "the last token was not saved"
			}
			return append(m.showIssued("Session rotated, but NOT saved", "keyturn renewed the session before it expired, and the store refused the new token.", ns.Issued, ns.Err), reloadScreen())
		}
		if err != nil {
			if m.screen == screenAccount && m.acct.name == name {
				m.acct.autoStopped = "stopped after a failure"
			}
			return acts(errorBanner("Automatic rotation of "+name+"'s session failed", err), reloadScreen())
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
			"Mattermost replaces the token of the slash command " + label + " in team " + t.Team + " at once.",
			"The integration that checks this slash command's token must get the new one, or it will refuse Mattermost's requests.",
			"If the answer never arrives, keyturn will not retry: it tells you how to check.",
		}
	case account.KindWebhook:
		return []string{
			"Mattermost replaces the token of the outgoing webhook \"" + label + "\" in team " + t.Team + " at once.",
			"The service receiving this webhook must check the new token, or it will reject Mattermost's posts.",
		}
	case account.KindUserToken:
		switch st.UserTokenRotation {
		case account.RotatesInPlace:
			return []string{
				"Mattermost gives the user access token \"" + label + "\" a new secret at once; it keeps its id, and the old secret stops working immediately.",
				"Whatever uses the old secret must get the new one. If the answer never arrives, keyturn will not retry: it tells you what to do.",
			}
		case account.RotatesByCreate:
			return []string{
				"keyturn creates a new user access token \"" + label + "\", saves it, checks that it works, then revokes the old one.",
				"Whatever uses the old token stops working once it is revoked: give it the new one.",
			}
		}
		return []string{
			"Mattermost gives the user access token \"" + label + "\" a new secret in place where it can (11.10 and later); otherwise keyturn creates a new token, saves it, checks that it works, then revokes the old one.",
			"Whatever uses the old token stops working: give it the new one. The new one keeps the old one's lifetime.",
		}
	case account.KindPAT:
		return []string{
			"Rocket.Chat replaces the personal access token \"" + label + "\" at once.",
			"Every script or integration using it stops working until it gets the new token.",
		}
	case account.KindSession:
		return []string{
			"Capillary issues a new session token and keyturn saves it; the current one stops working at once.",
			"Whatever uses the current session token must get the new one.",
		}
	}
	return []string{"The server replaces the token."}
}

func (m *Model) confirmRotate(st account.Status, t account.Token) []action {
	title := "Rotate " + kindName(t.Kind) + "?"
	return acts(openDlg(newConfirmDialog(title, rotateConsequence(st, t), "Rotate", true, func() []action {
		return m.rotateToken(st, t, true)
	})))
}

// rotateToken regenerates a token (or the Capillary session) and shows the
// result dialog: where the new token was saved, or that it was NOT.
func (m *Model) rotateToken(st account.Status, t account.Token, _ bool) []action {
	name := st.Name
	ref := t.Ref
	what := describeToken(t)
	f := &flow{title: "Rotate · " + what, label: "Rotating " + kindName(t.Kind) + "…", acct: name}
	bindFlow(f, func(ctx context.Context, ans *account.Answer, resend bool) (*account.Issued, error) {
		return m.mgr.Rotate(ctx, name, ref, ans)
	}, m.issuedDone(what, issuedTitles{notSaved: "Rotated, but NOT saved", failed: "Could not rotate " + what, saved: "New"}), lateIssued)
	return m.runAction("Rotate", f)
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
		return "slash command " + t.Label + " in team " + t.Team
	case account.KindWebhook:
		return "outgoing webhook \"" + t.Label + "\" in team " + t.Team
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
		return acts(status("Mattermost cannot revoke a " + kindName(t.Kind) + ", only rotate it (r)"))
	case account.KindSession:
		lines = []string{"Capillary ends the current session token now. Anything using it is refused; rotate (r) or sign in again to get a new one."}
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
			return acts(succeeded(name, "Revoked "+what), reloadScreen())
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
			var local *account.LocalOnlyError
			switch {
			case errors.As(err, &local):
				// Signed out here; the server has no call that ends it.
				return acts(status("Signed out of "+name+" here; "+localOnlyWords(local)), reloadScreen())
			case err != nil:
				return acts(errorBanner("Sign-out of "+name, err), reloadScreen())
			}
			return acts(succeeded(name, "Signed out of "+name), reloadScreen())
		}, nil)
		return m.runAction("Sign out", f)
	})))
}

// localOnlyWords says a session ended only here lasts on the server.
func localOnlyWords(e *account.LocalOnlyError) string {
	s := "the server cannot end a session without MFA: it stays valid until it expires"
	if e.Expires != nil {
		s += " at " + e.Expires.Local().Format("15:04")
	}
	return s
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
	head = append(head, " "+state)
	if soon := account.ExpiringSoon(s.tokens, m.clock); len(soon) > 0 {
		names := make([]string, 0, len(soon))
		for _, t := range soon {
			names = append(names, t.Label+" (in "+roughUntil(m.clock, *t.Expires)+")")
		}
		head = append(head, " "+m.st.Warn.Render(truncate("⚠ expiring within 7 days: "+strings.Join(names, ", "), w-2)))
	}
	head = append(head, "")

	type line struct {
		text    string
		row     int
		heading bool
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
		lines = append(lines, line{text: heading, row: -1, heading: true})
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
	rows := h - len(head)
	start, end := scrollWindow(len(lines), last, rows, nil)
	// A window that starts inside a section starts at its heading when the
	// cursor's row still shows, else repeats the heading above its rows.
	sticky := -1
	if start > 0 && !lines[start].heading {
		hd := start
		for hd > 0 && !lines[hd].heading {
			hd--
		}
		if s2, e2 := scrollWindow(len(lines)-hd, last-hd, rows, nil); s2 == 0 {
			start, end = hd, hd+e2
		} else if start, end = scrollWindow(len(lines), last, rows-1, nil); !lines[start].heading {
			for sticky = start; !lines[sticky].heading; sticky-- {
			}
		}
	}
	countRows := func(ls []line) int {
		seen := map[int]bool{}
		for _, l := range ls {
			if l.row >= 0 {
				seen[l.row] = true
			}
		}
		return len(seen)
	}
	out := head
	if n := countRows(lines[:start]); n > 0 {
		out = append(out, m.st.Faint.Render(moreAbove(n)))
	}
	if sticky >= 0 {
		out = append(out, lines[sticky].text)
	}
	for _, l := range lines[start:end] {
		out = append(out, l.text)
	}
	if n := countRows(lines[end:]); n > 0 {
		out = append(out, m.st.Faint.Render(moreBelow(n)))
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
		case *s.mfa && s.st.MFAUnconfirmed != nil:
			out := m.st.Warn.Render("! secret replaced, not confirmed by a code") + m.st.Faint.Render("  · m finishes the setup")
			for _, l := range strings.Split(wrap("Replaced "+age(m.clock, *s.st.MFAUnconfirmed)+": sign-in needs the new secret, which keyturn no longer shows.", w-6), "\n") {
				out += "\n " + m.st.Faint.Render(l)
			}
			return out
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
	status := ""
	if t.Status == account.StateDisabled {
		status = m.st.Warn.Render("disabled") + " "
	}
	mark := s.policyMark(m, t)
	switch {
	case mark != "": // the mark says when it expires
	case t.Expires != nil && t.Status == account.StateExpired:
		status = m.st.Error.Render("expired "+age(m.clock, *t.Expires)) + " "
	case t.Expires != nil && t.Status == account.StateActive && t.Expires.Sub(m.clock) <= account.ExpiryWarning:
		status = m.st.Warn.Render("expires in "+roughUntil(m.clock, *t.Expires)) + " "
	case t.Expires != nil && t.Status == account.StateActive:
		parts = append(parts, "expires in "+roughUntil(m.clock, *t.Expires))
	case t.Expires == nil && t.Active != nil:
		parts = append(parts, "no expiry")
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
	return m.st.Bold.Render(label) + " " + status + m.st.Subtle.Render(strings.Join(parts, " · ")) + "  " + held + mark
}

// roughUntil is how long until t, for people: 3d, 5h, 20m.
func roughUntil(now, t time.Time) string {
	d := t.Sub(now)
	switch {
	case d >= 48*time.Hour:
		return itoa(int(d.Hours()/24)) + "d"
	case d >= time.Hour:
		return itoa(int(d.Hours())) + "h"
	case d >= time.Minute:
		return itoa(int(d.Minutes())) + "m"
	}
	return "under a minute"
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
		b = append(b, m.st.Faint.Render("auto-rotate off (t)"))
	case s.autoStopped != "":
		b = append(b, m.st.Warn.Render("auto-rotate "+s.autoStopped+" (t restarts)"))
	default:
		b = append(b, m.st.Subtle.Render("auto-rotate on"))
	}
	line := strings.Join(b, "  ·  ")
	if s.lastAuto != "" {
		for _, l := range strings.Split(wrap(s.lastAuto, w-6), "\n") {
			line += "\n " + m.st.Faint.Render(l)
		}
	}
	hint := "r rotates now · t switches auto-rotate"
	if s.sessionStored() {
		hint = "r rotates now · x ends the session · t switches auto-rotate"
	}
	return line + "\n " + m.st.Faint.Render(hint)
}

// short is the footer: the keys that act on the screen and the row under
// the cursor, and nothing else.
func (s *accountScreen) short(k keyMap) []key.Binding {
	st := s.st
	bs := []key.Binding{k.Back}
	if st == nil {
		return append(bs, k.Refresh)
	}
	if !st.SignedIn {
		return append(bs, k.SignIn, k.Refresh)
	}
	svc := account.Info(st.Service)
	if svc.Creates != "" {
		bs = append(bs, k.NewToken)
	}
	bs = append(bs, s.rowKeys(k)...)
	if svc.AutoRegenerate {
		bs = append(bs, k.AutoRegen)
	}
	if setup, _ := s.mfaOffers(); setup {
		bs = append(bs, s.mfaKey(k, true))
	}
	// l (history) is in the help: the footer has no room left at 80
	// columns.
	return append(bs, k.SignOut)
}

// rowKeys are the keys that act on the row under the cursor.
func (s *accountScreen) rowKeys(k keyMap) []key.Binding {
	r, ok := s.selected()
	switch {
	case !ok:
		return nil
	case r.kind == rowSession && s.sessionStored():
		return []key.Binding{k.Rotate, k.Revoke}
	case r.kind == rowSession:
		return []key.Binding{k.Rotate}
	case r.kind != rowToken:
		return nil
	}
	bs := []key.Binding{k.Rotate}
	if canFetch(r) {
		bs = append(bs, k.Fetch)
	}
	if canRevoke(r) {
		bs = append(bs, k.Revoke)
	}
	return bs
}

// mfaKey is m as the footer (short) or the help names it: resuming a
// replaced secret, replacing an active one, or a first setup.
func (s *accountScreen) mfaKey(k keyMap, short bool) key.Binding {
	desc := k.MFA.Help().Desc
	switch {
	case s.st.MFAUnconfirmed != nil:
		desc = "finish MFA setup"
	case short:
		desc = k.MFAShort.Help().Desc
	case s.mfa != nil && *s.mfa:
		desc = "replace the MFA secret"
	}
	return key.NewBinding(key.WithKeys(k.MFA.Keys()...), key.WithHelp(k.MFA.Help().Key, desc))
}

// full is the help: every key that acts on this account now, the row's
// included, with the movement keys.
func (s *accountScreen) full(m *Model) []key.Binding {
	k := m.keys
	st := s.st
	bs := []key.Binding{k.Back, k.Refresh, k.Vault}
	if st == nil {
		return bs
	}
	bs = append(bs, k.Edit)
	if !st.SignedIn {
		return append(bs, k.SignIn)
	}
	svc := account.Info(st.Service)
	if svc.Creates != "" {
		bs = append(bs, k.NewToken)
	}
	bs = append(bs, s.rowKeys(k)...)
	if sec, ok := s.selectedSection(); ok && sec.kind != "" && len(sec.rows) > 0 && svc.RotateAll() {
		bs = append(bs, k.RotateAll)
	}
	if svc.AutoRegenerate {
		bs = append(bs, k.AutoRegen)
	}
	setup, off := s.mfaOffers()
	if setup {
		bs = append(bs, s.mfaKey(k, false))
	}
	if off {
		bs = append(bs, k.MFAOff)
	}
	again := key.NewBinding(key.WithKeys(k.SignIn.Keys()...), key.WithHelp(k.SignIn.Help().Key, "sign in again"))
	bs = append(bs, again, k.SignOut, k.History)
	if s.nav.len() > 1 {
		bs = append(bs, k.Top, k.Bottom)
	}
	return bs
}
