package tui

import (
	"context"
	"flag"
	"fmt"
	"io"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"charm.land/bubbles/v2/spinner"
	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
	"keyturn/config"
	"keyturn/keystore"
	"keyturn/sandbox"
	"keyturn/sandbox/capillarysim"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/simnet"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// Account names the harness adds, one per service, as the demo does.
const (
	mmAcct  = "mm"
	rcAcct  = "rc"
	capAcct = "cap"
)

// harness drives a Model through Update and View with a real
// account.Manager over the in-process sandbox. Commands run in goroutines
// like Bubble Tea runs them; settle waits until every one has reported
// back. The clock and spinner ticks are not fed back, so nothing loops.
type harness struct {
	t    *testing.T
	m    *Model
	sb   *sandbox.Sandbox
	mgr  *account.Manager
	cf   *config.File
	msgs chan tea.Msg

	mu       sync.Mutex
	inflight int
	clip     []string // what was sent to the clipboard (OSC 52)
	quits    int      // tea.Quit commands that ran
}

type harnessOpts struct {
	backend keystore.Backend
	w, h    int
	now     func() time.Time
	light   bool
	profile colorprofile.Profile
	noAccts bool
	hostile bool // the servers put escape sequences in all their text
}

func newHarness(t *testing.T, o harnessOpts) *harness {
	t.Helper()
	sb, err := sandbox.Start(sandbox.Options{Hostile: o.hostile})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { sb.Close() })
	cf := config.Open(filepath.Join(t.TempDir(), "config.json"))
	if o.backend == nil {
		o.backend = keystore.NewMemory()
	}
	mgr := account.New(cf, keystore.NewVault(o.backend, cf), account.Options{Timeout: 10 * time.Second})
	ctx := context.Background()
	if !o.noAccts {
		for _, a := range []config.Account{
			{Name: mmAcct, Service: account.Mattermost, URL: sb.MattermostURL, User: mattermostsim.AdminUsername},
			{Name: rcAcct, Service: account.RocketChat, URL: sb.RocketChatURL, User: "alice"},
			{Name: capAcct, Service: account.Capillary, URL: sb.CapillaryURL, Brand: capillarysim.SeedBrand,
				DeviceID: capillarysim.SeedDeviceID, IdentifierType: "MOBILE", Identifier: capillarysim.BobMobile},
		} {
			if _, err := mgr.Add(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
	}
	if o.w == 0 {
		o.w, o.h = 120, 40
	}
	if o.profile == 0 {
		o.profile = colorprofile.TrueColor
	}
	dark := !o.light
	prof := o.profile
	opts := Options{Manager: mgr, Width: o.w, Height: o.h, Dark: &dark, Profile: &prof, Now: o.now}
	h := &harness{t: t, sb: sb, mgr: mgr, cf: cf, msgs: make(chan tea.Msg, 256)}
	h.m = New(ctx, opts)
	h.m.noTick = true
	// Registered after t.TempDir, so it runs before the directory is
	// removed: a command still running after a quit may yet write there.
	t.Cleanup(h.drain)
	h.run(h.m.Init())
	h.settle()
	return h
}

// drain waits for the commands still running once a test is over (those a
// quit left behind, like Bubble Tea leaves them), without feeding their
// results back.
func (h *harness) drain() {
	deadline := time.After(20 * time.Second)
	for {
		h.mu.Lock()
		n := h.inflight
		h.mu.Unlock()
		if n <= 0 {
			return
		}
		select {
		case <-h.msgs:
			h.mu.Lock()
			h.inflight--
			h.mu.Unlock()
		case <-deadline:
			h.t.Errorf("%d commands still running 20 s after the test", n)
			return
		}
	}
}

// run executes a command the way Bubble Tea does, in a goroutine.
func (h *harness) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	h.mu.Lock()
	h.inflight++
	h.mu.Unlock()
	go func() {
		msg := cmd()
		h.msgs <- msg
	}()
}

// deliver feeds one message back into Update.
func (h *harness) deliver(msg tea.Msg) {
	defer func() {
		h.mu.Lock()
		h.inflight--
		h.mu.Unlock()
	}()
	switch msg := msg.(type) {
	case nil, tickMsg, spinner.TickMsg:
		return
	case tea.QuitMsg:
		h.quits++
		return
	case tea.BatchMsg:
		for _, c := range msg {
			h.run(c)
		}
		return
	}
	if v := reflect.ValueOf(msg); fmt.Sprintf("%T", msg) == "tea.setClipboardMsg" && v.Kind() == reflect.String {
		h.clip = append(h.clip, v.String())
		return
	}
	_, cmd := h.m.Update(msg)
	h.run(cmd)
}

// settle processes messages until no command is outstanding.
func (h *harness) settle() {
	h.t.Helper()
	deadline := time.After(20 * time.Second)
	for {
		h.mu.Lock()
		n := h.inflight
		h.mu.Unlock()
		if n == 0 {
			return
		}
		select {
		case msg := <-h.msgs:
			h.deliver(msg)
		case <-deadline:
			h.t.Fatalf("commands did not finish; screen:\n%s", h.dump())
		}
	}
}

// send delivers a message and settles.
func (h *harness) send(msg tea.Msg) {
	h.t.Helper()
	_, cmd := h.m.Update(msg)
	h.run(cmd)
	h.settle()
}

// press sends keys by name: "enter", "esc", "tab", "ctrl+r", "a".
func (h *harness) press(keys ...string) {
	h.t.Helper()
	for _, k := range keys {
		h.send(keyMsg(k))
	}
}

// typeText types each character.
func (h *harness) typeText(s string) {
	h.t.Helper()
	for _, r := range s {
		h.send(tea.KeyPressMsg{Code: r, Text: string(r)})
	}
}

func keyMsg(s string) tea.KeyPressMsg {
	named := map[string]rune{
		"enter": tea.KeyEnter, "esc": tea.KeyEscape, "tab": tea.KeyTab, "backspace": tea.KeyBackspace,
		"up": tea.KeyUp, "down": tea.KeyDown, "left": tea.KeyLeft, "right": tea.KeyRight, "space": tea.KeySpace,
		"home": tea.KeyHome, "end": tea.KeyEnd,
	}
	var mod tea.KeyMod
	base := s
	switch {
	case strings.HasPrefix(s, "ctrl+"):
		mod, base = tea.ModCtrl, strings.TrimPrefix(s, "ctrl+")
	case strings.HasPrefix(s, "shift+"):
		mod, base = tea.ModShift, strings.TrimPrefix(s, "shift+")
	}
	if r, ok := named[base]; ok {
		k := tea.KeyPressMsg{Code: r, Mod: mod}
		if r == tea.KeySpace {
			k.Text = " "
		}
		return k
	}
	r := []rune(base)[0]
	if mod != 0 {
		return tea.KeyPressMsg{Code: r, Mod: mod}
	}
	return tea.KeyPressMsg{Code: r, Text: base}
}

// screen is the view without styling.
func (h *harness) screen() string { return ansi.Strip(h.m.View().Content) }

var (
	groupedSecret = regexp.MustCompile(`[A-Z2-7]{4}( [A-Z2-7]{4}){3,}`)
	tokenLike     = regexp.MustCompile(`[A-Za-z0-9]{16,}`)
	qrRow         = regexp.MustCompile(`[█▀▄ ]{20,}`)
)

// dump is the screen for a failing test's message, with what could be a
// secret masked: a TOTP secret in groups of four, its QR code, and long
// runs of letters and digits (tokens), which tests never need to read.
func (h *harness) dump() string {
	s := groupedSecret.ReplaceAllString(h.screen(), "[secret]")
	s = qrRow.ReplaceAllStringFunc(s, func(m string) string {
		if strings.ContainsAny(m, "█▀▄") {
			return "[qr]"
		}
		return m
	})
	return tokenLike.ReplaceAllString(s, "[token?]")
}

func (h *harness) contains(want ...string) {
	h.t.Helper()
	s := h.screen()
	for _, w := range want {
		if !strings.Contains(s, w) {
			h.t.Fatalf("screen lacks %q:\n%s", w, h.dump())
		}
	}
}

func (h *harness) lacks(bad ...string) {
	h.t.Helper()
	s := h.screen()
	for _, b := range bad {
		if strings.Contains(s, b) {
			h.t.Fatalf("screen shows %q:\n%s", b, h.dump())
		}
	}
}

// Codes from the sandbox.

func (h *harness) mattermostCode() string {
	return simnet.TOTPCode(mattermostsim.AdminTOTPSecret, h.sb.Env.Clock.Now())
}

func (h *harness) code(labelPart string) string {
	h.t.Helper()
	for _, c := range h.sb.Codes() {
		if strings.Contains(c.Label, labelPart) {
			return c.Code
		}
	}
	h.t.Fatalf("no sandbox code labelled %q in %v", labelPart, h.sb.Codes())
	return ""
}

// select moves the accounts list's cursor to an account.
func (h *harness) selectAccount(name string) {
	h.t.Helper()
	h.m.accounts.selectName(name)
	if a, ok := h.m.accounts.selected(); !ok || a.Name != name {
		h.t.Fatalf("no account %s in the list", name)
	}
}

// flat is the screen as one line of words: borders and QR blocks dropped, runs of
// spaces and line breaks collapsed, so wrapped sentences can be found.
func (h *harness) flat() string {
	flatten := func(s string) string {
		s = strings.NewReplacer("│", " ", "╭", " ", "╮", " ", "╰", " ", "╯", " ", "─", " ", "█", " ", "▀", " ", "▄", " ").Replace(s)
		return strings.Join(strings.Fields(s), " ")
	}
	out := flatten(h.screen())
	// A dialog drawn over the list reads with the list's text beside
	// its lines: its own view reads alone.
	if d := h.m.topDialog(); d != nil && !h.m.tooSmall() {
		w, dh := h.m.dialogArea(h.m.footerView())
		out += " " + flatten(ansi.Strip(d.view(h.m, w, dh)))
	}
	return out
}

// says checks for sentences however they wrap.
// heldAtServer waits until a request that a Slow fault holds has reached
// the server, and fails with why when it never does.
func (h *harness) heldAtServer(why string) {
	h.t.Helper()
	for deadline := time.Now().Add(10 * time.Second); h.sb.Env.Faults.Hits()[simnet.Slow] == 0; time.Sleep(2 * time.Millisecond) {
		if time.Now().After(deadline) {
			h.t.Fatal(why)
		}
	}
}

func (h *harness) says(want ...string) {
	h.t.Helper()
	s := h.flat()
	for _, w := range want {
		if !strings.Contains(s, strings.Join(strings.Fields(w), " ")) {
			h.t.Fatalf("screen does not say %q:\n%s", w, h.dump())
		}
	}
}

// lockedWriter lets a test read what a running program wrote.
type lockedWriter struct {
	mu sync.Mutex
	w  io.Writer
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}
