package main

import (
	"strings"
	"testing"
)

func TestScreenTextIgnoresSequencesAndBlanks(t *testing.T) {
	var s screen
	// Colours, a cursor move over blanks, a designator, an OSC title, REP,
	// split across writes at awkward places.
	out := "\x1b[?1049h\x1b]2;keyturn\x07\x1b(B\x1b[38;5;141mdemo-\x1b[mmat" +
		"termost\x1b[33X\x1b[3;78Hadmin\r\n\x1b[38;5;66m○ not signed in\x1b[m\r\n-\x1b[3b|"
	for i := 0; i < len(out); i += 7 {
		s.write([]byte(out[i:min(i+7, len(out))]))
	}
	got := s.text.String()
	for _, want := range []string{"demo-mattermost", "admin", squash("○ not signed in"), "----|"} {
		if !strings.Contains(got, want) {
			t.Errorf("text %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "keyturn") {
		t.Errorf("the window title leaked into the text: %q", got)
	}
}

func TestScreenAnswersTerminalQueries(t *testing.T) {
	var s screen
	s.write([]byte("\x1b[?2026$p\x1b]11;?\x07\x1b[c\x1b[6n\x1b[>4;2m"))
	got := s.replies.String()
	for _, want := range []string{"\x1b[?2026;0$y", "\x1b]11;rgb:", "\x1b[?62;22c", "\x1b[1;1R"} {
		if !strings.Contains(got, want) {
			t.Errorf("replies %q lack %q", got, want)
		}
	}
}
