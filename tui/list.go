package tui

import (
	"strings"

	"charm.land/bubbles/v2/key"
	"charm.land/bubbles/v2/textinput"
	tea "charm.land/bubbletea/v2"
)

// list is the cursor, filter and scroll window every list of the TUI
// shares: the accounts screen, the account screen's rows, the vault and
// the bulk rotation report. A screen keeps one, gives it its items
// (setItems) whenever they change, moves it with navigate, asks it for the
// selected item, and draws the rows window picks (or render draws them
// with the screen's row renderer).
//
// The window is anchored at the bottom on the cursor: it starts at the
// earliest item that keeps the cursor's item, all its lines, in view, so
// it scrolls only when the cursor would leave it. It keeps no offset of its
// own, so a resize or a reload cannot leave it pointing past the end.
//
// Why not bubbles' list or table (charm.land/bubbles/v2 v2.1.1, read for
// this): list.Model pages instead of scrolling (Paginator.PerPage, a cursor
// within the page), gives every item the one height its delegate declares
// (the vault's revealed value and the account screen's multi-line rows
// vary), filters fuzzily (sahilm/fuzzy) and reorders matches by rank where
// the accounts screen keeps its order and matches by substring, and brings
// its own title, status bar, pagination and help to switch off. table.Model
// takes rows of strings in fixed-width columns, one line each, lays the
// selected style over a whole row (the screens keep the badge's colours
// outside it), and keeps a viewport offset of its own. Either would change what today's
// screens show (their goldens) and still need the column layout (layoutList)
// and row drawing written here, so the component stays; bubbles' key and
// help already carry the keys and footer (keys.go), textinput the filter.
type list[T any] struct {
	items  []T
	hay    func(T) string // the text the filter searches; nil: no filter
	id     func(T) string // what makes an item the same one after a reload; nil: its place
	query  string         // lower case, trimmed
	shown  []int          // indexes into items the filter keeps, in order
	cursor int            // index into shown
}

// newList is a list whose filter matches hay(item) by substring, ignoring
// case; hay nil means the list has no filter.
func newList[T any](hay func(T) string) list[T] { return list[T]{hay: hay} }

// identified is the list with id saying which items are the same one
// across reloads.
func (l list[T]) identified(id func(T) string) list[T] {
	l.id = id
	return l
}

// setItems replaces the items (a reload): the cursor stays on the item it
// was on when the list knows items apart (id) and the item is still
// there, since an item inserted above must not slide another under the
// cursor; otherwise it keeps its place, clamped to the new length.
func (l *list[T]) setItems(items []T) {
	was, had := l.selected()
	l.items = items
	l.refilter()
	if had && l.id != nil {
		key := l.id(was)
		if l.selectFirst(func(it T) bool { return l.id(it) == key }) {
			return
		}
	}
	l.clamp()
}

// filter shows only the items whose hay holds q. The cursor stays on the
// item it was on when the filter keeps it; otherwise it keeps its place,
// clamped.
func (l *list[T]) filter(q string) {
	q = strings.ToLower(strings.TrimSpace(q))
	if q == l.query {
		return
	}
	was := -1
	if l.cursor >= 0 && l.cursor < len(l.shown) {
		was = l.shown[l.cursor]
	}
	l.query = q
	l.refilter()
	for i, idx := range l.shown {
		if idx == was {
			l.cursor = i
			return
		}
	}
	l.clamp()
}

func (l *list[T]) refilter() {
	l.shown = l.shown[:0]
	for i, it := range l.items {
		if l.query == "" || l.hay == nil || strings.Contains(strings.ToLower(l.hay(it)), l.query) {
			l.shown = append(l.shown, i)
		}
	}
}

// all is every item, whatever the filter shows.
func (l *list[T]) all() []T { return l.items }

// visible is the items the filter keeps.
func (l *list[T]) visible() []T {
	out := make([]T, len(l.shown))
	for i, idx := range l.shown {
		out[i] = l.items[idx]
	}
	return out
}

// len is how many items the filter keeps.
func (l *list[T]) len() int { return len(l.shown) }

// index is the cursor: an index into visible.
func (l *list[T]) index() int { return l.cursor }

func (l *list[T]) selected() (T, bool) {
	if l.cursor < 0 || l.cursor >= len(l.shown) {
		var zero T
		return zero, false
	}
	return l.items[l.shown[l.cursor]], true
}

// moveTo puts the cursor on visible item i, clamped to the list.
func (l *list[T]) moveTo(i int) {
	l.cursor = i
	l.clamp()
}

func (l *list[T]) clamp() { l.cursor = clampCursor(l.cursor, len(l.shown)) }

// selectFirst puts the cursor on the first visible item ok accepts, and
// reports whether there was one.
func (l *list[T]) selectFirst(ok func(T) bool) bool {
	for i, idx := range l.shown {
		if ok(l.items[idx]) {
			l.cursor = i
			return true
		}
	}
	return false
}

// listKeys are the keys that move a list's cursor; a zero binding is a
// key the list does not take.
type listKeys struct{ up, down, top, bottom key.Binding }

// navigate moves the cursor for a movement key and reports whether msg was
// one (even when the cursor could not move further).
func (l *list[T]) navigate(msg tea.KeyPressMsg, k listKeys) bool {
	switch {
	case key.Matches(msg, k.up):
		l.moveTo(l.cursor - 1)
	case key.Matches(msg, k.down):
		l.moveTo(l.cursor + 1)
	case key.Matches(msg, k.top):
		l.moveTo(0)
	case key.Matches(msg, k.bottom):
		l.moveTo(len(l.shown) - 1)
	default:
		return false
	}
	return true
}

// window is the visible items [start, end) shown in rows lines, item i
// taking height(i) lines (nil: one each).
func (l *list[T]) window(rows int, height func(i int) int) (start, end int) {
	last := -1
	if l.cursor >= 0 && l.cursor < len(l.shown) {
		last = l.cursor
	}
	return fitWindow(len(l.shown), last, rows, height)
}

// render draws the window's rows with row, which gets the item and whether
// the cursor is on it and returns the item's lines.
func (l *list[T]) render(rows int, height func(i int) int, row func(it T, selected bool) []string) []string {
	start, end := l.window(rows, height)
	var out []string
	for i := start; i < end; i++ {
		out = append(out, row(l.items[l.shown[i]], i == l.cursor)...)
	}
	return out
}

// renderMarked is render for a list that may be longer than its rows: a
// line, drawn by mark, says how many items are hidden above the window and
// another how many below, so a cut list never looks complete.
func (l *list[T]) renderMarked(rows int, height func(i int) int, row func(it T, selected bool) []string, mark func(...string) string) []string {
	last := -1
	if l.cursor >= 0 && l.cursor < len(l.shown) {
		last = l.cursor
	}
	start, end := scrollWindow(len(l.shown), last, rows, height)
	var out []string
	if start > 0 {
		out = append(out, mark(moreAbove(start)))
	}
	for i := start; i < end; i++ {
		out = append(out, row(l.items[l.shown[i]], i == l.cursor)...)
	}
	if end < len(l.shown) {
		out = append(out, mark(moreBelow(len(l.shown)-end)))
	}
	return out
}

func moreAbove(n int) string { return "  ↑ " + itoa(n) + " more above" }
func moreBelow(n int) string { return "  ↓ " + itoa(n) + " more below" }

// scrollWindow is fitWindow with a line kept for each mark the window
// needs: one when it starts past the first unit, one when it ends before
// the last.
func scrollWindow(n, last, rows int, height func(i int) int) (start, end int) {
	marks := 0
	for range 3 {
		start, end = fitWindow(n, last, rows-marks, height)
		need := 0
		if start > 0 {
			need++
		}
		if end < n {
			need++
		}
		if need <= marks {
			break
		}
		marks = need
	}
	return start, end
}

// fitWindow is the window of n units (items, or lines) shown in rows lines,
// unit i taking height(i) lines (nil: one each): it starts at the earliest
// unit that keeps units start..last in view (0 when last < 0), and holds
// every unit that begins before the window is full, so the last one may
// run past it (a caller with multi-line units cuts it, or lets it be cut).
func fitWindow(n, last, rows int, height func(i int) int) (start, end int) {
	if height == nil {
		height = func(int) int { return 1 }
	}
	if last >= 0 && last < n {
		used := 0
		for i := 0; i <= last; i++ {
			used += height(i)
		}
		for start < last && used > rows {
			used -= height(start)
			start++
		}
	}
	used := 0
	for end = start; end < n && used < rows; end++ {
		used += height(end)
	}
	return start, end
}

// filterBox is the "/" line that narrows a list as it is typed.
type filterBox struct {
	input  textinput.Model
	typing bool
}

func newFilterBox(m *Model, placeholder string) filterBox {
	in := textinput.New()
	in.Prompt = "/ "
	in.Placeholder = placeholder
	in.SetWidth(40)
	in.SetStyles(m.st.Input)
	return filterBox{input: in}
}

// open starts typing in the filter.
func (f *filterBox) open() tea.Cmd {
	f.typing = true
	return f.input.Focus()
}

// key takes a key while the filter is typed: submit keeps the filter and
// leaves the line, cancel empties it, any other key edits it.
func (f *filterBox) key(msg tea.KeyPressMsg, submit, cancel key.Binding) tea.Cmd {
	switch {
	case key.Matches(msg, cancel):
		f.typing = false
		f.input.SetValue("")
		f.input.Blur()
	case key.Matches(msg, submit):
		f.typing = false
		f.input.Blur()
	default:
		var cmd tea.Cmd
		f.input, cmd = f.input.Update(msg)
		return cmd
	}
	return nil
}

// clear empties a kept filter and reports whether there was one.
func (f *filterBox) clear() bool {
	if f.input.Value() == "" {
		return false
	}
	f.input.SetValue("")
	return true
}

func (f *filterBox) value() string { return f.input.Value() }

// shown reports whether the filter line is on screen.
func (f *filterBox) shown() bool { return f.typing || f.input.Value() != "" }

func (f *filterBox) view() string { return f.input.View() }
