package tui

import (
	"strings"
	"testing"

	"keyturn/sandbox/mattermostsim"
)

// With thousands of tokens the account screen draws the rows its window can
// show, not every row on every frame (a frame took 27 ms at 2,000 rows), and
// what it shows is what drawing every row shows, wherever the cursor is.
func TestAccountScreenDrawsOnlyItsWindow(t *testing.T) {
	h := newHarness(t, harnessOpts{w: 100, h: 30})
	h.sb.Mattermost.SeedCommands(mattermostsim.TeamName, 1500)
	h.signInMattermost()
	rows := h.m.acct.nav.len()
	if rows < 1500 {
		t.Fatalf("%d rows on the account screen, want the 1500 commands", rows)
	}
	for _, cur := range []int{0, 5, 26, 27, 28, 60, 700, rows - 30, rows - 2, rows - 1} {
		h.m.acct.nav.moveTo(cur)
		h.m.acct.fullDraw = false
		got := h.screen()
		if drawn := h.m.acct.drawn; drawn > 2*h.m.height+2 {
			t.Errorf("cursor at %d of %d: a frame drew %d rows for a %d-line screen", cur, rows, drawn, h.m.height)
		}
		h.m.acct.fullDraw = true
		want := h.screen()
		if got != want {
			t.Errorf("cursor at %d: the windowed frame differs from drawing every row:\n%s\n--- drawing every row:\n%s", cur, got, want)
		}
		if !strings.Contains(got, "›") {
			t.Errorf("cursor at %d: no selected row on screen:\n%s", cur, got)
		}
	}
	h.m.acct.fullDraw = false
	// Moving by keys, the selected row stays in view.
	h.m.acct.nav.moveTo(0)
	for i := range 40 {
		h.press("down")
		if !strings.Contains(h.screen(), "›") {
			t.Fatalf("after %d presses of down: no selected row on screen:\n%s", i+1, h.dump())
		}
	}
}
