package tui

import (
	"context"
	"errors"
	"os"
	"strings"
	"syscall"
	"time"

	"charm.land/bubbles/v2/help"
	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"charm.land/lipgloss/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
	"keyturn/textsafe"
)

// The smallest terminal the app draws in.
const (
	minWidth  = 80
	minHeight = 24
)

type screen int

const (
	screenAccounts screen = iota
	screenAccount
	screenVault
	screenOverview
)

// Model is the root model: the current screen, the dialog stack on top of
// it, an error banner, and the operations in flight.
type Model struct {
	ctx  context.Context
	mgr  *account.Manager
	opts Options
	now  func() time.Time

	clock   time.Time // the time the screen shows, advanced every second
	width   int
	height  int
	dark    bool
	profile colorprofile.Profile
	st      Styles
	keys    keyMap
	help    help.Model
	spin    spinner.Model
	// spinning is true while a spinner tick is scheduled.
	spinning bool

	screen   screen
	accounts accountsScreen
	acct     accountScreen
	vault    vaultScreen
	overview overviewScreen

	dialogs []dialog
	banner  *banner
	status  string
	demo    string

	ops    map[int]*opRecord
	nextOp int

	// unsaved are tokens a server issued that the store refused; they are
	// only in memory, so quitting asks first.
	unsaved []*account.Issued

	// bulk is the "rotate all" in progress or on screen, if any.
	bulk *bulkRun

	// quitting is set while a quit waits for issuing requests; forced
	// lists those a forced quit left on their way.
	quitting *quitWait
	forced   []account.InFlight
	hungUp   bool               // SIGHUP came: nobody is left to answer a dialog
	quitSig  os.Signal          // the signal behind the last quit request
	waited   []account.InFlight // what a quit waited for

	noTick bool // tests drive the clock themselves
}

// banner is a dismissable error: what failed, the server's words, and what
// to do next.
type banner struct {
	title  string
	msg    string // what happened, in keyturn's words
	detail string // the server's or the system's own words, on a line apart
	hint   string
	remedy account.Remedy // the way out the error carries
	key    key.Binding    // what carries it out from the banner (disabled if none)
	acct   string         // the account it is about, if known
}

type tickMsg struct {
	demo string
}

// New builds the root model. Run uses it; tests drive it through Update
// and View.
func New(ctx context.Context, opts Options) *Model {
	if ctx == nil {
		ctx = context.Background()
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	dark := true
	if opts.Dark != nil {
		dark = *opts.Dark
	}
	m := &Model{
		ctx:     ctx,
		mgr:     opts.Manager,
		opts:    opts,
		now:     now,
		clock:   now(),
		width:   opts.Width,
		height:  opts.Height,
		dark:    dark,
		profile: colorprofile.TrueColor,
		keys:    defaultKeys(),
		help:    help.New(),
		ops:     map[int]*opRecord{},
	}
	if opts.Profile != nil {
		m.profile = *opts.Profile
	}
	m.spin = spinner.New(spinner.WithSpinner(spinner.MiniDot))
	m.accounts = newAccountsScreen()
	m.setDark(dark)
	if opts.DemoCodes != nil {
		m.demo = opts.DemoCodes()
	}
	return m
}

func (m *Model) setDark(dark bool) {
	m.dark = dark
	m.st = newStyles(dark)
	m.help.Styles = m.st.Help
	m.spin.Style = m.st.Accent
	m.accounts.filter.SetStyles(m.st.Input)
	m.vault.find.input.SetStyles(m.st.Input)
	for _, d := range m.dialogs {
		if s, ok := d.(interface{ restyle(*Model) }); ok {
			s.restyle(m)
		}
	}
}

// Init loads the accounts, starts the clock and asks the terminal for its
// background colour.
func (m *Model) Init() tea.Cmd {
	cmds := []tea.Cmd{m.loadAccounts(), m.tick(), m.openStore()}
	if m.opts.Dark == nil {
		cmds = append(cmds, tea.RequestBackgroundColor)
	}
	return tea.Batch(cmds...)
}

func (m *Model) tick() tea.Cmd {
	if m.noTick {
		return nil
	}
	demo := m.opts.DemoCodes
	return tea.Tick(time.Second, func(time.Time) tea.Msg {
		msg := tickMsg{}
		if demo != nil {
			msg.demo = demo()
		}
		return msg
	})
}

// Update routes a message: sizes and colours to the model, results to the
// operation that asked, keys to the top dialog or the current screen.
func (m *Model) Update(msg tea.Msg) (tea.Model, tea.Cmd) {
	switch msg := msg.(type) {
	case tea.WindowSizeMsg:
		m.width, m.height = msg.Width, msg.Height
		return m, nil
	case tea.BackgroundColorMsg:
		if m.opts.Dark == nil {
			m.setDark(msg.IsDark())
		}
		return m, nil
	case tea.ColorProfileMsg:
		if m.opts.Profile == nil {
			m.profile = msg.Profile
		}
		return m, nil
	case tickMsg:
		m.clock = m.now()
		if m.opts.DemoCodes != nil {
			m.demo = msg.demo
		}
		return m, tea.Batch(m.tick(), m.onTick())
	case spinner.TickMsg:
		if len(m.ops) == 0 {
			m.spinning = false
			return m, nil
		}
		var cmd tea.Cmd
		m.spin, cmd = m.spin.Update(msg)
		return m, cmd
	case opDoneMsg:
		cmd := m.handleOpDone(msg)
		m.recheckQuit()
		m.showWarnings()
		return m, tea.Batch(cmd, m.settleQuit())
	case signalMsg:
		m.quitSig = msg.sig
		if msg.sig == syscall.SIGHUP {
			return m, m.hangUp()
		}
		if m.quitting != nil {
			return m, m.forceQuit()
		}
		return m, m.requestQuit()
	case bulkProgressMsg:
		cmd := m.handleBulkProgress(msg)
		m.recheckQuit()
		return m, cmd
	case tea.KeyPressMsg:
		return m, m.handleKey(msg)
	}
	// Anything else (a paste, an input's own messages) goes to whatever has
	// the focus.
	if d := m.topDialog(); d != nil {
		return m, m.apply(d.update(m, msg))
	}
	if m.screen == screenAccounts && m.accounts.filtering {
		var cmd tea.Cmd
		m.accounts.filter, cmd = m.accounts.filter.Update(msg)
		return m, cmd
	}
	return m, nil
}

// onTick runs what depends on the clock: the Capillary session's
// auto-regeneration while its account is open.
func (m *Model) onTick() tea.Cmd {
	if m.screen == screenAccount {
		return m.acct.autoRegen(m)
	}
	return nil
}

func (m *Model) handleKey(msg tea.KeyPressMsg) tea.Cmd {
	if m.quitting != nil {
		// Only ctrl+c does anything: it forces. Not q, which an
		// impatient person presses again without reading.
		if key.Matches(msg, m.keys.ForceQuit) {
			return m.forceQuit()
		}
		return nil
	}
	if key.Matches(msg, m.keys.ForceQuit) {
		return m.keyQuit()
	}
	if m.tooSmall() {
		// Nothing but the size notice is drawn: a key must not act on a
		// dialog nobody sees. Only q works, and the quit confirmation it
		// may raise is drawn over the notice.
		if c := m.quitConfirm(); c != nil {
			return m.apply(c.update(m, msg))
		}
		if key.Matches(msg, m.keys.Quit) {
			return m.keyQuit()
		}
		return nil
	}
	if d := m.topDialog(); d != nil {
		if key.Matches(msg, m.keys.Help) && !capturesText(d) {
			if _, isHelp := d.(*helpDialog); !isHelp {
				m.pushDialog(newHelpDialog(m))
				return nil
			}
		}
		return m.apply(d.update(m, msg))
	}
	if m.screen == screenAccounts && m.accounts.filtering {
		return m.apply(m.accounts.update(m, msg))
	}
	if cmd, ok := m.bannerKey(msg); ok {
		return cmd
	}
	if m.banner != nil && key.Matches(msg, m.keys.Dismiss) {
		m.banner = nil
		return nil
	}
	switch {
	case key.Matches(msg, m.keys.Quit):
		return m.keyQuit()
	case key.Matches(msg, m.keys.Help):
		m.pushDialog(newHelpDialog(m))
		return nil
	}
	switch m.screen {
	case screenAccount:
		return m.apply(m.acct.update(m, msg))
	case screenVault:
		return m.apply(m.vault.update(m, msg))
	case screenOverview:
		return m.apply(m.overview.update(m, msg))
	default:
		return m.apply(m.accounts.update(m, msg))
	}
}

// requestQuit quits, after asking when a token exists only in memory or a
// bulk rotation is running.
func (m *Model) requestQuit() tea.Cmd {
	title, lines := m.quitRisks()
	if len(lines) == 0 {
		return m.quit()
	}
	for _, d := range m.dialogs {
		if c, ok := d.(*confirmDialog); ok && c.quit {
			return nil
		}
	}
	c := newConfirmDialog(title, lines, "Quit anyway", true, func() []action { return acts(quitNow()) })
	c.quit = true
	m.pushDialog(c)
	return nil
}

// quitRisks is what quitting now would lose, as the quit confirmation's
// title and lines (none: nothing).
func (m *Model) quitRisks() (string, []string) {
	n := len(m.unsaved)
	rotating := m.bulk != nil && m.running(m.bulk.opID)
	mfa := m.mfaAtRisk()
	title := "Quit with unsaved tokens?"
	var lines []string
	if n > 0 {
		names := make([]string, 0, n)
		for _, iss := range m.unsaved {
			names = append(names, iss.Name)
		}
		lines = append(lines,
			plural(n, "token was", "tokens were")+" issued but NOT saved: "+strings.Join(names, ", ")+".",
			"They exist only in this window. Quitting loses them; the servers keep them active.",
			"Copy them first (from their result dialog or the rotation report), or quit anyway.",
		)
	}
	if rotating {
		if n == 0 {
			title = "Quit during a rotation?"
		}
		lines = append(lines, "keyturn is rotating the "+m.bulk.what(m.bulk.listed)+". Quitting stops it: nothing more is sent, and a request in flight may end with no answer (the next run offers to resume).")
	}
	if mfa != "" {
		if n == 0 && !rotating {
			title = "Quit with MFA setup unfinished?"
		}
		lines = append(lines, mfa)
	}
	return title, lines
}

// recheckQuit keeps an open quit confirmation true after something ended:
// it says what is still at risk, or goes when nothing is.
func (m *Model) recheckQuit() {
	for _, d := range m.dialogs {
		c, ok := d.(*confirmDialog)
		if !ok || !c.quit {
			continue
		}
		title, lines := m.quitRisks()
		if len(lines) == 0 {
			m.closeDialog(c)
			return
		}
		c.title, c.lines = title, lines
		return
	}
}

// quitConfirm is the quit confirmation when it is the top dialog.
func (m *Model) quitConfirm() *confirmDialog {
	if c, ok := m.topDialog().(*confirmDialog); ok && c.quit {
		return c
	}
	return nil
}

// quit cancels what is in flight and quits, first waiting for issuing
// requests already sent: cancelling first means none starts after the look.
// While it waits, results still reach their screens and dialogs, so a
// token or backup codes that arrive are shown, not dropped.
func (m *Model) quit() tea.Cmd {
	for id := range m.ops {
		m.stopOp(id)
	}
	if fl := m.inFlight(); len(fl) > 0 {
		m.quitting = &quitWait{what: fl, unsaved: len(m.unsaved), mfa: m.mfaAtRisk()}
		m.noteWaited(fl)
		return nil
	}
	m.cancelAll()
	return tea.Quit
}

func (m *Model) tooSmall() bool { return m.width < minWidth || m.height < minHeight }

// Dialog stack.

func (m *Model) topDialog() dialog {
	if len(m.dialogs) == 0 {
		return nil
	}
	return m.dialogs[len(m.dialogs)-1]
}

func (m *Model) pushDialog(d dialog) { m.dialogs = append(m.dialogs, d) }

func (m *Model) closeDialog(d dialog) {
	for i := len(m.dialogs) - 1; i >= 0; i-- {
		if m.dialogs[i] == d {
			m.dialogs = append(m.dialogs[:i], m.dialogs[i+1:]...)
			return
		}
	}
}

func (m *Model) replaceDialog(old, d dialog) {
	for i := len(m.dialogs) - 1; i >= 0; i-- {
		if m.dialogs[i] == old {
			m.dialogs[i] = d
			return
		}
	}
	m.pushDialog(d)
}

func (m *Model) dialogOpen(d dialog) bool {
	for _, x := range m.dialogs {
		if x == d {
			return true
		}
	}
	return false
}

// Status and errors.

func (m *Model) setStatus(s string) { m.status = s }

// succeeded reports an action on an account that worked: the failure the
// banner shows about that account (or about none) no longer stands.
func (m *Model) succeeded(acct, s string) {
	m.setStatus(s)
	m.clearBannerFor(acct)
}

// clearBannerFor drops the banner when it is about acct, or about no
// account in particular.
func (m *Model) clearBannerFor(acct string) {
	if m.banner != nil && (m.banner.acct == "" || m.banner.acct == acct) {
		m.banner = nil
	}
}

// showError puts an error in the banner with what to do about it. It
// replaces the status line, which said how the last action went.
func (m *Model) showError(title string, err error) {
	if err == nil {
		return
	}
	if errors.Is(err, context.Canceled) {
		m.setStatus("Cancelled")
		return
	}
	said := account.Explain(err)
	b := &banner{title: title, msg: textsafe.Text(said.What), detail: textsafe.Text(said.Detail), hint: hintFor(err), key: key.NewBinding(key.WithDisabled())}
	if m.screen == screenAccount {
		b.acct = m.acct.name
	}
	if r, ok := m.remedyFor(err); ok {
		b.remedy, b.key = r, m.remedyKey(r)
		b.hint = joinHints(b.hint, m.remedyText(r))
		if r.Account != "" {
			b.acct = r.Account
		}
	}
	m.banner = b
	m.status = ""
}

// Unsaved tokens.

func (m *Model) addUnsaved(iss *account.Issued) {
	for _, x := range m.unsaved {
		if x == iss {
			return
		}
	}
	m.unsaved = append(m.unsaved, iss)
}

func (m *Model) dropUnsaved(iss *account.Issued) {
	for i, x := range m.unsaved {
		if x == iss {
			m.unsaved = append(m.unsaved[:i], m.unsaved[i+1:]...)
			return
		}
	}
}

// Navigation.

func (m *Model) openAccount(name string) tea.Cmd {
	m.screen = screenAccount
	m.acct = newAccountScreen(name)
	m.status = ""
	return m.acct.load(m)
}

func (m *Model) openVault() tea.Cmd {
	m.screen = screenVault
	m.vault = newVaultScreen(m)
	m.status = ""
	return m.vault.load(m)
}

func (m *Model) back() tea.Cmd {
	m.acct.cancelLoads(m)
	m.cancelOp(m.vault.fetching)
	m.screen = screenAccounts
	m.acct = accountScreen{}
	m.vault = vaultScreen{}
	m.overview = overviewScreen{}
	m.status = ""
	return m.loadAccounts()
}

// reload refreshes what is on screen after an operation changed it.
func (m *Model) reload() tea.Cmd {
	switch m.screen {
	case screenAccount:
		return tea.Batch(m.loadAccounts(), m.acct.load(m))
	case screenVault:
		return m.vault.load(m)
	case screenOverview:
		return m.overview.load(m)
	}
	return m.loadAccounts()
}

// View draws the screen, the banner, the footer and the top dialog.
func (m *Model) View() tea.View {
	// The last guard: whatever server text got into the frame unclean
	// leaves it with no escape sequence but lipgloss's own styling.
	v := tea.NewView(textsafe.Styled(m.render()))
	v.AltScreen = true
	v.WindowTitle = "keyturn"
	return v
}

func (m *Model) render() string {
	if m.width <= 0 || m.height <= 0 {
		return ""
	}
	if m.tooSmall() {
		if c := m.quitConfirm(); c != nil {
			return overlay(m.tooSmallView(), c.view(m, m.width-2, m.height-2), m.width, m.height)
		}
		return m.tooSmallView()
	}
	header := m.headerView()
	footer := m.footerView()
	var top []string
	top = append(top, header)
	if m.banner != nil {
		top = append(top, m.bannerView())
	}
	head := strings.Join(top, "\n")
	bodyH := m.height - lipgloss.Height(head) - lipgloss.Height(footer)
	var body string
	switch m.screen {
	case screenAccount:
		body = m.acct.view(m, m.width, bodyH)
	case screenVault:
		body = m.vault.view(m, m.width, bodyH)
	case screenOverview:
		body = m.overview.view(m, m.width, bodyH)
	default:
		body = m.accounts.view(m, m.width, bodyH)
	}
	base := fitBlock(head+"\n"+fitBlock(body, m.width, bodyH)+"\n"+footer, m.width, m.height)
	if m.quitting != nil {
		return overlay(base, m.quitWaitView(m.width-2), m.width, m.height)
	}
	if d := m.topDialog(); d != nil {
		if fs, ok := d.(interface {
			fullScreenView(m *Model, w, h int) (string, bool)
		}); ok {
			if v, ok := fs.fullScreenView(m, m.width, m.height); ok {
				return v
			}
		}
		w, h := m.dialogArea(footer)
		return overlay(base, d.view(m, w, h), m.width, h+2)
	}
	return base
}

func (m *Model) tooSmallView() string {
	msg := lipgloss.JoinVertical(lipgloss.Center,
		m.st.Bold.Render("keyturn needs a terminal of at least 80×24"),
		m.st.Subtle.Render("This one is "+itoa(m.width)+"×"+itoa(m.height)+". Enlarge the window."),
		m.st.Faint.Render("q quits"),
	)
	return lipgloss.Place(m.width, m.height, lipgloss.Center, lipgloss.Center, msg)
}

func (m *Model) headerView() string {
	crumb := "Accounts"
	switch m.screen {
	case screenAccount:
		crumb = "Accounts › " + m.acct.name
	case screenVault:
		crumb = "Vault"
	case screenOverview:
		crumb = "Overview"
	}
	left := m.st.Title.Render("keyturn") + " " + m.st.Crumb.Render(crumb)
	if m.opts.DemoCodes != nil {
		left += " " + m.st.Demo.Render("[demo: simulated servers]")
	}
	right := m.st.Subtle.Render("store: " + m.mgr.Store() + m.storeState())
	if label := m.busyLabel(); label != "" {
		right = m.spin.View() + " " + m.st.Subtle.Render(label) + "  " + right
	}
	gap := m.width - lipgloss.Width(left) - lipgloss.Width(right)
	if gap < 1 {
		return ansi.Truncate(left, m.width, "…")
	}
	return left + strings.Repeat(" ", gap) + right
}

// busyLabel is the label of a foreground operation in flight, if any.
func (m *Model) busyLabel() string {
	best := 0
	label := ""
	for id, r := range m.ops {
		if r.cancelled || r.label == "" {
			continue
		}
		if id > best {
			best, label = id, r.label
		}
	}
	return label
}

func (m *Model) bannerView() string {
	b := m.banner
	w := m.width - 4
	lines := []string{m.st.BannerTitle.Render("✗ " + b.title)}
	lines = append(lines, wrap(b.msg, w))
	if b.detail != "" {
		lines = append(lines, m.st.Faint.Render(wrap(b.detail, w)))
	}
	if b.hint != "" {
		lines = append(lines, m.st.Bold.Render("What to do: ")+wrap(b.hint, w-12))
	}
	lines = append(lines, m.st.Faint.Render("esc dismisses"))
	return m.st.Banner.Width(m.width).Render(strings.Join(lines, "\n"))
}

func (m *Model) footerView() string {
	var lines []string
	status := ""
	if m.status != "" {
		status = m.st.Accent.Render(m.status)
	}
	lines = append(lines, ansi.Truncate(status, m.width, "…"))
	m.help.SetWidth(m.width)
	lines = append(lines, m.help.ShortHelpView(m.fitHints(m.shortHelp())))
	if m.opts.DemoCodes != nil && m.demo != "" {
		// Every code must stay readable at 80 columns, where the line
		// wraps; a third of the window is the most it takes.
		maxLines := max(3, m.height/3)
		for i, l := range strings.Split(wrap(m.demo, m.width), "\n") {
			if i >= maxLines {
				break
			}
			lines = append(lines, m.st.Demo.Render(l))
		}
	}
	return strings.Join(lines, "\n")
}

// shortHelp is the footer's key list for whatever has the focus.
func (m *Model) shortHelp() []key.Binding {
	k := m.keys
	if m.quitting != nil {
		return []key.Binding{key.NewBinding(key.WithKeys("ctrl+c"), key.WithHelp("ctrl+c", "quit now"))}
	}
	if d := m.topDialog(); d != nil {
		return d.short(m.keys)
	}
	// Help comes first so a narrow footer never drops it.
	bs := []key.Binding{k.Help}
	if m.banner != nil {
		bs = append(bs, k.Dismiss)
		if m.banner.key.Enabled() {
			bs = append(bs, m.banner.key)
		}
	}
	switch m.screen {
	case screenAccount:
		return append(bs, m.acct.short(m.keys)...)
	case screenVault:
		return append(bs, m.vault.short(m.keys)...)
	case screenOverview:
		return append(bs, m.overview.short(m.keys)...)
	}
	if m.accounts.filtering {
		// q and ? are typed into the filter.
		return m.accounts.short(m.keys)
	}
	return append(append(bs, m.accounts.short(m.keys)...), k.Quit)
}

// fullHelp is the help dialog's key map.
func (m *Model) fullHelp() [][]key.Binding {
	k := m.keys
	global := []key.Binding{k.Up, k.Down, k.Help, k.Quit, k.ForceQuit}
	var screenKeys []key.Binding
	switch m.screen {
	case screenAccount:
		screenKeys = m.acct.full(m)
	case screenVault:
		screenKeys = m.vault.full(m)
	case screenOverview:
		screenKeys = m.overview.full(m)
	default:
		screenKeys = m.accounts.full(m)
	}
	return [][]key.Binding{screenKeys, global}
}

// fitHints drops whole hints from the end until the footer fits the
// width, keeping the ways out (esc, ?, ctrl+c) wherever they are: help's
// own cut would end mid-list with "…" and lose esc.
func (m *Model) fitHints(bs []key.Binding) []key.Binding {
	keep := func(b key.Binding) bool {
		k := b.Help().Key
		return k == m.keys.Back.Help().Key || k == m.keys.Cancel.Help().Key || k == m.keys.Help.Help().Key || k == "ctrl+c"
	}
	full := m.help // measured uncut
	full.SetWidth(0)
	out := append([]key.Binding(nil), bs...)
	for i := len(out) - 1; i >= 0 && ansi.StringWidth(full.ShortHelpView(out)) > m.width; i-- {
		if !keep(out[i]) {
			out = append(out[:i], out[i+1:]...)
		}
	}
	return out
}

// dialogArea is the room a dialog is drawn in: the screen above the
// footer's hint line (its keys are read there), less a margin.
func (m *Model) dialogArea(footer string) (w, h int) {
	return m.width - 2, m.height - (lipgloss.Height(footer) - 1) - 2
}
