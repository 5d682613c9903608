// Package audit keeps keyturn's audit log: one JSON line per thing done to
// an account or a secret (signing in, creating, rotating, revealing, …), so
// that an operator can show what was rotated when, and by which face.
//
// The log lives beside the config file (audit.jsonl), mode 0600. Lines are
// only ever appended, each written and fsynced before Append returns, under
// the same kind of sibling lock file the config uses, so that two keyturn
// processes never interleave half lines. When the file grows past MaxSize it
// is renamed to audit.jsonl.1 (older generations shift up to Keep) and a new
// one starts: the log stays bounded without ever rewriting a line.
//
// An Entry has no field for a secret's value, and every field is cleaned of
// control characters and cut to a bounded length, so a line can be printed
// on a terminal as it is. Names and refs are what the config already holds.
package audit

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"

	"keyturn/config"
	"keyturn/textsafe"
)

// Outcomes of an action.
const (
	OK        = "ok"
	Failed    = "failed"
	Cancelled = "cancelled"
	// Unknown: a request was sent and no answer came; the server may have
	// acted.
	Unknown = "unknown"
)

// Entry is one line of the log.
type Entry struct {
	Time    time.Time `json:"time"`
	Action  string    `json:"action"` // "login", "rotate", "reveal", …
	Account string    `json:"account,omitempty"`
	Ref     string    `json:"ref,omitempty"`    // the token's REF, e.g. "command:4xk…"
	Secret  string    `json:"secret,omitempty"` // the secret's name in the store, never its value
	Outcome string    `json:"outcome"`
	Exit    *int      `json:"exit,omitempty"` // the command's exit code, for the CLI
	Face    string    `json:"face,omitempty"` // "cli" or "tui"
}

// FileName is the log's name beside the config file.
const FileName = "audit.jsonl"

// Defaults for a Log.
const (
	DefaultMaxSize = 4 << 20
	DefaultKeep    = 3
	maxField       = 256
)

// Log is the audit log at Path.
type Log struct {
	Path    string
	MaxSize int64 // rotate once the file is this big
	Keep    int   // rotated generations kept: Path.1 … Path.Keep
	now     func() time.Time
}

// Beside returns the log that lives next to the config file at configPath.
func Beside(configPath string) *Log {
	return &Log{Path: filepath.Join(filepath.Dir(configPath), FileName), MaxSize: DefaultMaxSize, Keep: DefaultKeep, now: time.Now}
}

// clean makes a field safe to print and bounded.
func clean(s string) string {
	s = textsafe.Line(s)
	if len(s) > maxField {
		cut := maxField
		for cut > 0 && !utf8Start(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return s
}

func utf8Start(b byte) bool { return b&0xC0 != 0x80 }

// clean cleans every text field, on the way in and on the way out (the file
// may have been edited by hand).
func (e *Entry) clean() {
	e.Action, e.Account, e.Ref = clean(e.Action), clean(e.Account), clean(e.Ref)
	e.Secret, e.Outcome, e.Face = clean(e.Secret), clean(e.Outcome), clean(e.Face)
}

// Append writes e as one line and fsyncs it. A zero Time is now.
func (l *Log) Append(ctx context.Context, e Entry) error {
	return l.AppendAll(ctx, e)
}

// AppendAll writes the entries, one line each, under one lock and one
// fsync: a bulk run's thousand entries cost one write, not a thousand. An
// entry without an action or outcome fails the whole call before anything
// is written.
func (l *Log) AppendAll(ctx context.Context, entries ...Entry) error {
	var line []byte
	for _, e := range entries {
		if e.Time.IsZero() {
			now := l.now
			if now == nil {
				now = time.Now
			}
			e.Time = now()
		}
		e.Time = e.Time.UTC().Truncate(time.Millisecond)
		e.clean()
		if e.Action == "" || e.Outcome == "" {
			return errors.New("audit: an entry needs an action and an outcome")
		}
		b, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("audit: %w", err)
		}
		line = append(append(line, b...), '\n')
	}
	if len(line) == 0 {
		return nil
	}
	if err := config.MkdirPrivate(filepath.Dir(l.Path)); err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	unlock, err := config.Lock(ctx, l.Path)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	defer func() { _ = unlock() }()
	if err := l.rotateIfFull(int64(len(line))); err != nil {
		return err
	}
	f, err := config.OpenNoFollow(l.Path, os.O_WRONLY|os.O_APPEND|os.O_CREATE, 0o600)
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	// A log created by hand with wider permissions is narrowed: lines name
	// accounts and secrets.
	_ = f.Chmod(0o600)
	if _, err := f.Write(line); err != nil {
		_ = f.Close()
		return fmt.Errorf("audit log %s: %w", l.Path, err)
	}
	if err := f.Sync(); err != nil {
		_ = f.Close()
		return fmt.Errorf("audit log %s: fsync: %w", l.Path, err)
	}
	return f.Close()
}

// rotateIfFull shifts the generations when adding n bytes would take the
// log past MaxSize. The oldest generation is dropped.
func (l *Log) rotateIfFull(n int64) error {
	if l.MaxSize <= 0 {
		return nil
	}
	fi, err := os.Lstat(l.Path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("audit log: %w", err)
	}
	if fi.Size() == 0 || fi.Size()+n <= l.MaxSize {
		return nil
	}
	keep := max(l.Keep, 1)
	for i := keep - 1; i >= 1; i-- {
		from, to := l.generation(i), l.generation(i+1)
		if err := os.Rename(from, to); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("audit log: rotate: %w", err)
		}
	}
	if err := os.Rename(l.Path, l.generation(1)); err != nil {
		return fmt.Errorf("audit log: rotate: %w", err)
	}
	return nil
}

// generation is the name of the i-th rotated file (1 is the newest).
func (l *Log) generation(i int) string { return l.Path + "." + strconv.Itoa(i) }

// Filter picks entries; zero fields match everything.
type Filter struct {
	Account string
	Since   time.Time
	Limit   int // the newest Limit entries; 0 = all
}

// Read returns the entries that match f, oldest first, across the rotated
// generations. A line that does not parse (a torn write after a crash, an
// edit by hand) is skipped and counted in skipped.
func (l *Log) Read(f Filter) (entries []Entry, skipped int, err error) {
	keep := max(l.Keep, 1)
	files := []string{}
	for i := keep; i >= 1; i-- {
		files = append(files, l.generation(i))
	}
	files = append(files, l.Path)
	for _, path := range files {
		es, bad, err := readFile(path, f)
		if err != nil {
			return nil, 0, err
		}
		entries = append(entries, es...)
		skipped += bad
	}
	sort.SliceStable(entries, func(i, j int) bool { return entries[i].Time.Before(entries[j].Time) })
	if f.Limit > 0 && len(entries) > f.Limit {
		entries = entries[len(entries)-f.Limit:]
	}
	return entries, skipped, nil
}

func readFile(path string, f Filter) ([]Entry, int, error) {
	fh, err := config.OpenNoFollow(path, os.O_RDONLY, 0)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, 0, nil
	}
	if err != nil {
		return nil, 0, fmt.Errorf("audit log: %w", err)
	}
	defer fh.Close()
	var out []Entry
	bad := 0
	r := bufio.NewReader(fh)
	for {
		raw, err := r.ReadBytes('\n')
		if text := strings.TrimSpace(string(raw)); text != "" {
			var e Entry
			switch {
			case json.Unmarshal([]byte(text), &e) != nil || e.Action == "":
				bad++
			case f.Account != "" && e.Account != f.Account:
			case !f.Since.IsZero() && e.Time.Before(f.Since):
			default:
				e.clean()
				out = append(out, e)
			}
		}
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, 0, fmt.Errorf("audit log %s: %w", path, err)
		}
	}
	return out, bad, nil
}
