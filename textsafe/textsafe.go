// Package textsafe makes untrusted text, anything a server sends, safe to
// show on a terminal: no control character, escape sequence (an OSC 52
// clipboard write, a screen clear), C1 control, bidirectional override or
// invalid UTF-8 byte gets through. Both faces show server text only after
// it went through here; a secret's value never does (it is shown as given,
// only when asked).
package textsafe

import (
	"strings"
	"unicode/utf8"
)

// Unsafe reports whether r must not reach a terminal as is: C0 controls,
// DEL, C1 controls, the bidirectional marks, embeddings, overrides and
// isolates (they reorder the text around them), and the Unicode line and
// paragraph separators.
func Unsafe(r rune) bool {
	switch {
	case r < 0x20, r >= 0x7f && r <= 0x9f:
		return true
	case r == 0x061c, r == 0x200e, r == 0x200f, r >= 0x202a && r <= 0x202e, r >= 0x2066 && r <= 0x2069:
		return true
	case r == 0x2028, r == 0x2029:
		return true
	}
	return false
}

// Line is s for one line of a terminal: tabs and line breaks become
// spaces, every other unsafe character and invalid byte becomes '?', so
// tampering shows without doing anything.
func Line(s string) string { return clean(s, false) }

// Text is s for a message of several lines: like Line, but newlines and
// tabs stay.
func Text(s string) string { return clean(s, true) }

func clean(s string, multiline bool) string {
	if !needsCleaning(s, multiline) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		switch {
		case r == utf8.RuneError && n == 1:
			b.WriteByte('?')
		case (r == '\n' || r == '\t') && multiline:
			b.WriteRune(r)
		case r == '\n' || r == '\t' || r == '\r':
			b.WriteByte(' ')
		case Unsafe(r):
			b.WriteByte('?')
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

func needsCleaning(s string, multiline bool) bool {
	for i := 0; i < len(s); {
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r == utf8.RuneError && n == 1 {
			return true
		}
		if Unsafe(r) && !(multiline && (r == '\n' || r == '\t')) {
			return true
		}
	}
	return false
}

// Styled is the last guard before a screen, for text a styling library
// built: it keeps newlines, tabs and the SGR sequences (ESC [ params m)
// that colour it, and drops every other escape sequence, control
// character and invalid byte. Dropping, not replacing, keeps the widths
// the layout measured (those sequences take no cells).
func Styled(s string) string {
	if !needsStyledCleaning(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			seq, n := escape(s[i:])
			b.WriteString(seq)
			i += n
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		if !(r == utf8.RuneError && n == 1) && (!Unsafe(r) || r == '\n' || r == '\t') {
			b.WriteString(s[i : i+n])
		}
		i += n
	}
	return b.String()
}

// needsStyledCleaning is false when every escape in s is an SGR sequence
// and nothing else is unsafe, the usual case, so that a frame is not
// copied.
func needsStyledCleaning(s string) bool {
	for i := 0; i < len(s); {
		if s[i] == 0x1b {
			seq, n := escape(s[i:])
			if seq == "" {
				return true
			}
			i += n
			continue
		}
		r, n := utf8.DecodeRuneInString(s[i:])
		i += n
		if r == utf8.RuneError && n == 1 || Unsafe(r) && r != '\n' && r != '\t' {
			return true
		}
	}
	return false
}

// escape reads the escape sequence at the start of s (s[0] is ESC): it
// returns the sequence when it is an SGR, "" otherwise, and its length.
func escape(s string) (sgr string, n int) {
	if len(s) < 2 {
		return "", len(s)
	}
	switch s[1] {
	case '[':
		// CSI: parameter bytes 0x30–0x3F, intermediates 0x20–0x2F, a final 0x40–0x7E.
		i := 2
		for i < len(s) && s[i] >= 0x30 && s[i] <= 0x3f {
			i++
		}
		params := i
		for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
			i++
		}
		if i == len(s) || s[i] < 0x40 || s[i] > 0x7e {
			return "", i // cut short: drop what was read, the rest is checked on its own
		}
		if s[i] == 'm' && params == i && strings.Trim(s[2:i], "0123456789;:") == "" {
			return s[:i+1], i + 1
		}
		return "", i + 1
	case ']', 'P', 'X', '^', '_':
		// OSC, DCS, SOS, PM, APC: a string up to BEL or ST (ESC \).
		for i := 2; i < len(s); i++ {
			if s[i] == 0x07 {
				return "", i + 1
			}
			if s[i] == 0x1b {
				if i+1 < len(s) && s[i+1] == '\\' {
					return "", i + 2
				}
				return "", i
			}
		}
		return "", len(s)
	}
	// Any other: intermediates 0x20–0x2F, then one final byte (ESC c
	// resets the terminal, ESC ( B picks a character set).
	i := 1
	for i < len(s) && s[i] >= 0x20 && s[i] <= 0x2f {
		i++
	}
	if i < len(s) && s[i] >= 0x30 && s[i] <= 0x7e {
		i++
	}
	return "", i
}
