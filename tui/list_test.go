package tui

import (
	"slices"
	"strings"
	"testing"
)

func letters(s string) []string { return strings.Split(s, "") }

func testListKeys() listKeys {
	k := defaultKeys()
	return listKeys{up: k.Up, down: k.Down, top: k.Top, bottom: k.Bottom}
}

// TestListCursorClampsAtTheEnds: movement never leaves the list, and an
// empty list has no selection.
func TestListCursorClampsAtTheEnds(t *testing.T) {
	for _, tc := range []struct {
		name  string
		items []string
		keys  []string
		want  int
		sel   string
	}{
		{"up at the top", letters("abc"), []string{"up", "up"}, 0, "a"},
		{"down past the end", letters("abc"), []string{"down", "down", "down", "down"}, 2, "c"},
		{"bottom then down", letters("abc"), []string{"G", "j"}, 2, "c"},
		{"top after moving", letters("abc"), []string{"j", "j", "g"}, 0, "a"},
		{"down then up", letters("abcd"), []string{"j", "j", "k"}, 1, "b"},
		{"empty list", nil, []string{"down", "G", "up"}, 0, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newList[string](nil)
			l.setItems(tc.items)
			for _, k := range tc.keys {
				if !l.navigate(keyMsg(k), testListKeys()) {
					t.Fatalf("%s not taken as a movement key", k)
				}
			}
			sel, ok := l.selected()
			if l.index() != tc.want || sel != tc.sel || ok != (tc.sel != "") {
				t.Fatalf("cursor %d on %q (%v), want %d on %q", l.index(), sel, ok, tc.want, tc.sel)
			}
		})
	}
	l := newList[string](nil)
	l.setItems(letters("ab"))
	if l.navigate(keyMsg("x"), testListKeys()) || l.navigate(keyMsg("g"), listKeys{}) {
		t.Fatal("a key that is not a movement key moved the list")
	}
}

// TestListWindowFollowsTheCursor: the window scrolls only when the cursor
// would leave it, and keeps every line of the cursor's item in view.
func TestListWindowFollowsTheCursor(t *testing.T) {
	tall := func(i int) int { // item 2 takes 3 lines
		if i == 2 {
			return 3
		}
		return 1
	}
	for _, tc := range []struct {
		name               string
		n, cursor, rows    int
		height             func(int) int
		wantStart, wantEnd int
	}{
		{"cursor in the first page", 10, 2, 4, nil, 0, 4},
		{"cursor on the last row of the page", 10, 3, 4, nil, 0, 4},
		{"cursor one past the page", 10, 4, 4, nil, 1, 5},
		{"cursor at the end", 10, 9, 4, nil, 6, 10},
		{"fewer items than rows", 3, 2, 5, nil, 0, 3},
		{"a tall item keeps all its lines in view", 6, 2, 3, tall, 2, 3},
		{"a tall item above the cursor scrolls off whole", 6, 3, 4, tall, 2, 4},
		{"a tall item last may run past the window", 6, 1, 3, tall, 0, 3},
		{"empty list", 0, 0, 4, nil, 0, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newList[int](nil)
			items := make([]int, tc.n)
			l.setItems(items)
			l.moveTo(tc.cursor)
			start, end := l.window(tc.rows, tc.height)
			if start != tc.wantStart || end != tc.wantEnd {
				t.Fatalf("window [%d,%d), want [%d,%d)", start, end, tc.wantStart, tc.wantEnd)
			}
		})
	}
}

// TestListResizeShrinksTheWindow: a smaller window still holds the cursor,
// a larger one scrolls back up.
func TestListResizeShrinksTheWindow(t *testing.T) {
	l := newList[string](nil)
	l.setItems(letters("abcdefghij"))
	l.moveTo(5)
	for _, tc := range []struct{ rows, start, end int }{
		{10, 0, 10}, {6, 0, 6}, {5, 1, 6}, {2, 4, 6}, {1, 5, 6}, {8, 0, 8},
	} {
		if start, end := l.window(tc.rows, nil); start != tc.start || end != tc.end {
			t.Fatalf("%d rows: window [%d,%d), want [%d,%d)", tc.rows, start, end, tc.start, tc.end)
		}
	}
	got := l.render(2, nil, func(it string, sel bool) []string {
		if sel {
			return []string{"> " + it}
		}
		return []string{"  " + it}
	})
	if want := []string{"  e", "> f"}; !slices.Equal(got, want) {
		t.Fatalf("render %q, want %q", got, want)
	}
}

// TestListFilterKeepsTheCursorOnItsItem: typing a filter keeps the cursor
// on the item it was on while the filter keeps it, and clamps otherwise.
func TestListFilterKeepsTheCursorOnItsItem(t *testing.T) {
	items := []string{"alpha", "beta", "gamma", "delta", "epsilon"}
	for _, tc := range []struct {
		name    string
		cursor  int
		filters []string
		want    string
		visible []string
	}{
		{"kept item stays selected", 3, []string{"ta"}, "delta", []string{"beta", "delta"}},
		{"case and spaces ignored", 2, []string{"  AMM "}, "gamma", []string{"gamma"}},
		{"filtered-out item: place kept, clamped", 4, []string{"ta"}, "delta", []string{"beta", "delta"}},
		{"filtered-out item: place kept", 0, []string{"ta"}, "beta", []string{"beta", "delta"}},
		{"typed letter by letter", 3, []string{"d", "de", "del"}, "delta", []string{"delta"}},
		{"cleared filter returns to the same item", 3, []string{"ta", ""}, "delta", items},
		{"nothing matches", 1, []string{"zz"}, "", nil},
		{"nothing matches, then cleared", 1, []string{"zz", ""}, "alpha", items},
	} {
		t.Run(tc.name, func(t *testing.T) {
			l := newList(func(s string) string { return s })
			l.setItems(items)
			l.moveTo(tc.cursor)
			for _, f := range tc.filters {
				l.filter(f)
			}
			sel, _ := l.selected()
			if sel != tc.want {
				t.Fatalf("cursor on %q, want %q", sel, tc.want)
			}
			if !slices.Equal(l.visible(), tc.visible) {
				t.Fatalf("visible %q, want %q", l.visible(), tc.visible)
			}
			if len(l.all()) != len(items) {
				t.Fatalf("all() has %d items, want %d", len(l.all()), len(items))
			}
		})
	}
}

// TestListReloadKeepsThePlace: new items keep the cursor's place, clamped
// when the list got shorter, and the filter applies to them.
func TestListReloadKeepsThePlace(t *testing.T) {
	l := newList(func(s string) string { return s })
	l.setItems(letters("abcdef"))
	l.moveTo(4)
	l.setItems(letters("abcdefg"))
	if sel, _ := l.selected(); sel != "e" {
		t.Fatalf("after a longer reload the cursor is on %q, want e", sel)
	}
	l.setItems(letters("ab"))
	if sel, _ := l.selected(); sel != "b" {
		t.Fatalf("after a shorter reload the cursor is on %q, want b", sel)
	}
	l.filter("a")
	l.setItems([]string{"ax", "b", "ay"})
	if !slices.Equal(l.visible(), []string{"ax", "ay"}) {
		t.Fatalf("the filter did not apply to the reload: %q", l.visible())
	}
	if !l.selectFirst(func(s string) bool { return s == "ay" }) || l.index() != 1 {
		t.Fatalf("selectFirst put the cursor on %d, want 1", l.index())
	}
	if l.selectFirst(func(s string) bool { return s == "b" }) {
		t.Fatal("selectFirst found an item the filter hides")
	}
}
