package main

import (
	"bytes"
	"strings"
	"unicode"
)

// screen reads what a program writes to its terminal: it strips escape
// sequences to find the text drawn (with whitespace removed, since a
// renderer may move the cursor over blanks instead of writing them), and
// answers the queries a real terminal answers (device attributes, cursor
// position, colours, modes), so that no program waits on a timeout that a
// real terminal would not make it wait for.
type screen struct {
	state   int
	seq     []byte // the escape sequence being read
	text    strings.Builder
	last    byte // the last printed ASCII character, for REP
	replies bytes.Buffer
}

const (
	stText = iota
	stEsc
	stEscInter
	stCSI
	stString // OSC, DCS, APC, PM, SOS: up to BEL or ST
	stStringEsc
)

// write feeds output from the program.
func (s *screen) write(p []byte) {
	for _, c := range p {
		switch s.state {
		case stText:
			switch {
			case c == 0x1b:
				s.state, s.seq = stEsc, s.seq[:0]
			case c < 0x20 || c == 0x7f:
				// control characters: nothing drawn
			case c == ' ':
				s.last = c
			default:
				s.text.WriteByte(c)
				if c < 0x80 {
					s.last = c
				}
			}
		case stEsc:
			switch {
			case c == '[':
				s.state = stCSI
			case c == ']' || c == 'P' || c == '_' || c == '^' || c == 'X':
				s.state, s.seq = stString, append(s.seq[:0], c)
			case c >= 0x20 && c <= 0x2f: // ESC ( B and the like: intermediates, then a final
				s.state = stEscInter
			default:
				s.state = stText
			}
		case stEscInter:
			if c >= 0x30 && c <= 0x7e {
				s.state = stText
			}
		case stCSI:
			s.seq = append(s.seq, c)
			if c >= 0x40 && c <= 0x7e {
				s.csi(s.seq)
				s.state = stText
			} else if len(s.seq) > 256 {
				s.state = stText
			}
		case stString:
			switch c {
			case 0x07:
				s.osc(s.seq)
				s.state = stText
			case 0x1b:
				s.state = stStringEsc
			default:
				if len(s.seq) < 4096 {
					s.seq = append(s.seq, c)
				}
			}
		case stStringEsc:
			if c == '\\' {
				s.osc(s.seq)
				s.state = stText
			} else {
				s.state = stString
			}
		}
	}
}

// csi handles a control sequence (without its ESC [).
func (s *screen) csi(seq []byte) {
	q := string(seq)
	final := q[len(q)-1]
	params := q[:len(q)-1]
	switch {
	case final == 'b' && s.last != 0: // REP: repeat the last character
		n := atoi(params, 1)
		if s.last != ' ' && n < 1000 {
			s.text.WriteString(strings.Repeat(string(s.last), n))
		}
	case final == 'c' && (params == "" || params == "0"): // DA1
		s.replies.WriteString("\x1b[?62;22c")
	case final == 'n' && (params == "6" || params == "?6"): // cursor position
		s.replies.WriteString("\x1b[1;1R")
	case final == 'p' && strings.HasPrefix(params, "?") && strings.HasSuffix(params, "$"): // DECRQM
		s.replies.WriteString("\x1b[" + strings.TrimSuffix(params, "$") + ";0$y")
	}
}

// osc handles a string sequence: colour queries get an answer.
func (s *screen) osc(seq []byte) {
	q := string(seq)
	if !strings.HasPrefix(q, "]") {
		return
	}
	for _, n := range []string{"10", "11", "12"} {
		if q == "]"+n+";?" {
			rgb := "rgb:1e1e/1e1e/1e1e"
			if n != "11" {
				rgb = "rgb:d0d0/d0d0/d0d0"
			}
			s.replies.WriteString("\x1b]" + n + ";" + rgb + "\x1b\\")
		}
	}
}

func atoi(s string, def int) int {
	if s == "" {
		return def
	}
	n := 0
	for _, c := range s {
		if c < '0' || c > '9' {
			return def
		}
		n = n*10 + int(c-'0')
	}
	return n
}

// squash removes whitespace, as the screen's text does.
func squash(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}
