package account

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// Each (account, kind, team) has its own journal: no two selections share
// a file, whatever their names, also on a file system that folds case.
func TestJournalNamesDoNotCollide(t *testing.T) {
	cfg := filepath.Join(t.TempDir(), "config.json")
	sels := [][3]string{
		{"a", "command", ""}, {"a.command", "", ""}, {"a", "", "command"},
		{"a", "command", "x.y"}, {"a", "command", "x_y"}, {"a", "command", "x/y"},
		{"A", "command", ""}, {"a", "", ""}, {"a_", "", ""}, {"a", "user-token", "Ops"}, {"a", "user-token", "ops"},
	}
	seen := map[string][3]string{}
	for _, s := range sels {
		p := journalPath(cfg, s[0], s[1], s[2])
		if filepath.Dir(p) != filepath.Join(filepath.Dir(cfg), "journal") {
			t.Fatalf("%v: journal %s is outside the journal directory", s, p)
		}
		key := strings.ToLower(filepath.Base(p))
		if prev, ok := seen[key]; ok {
			t.Fatalf("%v and %v share the journal %s", prev, s, p)
		}
		seen[key] = s
	}
}

// A fresh journal never writes through a link planted at its path, and a
// resume refuses to read one.
func TestJournalDoesNotFollowLinks(t *testing.T) {
	dir := t.TempDir()
	victim := filepath.Join(dir, "victim")
	if err := os.WriteFile(victim, []byte("keep me\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "journal", "a.jsonl")
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(victim, path); err != nil {
		t.Skip("no symbolic links here:", err)
	}
	if _, err := readJournal(path); err == nil {
		t.Fatal("reading a journal that is a link: want an error")
	}
	if _, err := openJournal(path, true); err == nil {
		t.Fatal("resuming a journal that is a link: want an error")
	}
	j, err := openJournal(path, false)
	if err != nil {
		t.Fatal(err)
	}
	if err := j.record(journalEntry{Ref: "command:x", Event: evSent}); err != nil {
		t.Fatal(err)
	}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	if b, _ := os.ReadFile(victim); string(b) != "keep me\n" {
		t.Fatalf("the link's target was written: %q", b)
	}
	if fi, err := os.Lstat(path); err != nil || fi.Mode()&os.ModeSymlink != 0 {
		t.Fatalf("the fresh journal must be a file of its own: %v", err)
	}
}

// Events noted without waiting are written without a sync of their own
// (each sync competed with the store's for the disk, two per token in a
// bulk run); a record is on disk when it returns, with every note before
// it; and what was noted is in the file once the journal is closed.
func TestJournalSyncsOnlyForRecords(t *testing.T) {
	path := filepath.Join(t.TempDir(), "journal", "a.jsonl")
	j, err := openJournal(path, false)
	if err != nil {
		t.Fatal(err)
	}
	for i := range 50 {
		j.note(journalEntry{Ref: "command:n" + strings.Repeat("x", i%3), Event: evSent})
		time.Sleep(100 * time.Microsecond) // let the writer take them one by one
	}
	if err := j.record(journalEntry{Ref: "command:r", Event: evSent}); err != nil {
		t.Fatal(err)
	}
	if n := j.syncCount(); n != 1 {
		t.Errorf("50 notes and a record synced the journal %d times, want 1", n)
	}
	j.note(journalEntry{Ref: "command:last", Event: evDone})
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
	got, err := readJournal(path)
	if err != nil || len(got) != 5 || got["command:last"].Event != evDone || got["command:r"].Event != evSent {
		t.Fatalf("the journal holds %v, %v", got, err)
	}
}
