package tui

import (
	"errors"
	"testing"
)

// TestApplyCarriesOutActionsInOrder: Model.apply changes the dialog stack,
// the status line and the banner within the call, in the order given, so
// the View right after an Update shows them.
func TestApplyCarriesOutActionsInOrder(t *testing.T) {
	h := newHarness(t, harnessOpts{})
	m := h.m
	a, b, c, x := &helpDialog{}, &helpDialog{}, &helpDialog{}, &helpDialog{}
	if cmd := m.apply(acts(openDlg(a), openDlg(b), openDlg(x), replaceDlg(b, c), closeDlg(a), status("one"), status("two"), runCmd(nil))); cmd != nil {
		t.Fatalf("no command was asked for, got one")
	}
	// c takes b's place, under x.
	if len(m.dialogs) != 2 || m.dialogs[0] != c || m.dialogs[1] != x {
		t.Fatalf("dialog stack %v, want [c %p, x %p]", m.dialogs, c, x)
	}
	m.apply(acts(closeDlg(x)))
	if m.status != "two" {
		t.Fatalf("status %q, want the last one said", m.status)
	}
	m.apply(acts(errorBanner("Nothing", nil)))
	if m.banner != nil {
		t.Fatalf("a nil error made a banner: %+v", m.banner)
	}
	m.apply(acts(closeDlg(c), errorBanner("Could not do it", errors.New("it broke"))))
	if len(m.dialogs) != 0 || m.banner == nil || m.banner.title != "Could not do it" {
		t.Fatalf("after close and error: %d dialogs, banner %+v", len(m.dialogs), m.banner)
	}
	h.says("Could not do it", "it broke")
	if cmd := m.apply(acts(reloadScreen())); cmd == nil {
		t.Fatal("reload started nothing")
	}
}
