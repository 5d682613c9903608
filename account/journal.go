package account

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"keyturn/config"
)

// A journal records what a bulk rotation has done, one JSON line per
// event, never a secret. A "sent" line is on disk before its request goes
// out, so a run stopped at any point is resumed without rotating a token
// twice: a ref that was sent and never finished is reported as unknown, or
// read back from the server when it shows the token (see evPlanned).
type journal struct {
	path string
	f    *os.File

	mu      sync.Mutex
	pending []journalEntry
	waiters []chan error
	kick    chan struct{}
	done    chan struct{}
	err     error
	syncs   int // for tests
}

type journalEntry struct {
	Ref   string `json:"ref"`
	Event string `json:"event"` // "planned", "sent", "done", "not-stored", "failed", "unknown"
	// Name is the store name of the issued token, for "not-stored" (a
	// Mattermost user token's new one is not the ref's).
	Name        string `json:"name,omitempty"`
	Fingerprint string `json:"fingerprint,omitempty"`
	Error       string `json:"error,omitempty"`
	// Was identifies the token the server held when the run planned to
	// rotate this ref (digest), for the kinds whose token the server shows.
	Was  string    `json:"was,omitempty"`
	Time time.Time `json:"time"`
}

// Journal events.
const (
	evSent   = "sent"
	evDone   = "done"
	evFailed = "failed"
	// evNotStored is a token the server issued and the store refused: it
	// was handed to the person, and keyturn holds no copy.
	evNotStored = "not-stored"
	evUnknown   = "unknown" // a "sent" with no answer, reported to the person
	// evPlanned is on disk before any request of a run goes out, with the
	// digest of the token the server holds, for each ref whose token the
	// server shows. On resume a changed token tells a rotation that
	// happened from one that did not, so those refs need no "sent" on disk
	// before their request, and a lost answer is read back from the server.
	evPlanned = "planned"
)

// digest identifies a token in the journal without holding it: 16 hex
// digits of its SHA-256. The tokens are long random strings made by the
// server, so the digest gives none of one away.
func digest(token string) string {
	sum := sha256.Sum256([]byte(token))
	return hex.EncodeToString(sum[:8])
}

// journalPath is one journal per account and selection, so a stopped run
// of slash commands does not hold back a run of webhooks. The name is
// readable, and a digest of the exact selection makes it unique: account
// "a" with kind "command" and account "a.command" do not share a file,
// nor do "A" and "a" on a file system that folds case.
func journalPath(configPath, account, kind, team string) string {
	return filepath.Join(filepath.Dir(configPath), "journal", fileStem(account, kind, team)+".jsonl")
}

// legacyJournalPath is where keyturn kept a selection's journal before
// names were made unique: a run stopped then is still resumed.
func legacyJournalPath(configPath, account, kind, team string) string {
	name := account
	for _, part := range []string{kind, team} {
		if part != "" {
			name += "." + safeFilePart(part)
		}
	}
	return filepath.Join(filepath.Dir(configPath), "journal", name+".jsonl")
}

// fileStem names a file after parts: each made safe to read, then a digest
// of them all, which tells apart parts the first step maps alike.
func fileStem(parts ...string) string {
	var name []string
	for _, p := range parts {
		if p != "" {
			name = append(name, safeFilePart(p))
		}
	}
	sum := sha256.Sum256([]byte(strings.Join(parts, "\x00")))
	return strings.Join(name, ".") + "-" + hex.EncodeToString(sum[:8])
}

func safeFilePart(s string) string {
	b := []byte(s)
	for i, c := range b {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			b[i] = '_'
		}
	}
	return string(b)
}

// readJournal is each ref's last event (empty when there is no journal),
// carrying the digest of its latest plan.
func readJournal(path string) (map[string]journalEntry, error) {
	f, err := config.OpenNoFollow(path, os.O_RDONLY, 0)
	if errors.Is(err, os.ErrNotExist) {
		return map[string]journalEntry{}, nil
	}
	if err != nil {
		return nil, err
	}
	defer f.Close()
	out := map[string]journalEntry{}
	sc := bufio.NewScanner(io.LimitReader(f, 64<<20))
	sc.Buffer(make([]byte, 0, 64<<10), 1<<20)
	for sc.Scan() {
		var e journalEntry
		if json.Unmarshal(sc.Bytes(), &e) != nil || e.Ref == "" {
			// A torn last line from a crash: the event it held did not
			// complete, so the earlier state stands.
			continue
		}
		if e.Was == "" {
			e.Was = out[e.Ref].Was
		}
		out[e.Ref] = e
	}
	return out, sc.Err()
}

// openJournal starts a journal: appending when resuming, fresh otherwise.
// A fresh one replaces the old file rather than truncating it, and no link
// at path is followed, so the journal never writes anywhere else.
func openJournal(path string, resume bool) (*journal, error) {
	if err := config.MkdirPrivate(filepath.Dir(path)); err != nil {
		return nil, err
	}
	flags := os.O_WRONLY | os.O_CREATE | os.O_APPEND
	if !resume {
		if err := os.Remove(path); err != nil && !errors.Is(err, os.ErrNotExist) {
			return nil, fmt.Errorf("starting the rotation journal: %w", err)
		}
		flags |= os.O_EXCL
	}
	f, err := config.OpenNoFollow(path, flags, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening the rotation journal: %w", err)
	}
	j := &journal{path: path, f: f, kick: make(chan struct{}, 1), done: make(chan struct{})}
	go j.loop()
	return j, nil
}

// record appends an event and waits until it is on disk. Concurrent
// records share one fsync (group commit), so many workers cost few syncs.
func (j *journal) record(e journalEntry) error {
	ch := make(chan error, 1)
	if err := j.enqueue(e, ch); err != nil {
		return err
	}
	return <-ch
}

// recordAll appends events and waits until all of them are on disk.
func (j *journal) recordAll(es []journalEntry) error {
	if len(es) == 0 {
		return nil
	}
	ch := make(chan error, 1)
	for _, e := range es[:len(es)-1] {
		if err := j.enqueue(e, nil); err != nil {
			return err
		}
	}
	if err := j.enqueue(es[len(es)-1], ch); err != nil {
		return err
	}
	return <-ch
}

// note appends an event without waiting for the disk: for events a crash
// may lose without harm. An outcome's secret is already safe in the store,
// and a lost "done" only makes a resume report the token as unknown (or
// read it back from the server) instead of skipping it; a lost "sent" of a
// planned ref is made up for by its plan.
func (j *journal) note(e journalEntry) {
	_ = j.enqueue(e, nil)
}

func (j *journal) enqueue(e journalEntry, done chan error) error {
	e.Time = time.Now().UTC()
	j.mu.Lock()
	if j.err != nil {
		err := j.err
		j.mu.Unlock()
		return err
	}
	j.pending = append(j.pending, e)
	if done != nil {
		j.waiters = append(j.waiters, done)
	}
	j.mu.Unlock()
	select {
	case j.kick <- struct{}{}:
	default:
	}
	return nil
}

func (j *journal) loop() {
	defer close(j.done)
	for range j.kick {
		j.flush()
	}
	j.flush() // whatever came after the last kick
}

func (j *journal) flush() {
	j.mu.Lock()
	batch, waiters := j.pending, j.waiters
	j.pending, j.waiters = nil, nil
	j.mu.Unlock()
	if len(batch) == 0 {
		return
	}
	var buf []byte
	for _, e := range batch {
		line, _ := json.Marshal(e)
		buf = append(append(buf, line...), '\n')
	}
	// Only a record waits for the disk; notes ride along with its sync or
	// the one at close (a bulk run noted two events per token, and a sync
	// for each competed with the store's writes for the disk).
	_, err := j.f.Write(buf)
	if err == nil && len(waiters) > 0 {
		err = j.sync()
	}
	if err != nil {
		err = fmt.Errorf("writing the rotation journal %s: %w", j.path, err)
		j.mu.Lock()
		j.err = err
		j.mu.Unlock()
	}
	for _, w := range waiters {
		w <- err
	}
}

func (j *journal) syncCount() int {
	j.mu.Lock()
	defer j.mu.Unlock()
	return j.syncs
}

func (j *journal) sync() error {
	j.mu.Lock()
	j.syncs++
	j.mu.Unlock()
	return j.f.Sync()
}

// close writes what is pending, syncs it and closes the file.
func (j *journal) close() error {
	close(j.kick)
	<-j.done
	return errors.Join(j.sync(), j.f.Close())
}
