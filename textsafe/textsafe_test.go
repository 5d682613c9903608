package textsafe

import (
	"strings"
	"testing"
	"unicode/utf8"
)

// hostile is what a hostile server hides in its text: an OSC 52 clipboard
// write, a screen clear, an 8-bit CSI, a bidi override, DEL, backspace,
// CR and an invalid byte.
const hostile = "\x1b]52;c;aGFja2Vk\x07\x1b[2J\u009b6n\u202eevil\u2066\x7f\b\r\xff"

func TestLine(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"plain name", "plain name"},
		{"tabs\tand\nlines\r\n", "tabs and lines  "},
		{"a" + hostile + "z", "a?]52;c;aGFja2Vk??[2J?6n?evil??? ?z"},
		{"ünïcödé 名前 ✓ \u200d", "ünïcödé 名前 ✓ \u200d"}, // a joiner is not a control
		{"\u2028\u2029\u061c\u200e\u200f", "?????"},
	} {
		if got := Line(tc.in); got != tc.want {
			t.Errorf("Line(%q) = %q, want %q", tc.in, got, tc.want)
		}
		if !safe(Line(tc.in), false) {
			t.Errorf("Line(%q) left an unsafe character", tc.in)
		}
	}
}

func TestText(t *testing.T) {
	got := Text("first\n\tsecond" + hostile)
	if got != "first\n\tsecond?]52;c;aGFja2Vk??[2J?6n?evil??? ?" {
		t.Errorf("Text = %q", got)
	}
	if !safe(got, true) {
		t.Errorf("Text left an unsafe character in %q", got)
	}
}

func TestStyled(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"\x1b[1;38;2;10;20;30mbold\x1b[m\n\tnext", "\x1b[1;38;2;10;20;30mbold\x1b[m\n\tnext"},
		{"a" + hostile + "z", "a6nevilz"},
		{"x\x1b[?1049hy", "xy"},            // a private mode: not styling
		{"x\x1b[31 qy", "xy"},              // an intermediate: not SGR
		{"x\x1bP1$r\x1b\\y", "xy"},         // DCS to ST
		{"x\x1b]8;;http://e\x1b\\y", "xy"}, // a hyperlink
		{"x\x1bcy\x1b(Bz", "xyz"},
		{"cut\x1b[31", "cut"},
		{"cut\x1b]52;c;", "cut"},
		{"cut\x1b", "cut"},
	} {
		if got := Styled(tc.in); got != tc.want {
			t.Errorf("Styled(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	plain := "\x1b[31mred\x1b[0m ok"
	if got := Styled(plain); got != plain {
		t.Errorf("Styled changed clean text: %q", got)
	}
}

// safe reports whether s holds only what a terminal shows as text.
func safe(s string, multiline bool) bool {
	if !utf8.ValidString(s) {
		return false
	}
	return !strings.ContainsFunc(s, func(r rune) bool {
		return Unsafe(r) && !(multiline && (r == '\n' || r == '\t'))
	})
}

func FuzzLine(f *testing.F) {
	f.Add("name" + hostile)
	f.Fuzz(func(t *testing.T, s string) {
		if !safe(Line(s), false) || !safe(Text(s), true) {
			t.Fatalf("unsafe output for %q", s)
		}
		st := Styled(s)
		if !utf8.ValidString(st) {
			t.Fatalf("Styled(%q) = %q: invalid UTF-8", s, st)
		}
		for _, r := range strings.ReplaceAll(st, "\x1b[", "") {
			if Unsafe(r) && r != '\n' && r != '\t' {
				t.Fatalf("Styled(%q) = %q: holds %U", s, st, r)
			}
		}
	})
}
