package tui

import (
	"context"
	"reflect"
	"strings"
	"testing"

	"charm.land/bubbles/v2/key"

	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"keyturn/config"
	"keyturn/qr"
)

// A list longer than the window says so, below and above, and keeps
// saying how many rows it hides as the cursor moves (issue 16, item 5).
func TestListsSayMoreRowsExist(t *testing.T) {
	h := newHarness(t, harnessOpts{w: 80, h: 24})
	for i := range 30 {
		if _, err := h.mgr.Add(context.Background(), config.Account{Name: "extra-" + itoa(i), Service: "mattermost", URL: "https://chat.example.com", User: "ann"}); err != nil {
			t.Fatal(err)
		}
	}
	h.press("ctrl+r")
	h.contains("more below")
	h.lacks("more above")
	h.press("G")
	h.contains("more above", "extra-29")
	h.lacks("more below")
}

// The account screen marks what it hides, and a section's rows never show
// without their heading above them.
func TestAccountScreenMarksMoreAndKeepsHeadingsWithRows(t *testing.T) {
	h := newHarness(t, harnessOpts{w: 80, h: 24})
	h.signInMattermost()
	for i := range 6 {
		if _, err := h.mgr.Create(context.Background(), mmAcct, "ci-"+itoa(i), false, nil); err != nil {
			t.Fatal(err)
		}
	}
	h.press("ctrl+r")
	h.contains("more below")
	headings := []string{"Multi-factor authentication", "User access tokens", "Slash commands", "Outgoing webhooks"}
	for range 14 {
		h.press("down")
		lines := strings.Split(h.screen(), "\n")
		for i, l := range lines {
			if !strings.Contains(l, "more above") {
				continue
			}
			next := strings.TrimSpace(lines[i+1])
			ok := false
			for _, hd := range headings {
				ok = ok || strings.HasPrefix(next, hd)
			}
			if !ok {
				t.Fatalf("the first line under the mark is not a section heading: %q\n%s", next, h.dump())
			}
		}
	}
	h.contains("more above", "Alerts")
	h.lacks("more below")
}

// A QR code too big for the window says so in the window's own size, and
// what the code needs is more than that (issue 16, item 5).
func TestQRFallbackNamesTheWindowsSize(t *testing.T) {
	h := newHarness(t, harnessOpts{w: 80, h: 24})
	h.signInMattermost()
	h.press("m", "y")
	setup := h.mfaSetup()
	d := h.m.topDialog().(*mfaDialog)
	var err error
	if d.qr, err = qr.Render(setup.URL + "&image=" + strings.Repeat("x", 300)); err != nil {
		t.Fatal(err)
	}
	qw, qh := qr.Size(d.qr)
	h.says("The window is too small for the QR code: it needs " + itoa(qw) + "×" + itoa(qh+1) + " cells, this one is 80×24.")
}

// The footer drops whole hints that do not fit, never esc: at 80 columns
// the add-account dialog still says how to cancel (issue 16, item 5).
func TestFooterKeepsEscAndWholeHintsAt80(t *testing.T) {
	h := newHarness(t, harnessOpts{w: 80, h: 24})
	h.press("a")
	lines := strings.Split(h.screen(), "\n")
	footer := lines[len(lines)-1]
	if !strings.Contains(footer, "esc cancel") || strings.Contains(footer, "…") {
		t.Fatalf("footer %q: want esc cancel, and no hint cut", footer)
	}
}

// The create dialog's error names its field as the field is labelled
// ("Description"), not as a "label" (issue 16, item 6).
func TestCreateDialogErrorNamesItsField(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	h.signInMattermost()
	h.press(keyOf(h.m.keys.NewToken))
	h.says("Description")
	h.press("enter")
	h.says("Type a description first.")
	h.lacks("needs a label")
}

// A dialog fits above the footer's key hints at every size: the hint line
// and what follows it read as they do with no dialog (issue 16, item 5).
func TestDialogsStayAboveTheHintLine(t *testing.T) {
	for name, setup := range goldenScenes() {
		for _, size := range goldenSizes {
			m := fixedModel(t, size[0], size[1], colorprofile.TrueColor)
			// As in the demo: codes under the hints.
			demo := "demo passwords: mattermost Admin-Passw0rd! · rocketchat alice-rocket-pw-1 · codes: mattermost admin TOTP 111111 · rocketchat alice TOTP 222222"
			m.opts.DemoCodes = func() string { return demo }
			m.demo = demo
			setup(m)
			if m.topDialog() == nil {
				continue
			}
			if fs, ok := m.topDialog().(interface {
				fullScreenView(*Model, int, int) (string, bool)
			}); ok {
				if _, full := fs.fullScreenView(m, m.width, m.height); full {
					continue // the QR code alone: it has its own caption line
				}
			}
			footer := strings.Split(ansi.Strip(m.footerView()), "\n")[1:] // from the hint line
			lines := strings.Split(ansi.Strip(m.View().Content), "\n")
			// Beside the dialog's frame, nothing of the screen under it
			// shows: no stray characters at its edges.
			for _, l := range lines {
				if i := strings.IndexAny(l, "│╭╰"); i > 0 && strings.TrimSpace(l[:i]) != "" {
					t.Errorf("%s at %dx%d: stray text left of the dialog: %q", name, size[0], size[1], l)
				}
			}
			got := lines[len(lines)-len(footer):]
			for i := range footer {
				if strings.TrimRight(got[i], " ") != strings.TrimRight(footer[i], " ") {
					t.Errorf("%s at %dx%d: footer line %q is drawn over: %q", name, size[0], size[1], footer[i], got[i])
				}
			}
		}
	}
}

// The every-token overview marks the rows it hides too.
func TestOverviewSaysMoreRowsExist(t *testing.T) {
	h := newHarness(t, harnessOpts{w: 80, h: 24})
	h.signInMattermost()
	for i := range 20 {
		if _, err := h.mgr.Create(context.Background(), mmAcct, "ci-"+itoa(i), false, nil); err != nil {
			t.Fatal(err)
		}
	}
	h.press("esc")
	h.press(keyOf(h.m.keys.Overview))
	h.contains("more below")
	h.press("G")
	h.contains("more above")
}

// One word for one action: the CLI rotates, so the app does too; no key
// and no screen says "regenerate" (issue 16, item 10).
func TestOneWordForRotation(t *testing.T) {
	v := reflect.ValueOf(defaultKeys())
	for i := range v.NumField() {
		if b, ok := v.Field(i).Interface().(key.Binding); ok && strings.Contains(strings.ToLower(b.Help().Desc), "regenerat") {
			t.Errorf("key %s says %q", v.Type().Field(i).Name, b.Help().Desc)
		}
	}
	for name, setup := range goldenScenes() {
		m := fixedModel(t, 120, 40, colorprofile.TrueColor)
		setup(m)
		if s := ansi.Strip(m.View().Content); strings.Contains(strings.ToLower(s), "regenerat") {
			t.Errorf("%s says regenerate:\n%s", name, s)
		}
	}
}
