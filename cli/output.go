package cli

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"
	"unicode/utf8"

	"keyturn/textsafe"
)

// writeJSON prints v as indented JSON with a final newline. encoding/json
// escapes C0 controls but writes DEL, C1 controls and bidi overrides raw;
// they are escaped too, so that the JSON is as safe on a terminal as the
// tables (the decoded values are unchanged: a token stays as issued).
func writeJSON(w io.Writer, v any) error {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return err
	}
	_, err := w.Write(escapeUnsafe(buf.Bytes()))
	return err
}

// escapeUnsafe writes each unsafe character of JSON text as a \u escape (\u007f, \u202e); such
// characters only ever appear inside strings, where that is their escape.
func escapeUnsafe(js []byte) []byte {
	if !bytes.ContainsFunc(js, func(r rune) bool { return r >= 0x7f && textsafe.Unsafe(r) }) {
		return js
	}
	out := make([]byte, 0, len(js)+32)
	for _, r := range string(js) {
		if r >= 0x7f && textsafe.Unsafe(r) {
			out = fmt.Appendf(out, `\u%04x`, r)
			continue
		}
		out = utf8.AppendRune(out, r)
	}
	return out
}

// table writes aligned columns.
type table struct{ tw *tabwriter.Writer }

func newTable(w io.Writer, header ...string) *table {
	t := &table{tw: tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)}
	t.row(header...)
	return t
}

func (t *table) row(cells ...string) {
	for i, c := range cells {
		if c == "" {
			c = "-"
		}
		cells[i] = textsafe.Line(c) // no cell holds a secret; many quote a server
	}
	fmt.Fprintln(t.tw, strings.Join(cells, "\t"))
}

func (t *table) flush() error { return t.tw.Flush() }

// when writes a time for people: local, to the minute, with how long ago or
// how long until.
func when(t *time.Time, now time.Time) string {
	if t == nil || t.IsZero() {
		return ""
	}
	d := t.Sub(now)
	rel := ""
	switch {
	case d > 0:
		rel = "in " + roughDuration(d)
	case d < 0:
		rel = roughDuration(-d) + " ago"
	default:
		rel = "now"
	}
	return t.Local().Format("2006-01-02 15:04") + " (" + rel + ")"
}

func roughDuration(d time.Duration) string {
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// shownValue is how a secret's value goes to stdout. Piped, it goes as it
// is: a script needs the exact value. On a terminal, a value holding control
// characters (a hostile server can issue one) would act on the terminal, so
// it is shown Go-quoted instead, and a note on stderr says how to get it raw.
func shownValue(app *App, value string) string {
	if !app.io.OutTerminal || textsafe.Line(value) == value {
		return value
	}
	fmt.Fprintln(app.io.Err, "keyturn: the value holds control characters, so it is shown quoted (Go syntax) instead of raw; pipe the output to get it exactly")
	return strconv.QuoteToASCII(value)
}
