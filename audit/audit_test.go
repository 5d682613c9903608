package audit

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

func testLog(t *testing.T) *Log {
	t.Helper()
	l := Beside(filepath.Join(t.TempDir(), "keyturn", "config.json"))
	clock := time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)
	var mu sync.Mutex
	l.now = func() time.Time {
		mu.Lock()
		defer mu.Unlock()
		clock = clock.Add(time.Second)
		return clock
	}
	return l
}

func TestAppendWritesOneLinePerEntry(t *testing.T) {
	l := testLog(t)
	ctx := context.Background()
	exit := 5
	if err := l.Append(ctx, Entry{Action: "rotate", Account: "prod", Ref: "command:abc", Secret: "prod/command/abc", Outcome: Unknown, Exit: &exit, Face: "cli"}); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(ctx, Entry{Action: "login", Account: "stage", Outcome: OK, Face: "tui"}); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(l.Path)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
	if len(lines) != 2 {
		t.Fatalf("%d lines, want 2:\n%s", len(lines), data)
	}
	var e Entry
	if err := json.Unmarshal([]byte(lines[0]), &e); err != nil {
		t.Fatal(err)
	}
	if e.Action != "rotate" || e.Ref != "command:abc" || e.Outcome != Unknown || e.Exit == nil || *e.Exit != 5 || e.Time.IsZero() {
		t.Errorf("first line = %+v", e)
	}
	fi, err := os.Stat(l.Path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o600 {
		t.Errorf("log mode %v, want 0600", fi.Mode().Perm())
	}
	if got, want := Beside("/home/op/.config/keyturn/config.json").Path, "/home/op/.config/keyturn/audit.jsonl"; got != want {
		t.Errorf("log at %s, want %s", got, want)
	}
}

func TestAppendRefusesIncompleteEntries(t *testing.T) {
	l := testLog(t)
	for _, e := range []Entry{{Outcome: OK}, {Action: "login"}} {
		if err := l.Append(context.Background(), e); err == nil {
			t.Errorf("Append(%+v) = nil, want an error", e)
		}
	}
}

// Server text and odd names may hold escape sequences; the log holds them
// cleaned, so printing it cannot drive a terminal.
func TestEntriesAreCleaned(t *testing.T) {
	l := testLog(t)
	ctx := context.Background()
	if err := l.Append(ctx, Entry{Action: "create", Account: "a\x1b]52;c;aGk=\x07b", Ref: "pat:" + strings.Repeat("x", 1000), Outcome: OK}); err != nil {
		t.Fatal(err)
	}
	data, _ := os.ReadFile(l.Path)
	if strings.ContainsAny(string(data), "\x1b\x07") || strings.Contains(string(data), `\u001b`) {
		t.Errorf("control characters reached the log: %q", data)
	}
	es, _, err := l.Read(Filter{})
	if err != nil || len(es) != 1 {
		t.Fatalf("Read: %v, %v", es, err)
	}
	if len(es[0].Ref) > maxField+len("…") {
		t.Errorf("ref kept %d bytes, want at most %d", len(es[0].Ref), maxField)
	}
	// A line edited by hand is cleaned on the way out too.
	f, _ := os.OpenFile(l.Path, os.O_APPEND|os.O_WRONLY, 0)
	fmt.Fprintln(f, `{"time":"2026-12-04T10:00:00Z","action":"rev\u001b[2Jeal","outcome":"ok"}`)
	f.Close()
	es, _, _ = l.Read(Filter{})
	if len(es) != 2 || strings.ContainsRune(es[1].Action, 0x1b) {
		t.Errorf("hand-edited line read back as %+v", es)
	}
}

func TestReadFiltersAndSkipsTornLines(t *testing.T) {
	l := testLog(t)
	ctx := context.Background()
	for i := range 6 {
		acct := []string{"prod", "stage"}[i%2]
		if err := l.Append(ctx, Entry{Action: "rotate", Account: acct, Ref: fmt.Sprint("command:", i), Outcome: OK}); err != nil {
			t.Fatal(err)
		}
	}
	// A crash mid-write leaves a torn last line.
	f, _ := os.OpenFile(l.Path, os.O_APPEND|os.O_WRONLY, 0)
	f.WriteString(`{"time":"2026-12-04T09:00:09Z","act`)
	f.Close()

	all, skipped, err := l.Read(Filter{})
	if err != nil || len(all) != 6 || skipped != 1 {
		t.Fatalf("Read all: %d entries, %d skipped, %v; want 6, 1", len(all), skipped, err)
	}
	prod, _, _ := l.Read(Filter{Account: "prod"})
	if len(prod) != 3 {
		t.Errorf("prod: %d entries, want 3", len(prod))
	}
	since, _, _ := l.Read(Filter{Since: all[3].Time})
	if len(since) != 3 || since[0].Ref != "command:3" {
		t.Errorf("since the 4th: %+v", since)
	}
	last, _, _ := l.Read(Filter{Limit: 2})
	if len(last) != 2 || last[1].Ref != "command:5" {
		t.Errorf("limit 2: %+v", last)
	}
}

// Past MaxSize the file is renamed and a new one begins; lines are never
// rewritten, the oldest generation beyond Keep is dropped, and Read sees
// every kept line in order.
func TestRotationBySize(t *testing.T) {
	l := testLog(t)
	l.MaxSize, l.Keep = 400, 2
	ctx := context.Background()
	for i := range 30 {
		if err := l.Append(ctx, Entry{Action: "fetch", Account: "prod", Ref: fmt.Sprintf("user-token:%03d", i), Outcome: OK}); err != nil {
			t.Fatal(err)
		}
	}
	for _, p := range []string{l.Path, l.Path + ".1", l.Path + ".2"} {
		fi, err := os.Stat(p)
		if err != nil {
			t.Fatalf("%s: %v", p, err)
		}
		if fi.Size() > l.MaxSize {
			t.Errorf("%s is %d bytes, over MaxSize %d", p, fi.Size(), l.MaxSize)
		}
	}
	if _, err := os.Stat(l.Path + ".3"); err == nil {
		t.Error("a third generation was kept with Keep 2")
	}
	es, _, err := l.Read(Filter{})
	if err != nil {
		t.Fatal(err)
	}
	if len(es) == 0 || len(es) >= 30 || es[len(es)-1].Ref != "user-token:029" {
		t.Fatalf("read %d entries ending %+v; want the newest ones, fewer than 30", len(es), es[len(es)-1])
	}
	for i := 1; i < len(es); i++ {
		if !es[i].Time.After(es[i-1].Time) {
			t.Fatalf("entries out of order at %d", i)
		}
	}
}

// Two writers at once (two keyturn processes) never interleave half lines.
func TestConcurrentAppendsStayWhole(t *testing.T) {
	l := testLog(t)
	other := &Log{Path: l.Path, MaxSize: l.MaxSize, Keep: l.Keep}
	var wg sync.WaitGroup
	for _, lg := range []*Log{l, other} {
		for i := range 25 {
			wg.Add(1)
			go func() {
				defer wg.Done()
				if err := lg.Append(context.Background(), Entry{Action: "copy", Account: "prod", Secret: fmt.Sprint("prod/pat/", i), Outcome: OK}); err != nil {
					t.Error(err)
				}
			}()
		}
	}
	wg.Wait()
	es, skipped, err := l.Read(Filter{})
	if err != nil || len(es) != 50 || skipped != 0 {
		t.Fatalf("%d entries, %d skipped, %v; want 50 whole lines", len(es), skipped, err)
	}
}

func TestLogRefusesASymlink(t *testing.T) {
	l := testLog(t)
	if err := os.MkdirAll(filepath.Dir(l.Path), 0o700); err != nil {
		t.Fatal(err)
	}
	target := filepath.Join(t.TempDir(), "elsewhere")
	if err := os.Symlink(target, l.Path); err != nil {
		t.Fatal(err)
	}
	if err := l.Append(context.Background(), Entry{Action: "login", Outcome: OK}); err == nil {
		t.Error("Append wrote through a symbolic link")
	}
	if _, err := os.Stat(target); err == nil {
		t.Error("the link's target was created")
	}
}

// A bulk run's entries go in one call: every one is written, in order;
// and an incomplete one among them writes none.
func TestAppendAllWritesEveryEntryOrNone(t *testing.T) {
	l := testLog(t)
	ctx := context.Background()
	var es []Entry
	for i := range 30 {
		es = append(es, Entry{Action: "rotate", Account: "mm", Ref: "command:" + strconv.Itoa(i), Outcome: OK})
	}
	if err := l.AppendAll(ctx, es...); err != nil {
		t.Fatal(err)
	}
	if err := l.AppendAll(ctx, Entry{Action: "rotate", Outcome: OK}, Entry{Action: "rotate"}); err == nil {
		t.Error("AppendAll with an entry without an outcome: want an error")
	}
	got, _, err := l.Read(Filter{})
	if err != nil || len(got) != 30 {
		t.Fatalf("read back %d entries (%v), want the 30 of the first call", len(got), err)
	}
	for i, e := range got {
		if e.Ref != "command:"+strconv.Itoa(i) {
			t.Fatalf("entry %d is %s", i, e.Ref)
		}
	}
}
