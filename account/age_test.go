package account

import (
	"strings"
	"testing"
	"time"
)

func TestParseAge(t *testing.T) {
	day := 24 * time.Hour
	for _, c := range []struct {
		in   string
		want time.Duration
	}{
		{"90d", 90 * day},
		{"12h", 12 * time.Hour},
		{"1h30m", 90 * time.Minute},
		{"2w", 14 * day},
		{"1w3d", 10 * day},
		{" 7d ", 7 * day},
		{"1d12h", 36 * time.Hour},
	} {
		got, err := ParseAge(c.in)
		if err != nil || got != c.want {
			t.Errorf("ParseAge(%q) = %v, %v; want %v", c.in, got, err, c.want)
		}
	}
	for _, c := range []struct{ in, why string }{
		{"", "empty"},
		{"90", "a unit must follow 90"},
		{"d", "a number must come before"},
		{"5y", `unknown unit "y"`},
		{"1.5h", `unknown unit "."`},
		{"30m1h", "largest first"},
		{"1d1d", "largest first"},
		{"0d", "more than zero"},
		{"-3d", "a number must come before"},
		{"99999999999999999999d", "too long"},
		{"36600d", "too long"},
	} {
		_, err := ParseAge(c.in)
		if err == nil {
			t.Errorf("ParseAge(%q) gave no error", c.in)
			continue
		}
		for _, want := range []string{c.why, "e.g. 90d, 12h, 1h30m, 2w"} {
			if !strings.Contains(err.Error(), want) {
				t.Errorf("ParseAge(%q): %q lacks %q", c.in, err, want)
			}
		}
	}
}

func TestFormatAgeReadsBack(t *testing.T) {
	for _, d := range []time.Duration{90 * 24 * time.Hour, 12 * time.Hour, 90 * time.Minute, 14 * 24 * time.Hour, 36*time.Hour + 5*time.Minute} {
		s := FormatAge(d)
		back, err := ParseAge(s)
		if err != nil || back != d {
			t.Errorf("FormatAge(%v) = %q, which reads back as %v, %v", d, s, back, err)
		}
	}
	if got := FormatAge(14 * 24 * time.Hour); got != "14d" {
		t.Errorf("FormatAge(2w) = %q", got)
	}
}
