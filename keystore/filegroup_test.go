package keystore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"keyturn/config"
)

// holdLock takes the file store's lock as another keyturn process would, so
// that writers queue behind it; release lets them go.
func holdLock(t *testing.T, path string) (release func()) {
	t.Helper()
	unlock, err := config.Lock(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	return func() { _ = unlock() }
}

// waitQueued waits until n changes are queued (or fails after 10 s).
func waitQueued(t *testing.T, f *fileBackend, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		f.group.mu.Lock()
		got := len(f.group.queue)
		f.group.mu.Unlock()
		if got >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d changes queued, want %d", got, n)
		}
		time.Sleep(time.Millisecond)
	}
}

func commits(f *fileBackend) int {
	f.group.mu.Lock()
	defer f.group.mu.Unlock()
	return f.group.commits
}

// Writes that arrive while the file is busy share one write, and every one
// of them is in the file when its Set returns.
func TestFileGroupCommitSharesOneWrite(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.enc")
	f := newTestFile(path, "pw", nil)
	if err := f.Set(ctx, "first", "v0"); err != nil {
		t.Fatal(err)
	}
	release := holdLock(t, path)
	const n = 20
	errs := make(chan error, n)
	for i := range n {
		go func() { errs <- f.Set(ctx, fmt.Sprintf("tok/%02d", i), fmt.Sprintf("value-%02d", i)) }()
	}
	waitQueued(t, f, n)
	release()
	for range n {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := commits(f); got != 2 {
		t.Errorf("the file was written %d times for 1 + %d queued writes, want 2", got, n)
	}
	other := newTestFile(path, "pw", nil) // as a new process reads it
	for i := range n {
		got, err := other.Get(ctx, fmt.Sprintf("tok/%02d", i))
		if err != nil || got != fmt.Sprintf("value-%02d", i) {
			t.Errorf("tok/%02d = %q, %v", i, got, err)
		}
	}
}

// In one group, a change that refuses fails alone, and a caller that gave
// up before the group was taken is not written.
func TestFileGroupCommitFailsChangesAlone(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.enc")
	f := newTestFile(path, "pw", nil)
	if err := f.Set(ctx, "keep", "v0"); err != nil {
		t.Fatal(err)
	}
	release := holdLock(t, path)
	cctx, cancel := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var setErr, missingErr, cancelledErr error
	wg.Add(3)
	go func() { defer wg.Done(); setErr = f.Set(ctx, "new", "v1") }()
	go func() { defer wg.Done(); missingErr = f.Delete(ctx, "missing") }()
	go func() { defer wg.Done(); cancelledErr = f.Set(cctx, "gave-up", "v2") }()
	waitQueued(t, f, 3)
	cancel()
	release()
	wg.Wait()
	if setErr != nil {
		t.Errorf("Set in the same group as a failing Delete: %v", setErr)
	}
	if !errors.Is(missingErr, ErrNotFound) {
		t.Errorf("Delete of a missing secret: %v, want ErrNotFound", missingErr)
	}
	var se *StoreError
	if !errors.As(cancelledErr, &se) || !errors.Is(cancelledErr, context.Canceled) || se.Name != "gave-up" {
		t.Errorf("cancelled Set: %v, want a StoreError for gave-up wrapping context.Canceled", cancelledErr)
	}
	names, err := newTestFile(path, "pw", nil).List(ctx)
	if err != nil || fmt.Sprint(names) != "[keep new]" {
		t.Errorf("file holds %v (%v), want [keep new]", names, err)
	}
}

// When the group's write fails, every caller gets an error naming its own
// secret, and the file is as it was.
func TestFileGroupCommitWriteFailureReachesEveryone(t *testing.T) {
	if os.Geteuid() == 0 {
		t.Skip("root writes into a read-only directory")
	}
	ctx := context.Background()
	dir := filepath.Join(t.TempDir(), "store")
	path := filepath.Join(dir, "secrets.enc")
	f := newTestFile(path, "pw", nil)
	if err := f.Set(ctx, "keep", "v0"); err != nil {
		t.Fatal(err)
	}
	before := mustRead(t, path)
	release := holdLock(t, path)
	names := []string{"a", "b", "c"}
	errs := make([]error, len(names))
	var wg sync.WaitGroup
	for i, n := range names {
		wg.Add(1)
		go func() { defer wg.Done(); errs[i] = f.Set(ctx, n, "value-"+n) }()
	}
	waitQueued(t, f, len(names))
	if err := os.Chmod(dir, 0o500); err != nil { // the lock file exists already
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.Chmod(dir, 0o700) })
	release()
	wg.Wait()
	for i, n := range names {
		var se *StoreError
		if !errors.As(errs[i], &se) || se.Name != n || se.Op != "set" {
			t.Errorf("Set %s: %v, want a StoreError for %s", n, errs[i], n)
		}
	}
	if string(mustRead(t, path)) != string(before) {
		t.Error("a failed group write changed the file")
	}
}

// Many writers and deleters at once, under -race: the file ends up holding
// exactly what the last change of each name says.
func TestFileGroupCommitConcurrent(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.enc")
	f := newTestFile(path, "pw", nil)
	var wg sync.WaitGroup
	for i := range 40 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			name := fmt.Sprintf("s/%02d", i)
			if err := f.Set(ctx, name, "v-"+name); err != nil {
				t.Error(err)
				return
			}
			if i%2 == 0 {
				if err := f.Delete(ctx, name); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	names, err := newTestFile(path, "pw", nil).List(ctx)
	if err != nil || len(names) != 20 {
		t.Fatalf("file holds %d names (%v), want 20", len(names), err)
	}
	for _, n := range names {
		if v, err := f.Get(ctx, n); err != nil || v != "v-"+n {
			t.Errorf("%s = %q, %v", n, v, err)
		}
	}
}

func decrypts(f *fileBackend) int {
	f.group.mu.Lock()
	defer f.group.mu.Unlock()
	return f.group.decrypts
}

// Writes one after another decrypt the file once: a write finds the file as
// it left it and reuses what it wrote, instead of decrypting and parsing
// every secret again (a bulk run into a file of 10,000 secrets did that per
// token). A change from another process is still read, and kept.
func TestFileWritesReuseTheirOwnContents(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.enc")
	f := newTestFile(path, "pw", nil)
	for i := range 5 {
		if err := f.Set(ctx, fmt.Sprintf("tok/%d", i), fmt.Sprintf("v%d", i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := decrypts(f); got != 0 {
		t.Errorf("5 writes to a file only this store wrote decrypted it %d times, want 0", got)
	}
	other := newTestFile(path, "pw", nil) // another process
	if err := other.Set(ctx, "theirs", "t"); err != nil {
		t.Fatal(err)
	}
	if err := f.Delete(ctx, "tok/0"); err != nil {
		t.Fatal(err)
	}
	if got := decrypts(f); got != 1 {
		t.Errorf("a write after another process's decrypted the file %d times, want 1", got)
	}
	if err := f.Set(ctx, "tok/9", "v9"); err != nil {
		t.Fatal(err)
	}
	fresh := newTestFile(path, "pw", nil)
	names, err := fresh.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"theirs", "tok/1", "tok/2", "tok/3", "tok/4", "tok/9"}
	if fmt.Sprint(names) != fmt.Sprint(want) {
		t.Errorf("the file holds %v, want %v", names, want)
	}
}

// The file's contents are encoded by hand (json.Marshal sorted the map by
// reflection and was half of a 10,000-token run's CPU), as JSON that reads
// back as the same contents, whatever the names and values, and that
// escapes what json.Marshal escapes.
func TestPayloadEncodingReadsBack(t *testing.T) {
	p := &payload{Version: 1, Secrets: map[string][]byte{}}
	check := func() {
		t.Helper()
		got := p.encode(nil)
		var back payload
		if err := json.Unmarshal(got, &back); err != nil {
			t.Fatalf("encode wrote what json cannot read (%v):\n%s", err, got)
		}
		if fmt.Sprint(back.Version, back.Secrets) != fmt.Sprint(p.Version, p.Secrets) {
			t.Fatalf("read back %v, want %v", back.Secrets, p.Secrets)
		}
		for name := range p.Secrets {
			want, _ := json.Marshal(name)
			if !strings.Contains(string(got), string(want)+":") {
				t.Fatalf("the name %q is not written as json.Marshal writes it (%s):\n%s", name, want, got)
			}
		}
	}
	check()
	for i, name := range []string{"acct/command/abc", "a", "Z", "with space", `quote"d`, `back\slash`, "<html>&", "tab\there",
		"nul\x00", "é unicode ☃", "\u2028line", "del\x7f", ""} {
		p.Secrets[name] = []byte(fmt.Sprintf("value %d \x00\xff", i))
		check()
	}
	p.Secrets["empty"] = []byte{}
	check()
	// A changed or removed secret is not written as it was.
	p.Secrets["a"] = []byte("changed")
	delete(p.Secrets, "Z")
	check()
	if strings.Contains(string(p.encode(nil)), `"Z":`) {
		t.Error("a removed secret is still written")
	}
}

func TestPacePause(t *testing.T) {
	t0 := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	ms := time.Millisecond
	for _, c := range []struct {
		name            string
		start, end, now time.Time
		want            time.Duration
	}{
		{"no write yet", time.Time{}, time.Time{}, t0, 0},
		{"right after a 2 ms write", t0, t0.Add(2 * ms), t0.Add(2 * ms), paceFactor * 2 * ms},
		{"partway through the pause", t0, t0.Add(2 * ms), t0.Add(5 * ms), (paceFactor*2 - 3) * ms},
		{"after the pause", t0, t0.Add(2 * ms), t0.Add((2 + paceFactor*2) * ms), 0},
		{"long after", t0, t0.Add(2 * ms), t0.Add(time.Minute), 0},
		{"a slow write is capped", t0, t0.Add(time.Second), t0.Add(time.Second), maxPace},
	} {
		if got := pacePause(c.start, c.end, c.now); got != c.want {
			t.Errorf("%s: pause %v, want %v", c.name, got, c.want)
		}
	}
}

// After a crowded group (writers arriving together, as in a bulk run) the
// next group waits, so that more of them share it; one writer's writes one
// after another, and a write after a quiet spell, never wait.
func TestFileGroupPacesCrowdsNotALoneWriter(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.enc")
	f := newTestFile(path, "pw", nil)
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	var paused []time.Duration
	f.group.now = func() time.Time { now = now.Add(2 * time.Millisecond); return now }
	f.group.after = func(d time.Duration) <-chan time.Time {
		paused = append(paused, d)
		now = now.Add(d)
		fired := make(chan time.Time, 1)
		fired <- now
		return fired
	}
	set := func(name string) {
		t.Helper()
		if err := f.Set(ctx, name, "v-"+name); err != nil {
			t.Fatal(err)
		}
	}
	crowd := func(names ...string) {
		t.Helper()
		release := holdLock(t, path)
		errs := make(chan error, len(names))
		for _, n := range names {
			go func() { errs <- f.Set(ctx, n, "v-"+n) }()
		}
		waitQueued(t, f, len(names))
		release()
		for range names {
			if err := <-errs; err != nil {
				t.Fatal(err)
			}
		}
	}

	set("a")
	set("b")
	set("c")
	if len(paused) != 0 {
		t.Fatalf("one writer's writes one after another paused %v", paused)
	}
	crowd("d", "e", "f")
	// The crowded group's write took 2 ms of the clock: the next write, 2 ms
	// after it ended, waits out the rest of paceFactor×2 ms.
	set("g")
	if want := (paceFactor*2 - 2) * time.Millisecond; len(paused) != 1 || paused[0] != want {
		t.Fatalf("a write after a crowded group paused %v, want [%v]", paused, want)
	}
	crowd("h", "i")
	paused = nil
	now = now.Add(time.Second)
	set("j")
	if len(paused) != 0 {
		t.Fatalf("a write a quiet second after a crowded group paused %v", paused)
	}
	other := newTestFile(path, "pw", nil)
	for _, name := range strings.Split("abcdefghij", "") {
		if got, err := other.Get(ctx, name); err != nil || got != "v-"+name {
			t.Errorf("%s = %q, %v", name, got, err)
		}
	}
}

// Reads use the contents the store last wrote or decrypted while the file
// holds the same bytes: a bulk run reads its credential twice before its
// first write, each a decrypt of the whole file. A change by another
// process is read afresh.
func TestFileReadsReuseWhatTheStoreHolds(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.enc")
	f := newTestFile(path, "pw", nil)
	for _, n := range []string{"a", "b"} {
		if err := f.Set(ctx, n, "v-"+n); err != nil {
			t.Fatal(err)
		}
	}
	get := func(s *fileBackend, name, want string) {
		t.Helper()
		if got, err := s.Get(ctx, name); err != nil || got != want {
			t.Fatalf("%s = %q, %v; want %q", name, got, err, want)
		}
	}
	for range 3 {
		get(f, "a", "v-a")
		get(f, "b", "v-b")
	}
	if _, err := f.Get(ctx, "nosuch"); !errors.Is(err, ErrNotFound) {
		t.Fatalf("a missing name: %v, want not found", err)
	}
	if got := decrypts(f); got != 0 {
		t.Errorf("reads of a file this store wrote decrypted it %d times, want 0", got)
	}

	reader := newTestFile(path, "pw", nil) // another process that only reads
	get(reader, "a", "v-a")
	get(reader, "b", "v-b")
	if names, err := reader.List(ctx); err != nil || fmt.Sprint(names) != "[a b]" {
		t.Fatalf("List = %v, %v", names, err)
	}
	if got := decrypts(reader); got != 1 {
		t.Errorf("three reads by a new store decrypted the file %d times, want 1", got)
	}

	other := newTestFile(path, "pw", nil)
	if err := other.Set(ctx, "a", "changed"); err != nil {
		t.Fatal(err)
	}
	get(f, "a", "changed")
	get(reader, "a", "changed")
	if got := decrypts(f); got != 1 {
		t.Errorf("a read after another process's write decrypted %d times, want 1", got)
	}

	// A wrong passphrase is not answered from what the store holds.
	wrong := newTestFile(path, "not it", nil)
	wrong.group.keep(mustRead(t, path), []byte("pw"), &payload{Version: 1, Secrets: map[string][]byte{"a": []byte("leak")}})
	if v, err := wrong.Get(ctx, "a"); !errors.Is(err, ErrWrongPassphrase) {
		t.Fatalf("a wrong passphrase read %q, %v", v, err)
	}
}

// A leader pausing after a crowded group stops pausing once paceGroup
// changes wait (the store is what the stream waits for: pausing would only
// idle it), and a leader that finds that many waiting does not pause.
func TestFileGroupPauseEndsWhenTheGroupIsFull(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "secrets.enc")
	f := newTestFile(path, "pw", nil)
	pausing := make(chan time.Duration, 10)
	f.group.after = func(d time.Duration) <-chan time.Time {
		pausing <- d
		return nil // never fires: only a full group ends this pause
	}
	f.group.mu.Lock()
	f.group.lastStart, f.group.lastEnd, f.group.lastCrowded = time.Now(), time.Now().Add(10*time.Millisecond), true
	f.group.mu.Unlock()

	errs := make(chan error, minPaceGroup)
	go func() { errs <- f.Set(ctx, "lead", "v") }()
	if d := <-pausing; d <= 0 {
		t.Fatalf("the leader after a crowded group paused %v", d)
	}
	for i := range minPaceGroup - 1 {
		go func() { errs <- f.Set(ctx, fmt.Sprintf("tok/%02d", i), "v") }()
	}
	for range minPaceGroup {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if got := commits(f); got != 1 {
		t.Errorf("%d changes arriving during a pause took %d writes, want 1", minPaceGroup, got)
	}
}

// Who pauses: only a leader after a crowded group, and only while fewer
// than minPaceGroup changes wait.
func TestFileGroupPauseBefore(t *testing.T) {
	now := time.Now()
	for _, c := range []struct {
		crowded bool
		waiting int
		pauses  bool
	}{
		{false, 1, false},
		{false, minPaceGroup - 1, false},
		{true, 1, true},
		{true, minPaceGroup - 1, true},
		{true, minPaceGroup, false},
		{true, 3 * minPaceGroup, false},
	} {
		g := &fileGroup{lastStart: now, lastEnd: now.Add(5 * time.Millisecond), lastCrowded: c.crowded,
			queue: make([]*fileChange, c.waiting), full: make(chan struct{}, 1)}
		g.now = func() time.Time { return now.Add(5 * time.Millisecond) }
		if got := g.pauseBefore() > 0; got != c.pauses {
			t.Errorf("crowded %v, %d waiting: pauses %v, want %v", c.crowded, c.waiting, got, c.pauses)
		}
	}
}

// The group that ends a pause grows with the file, so that each secret's
// share of a write (which rewrites every secret) stays the same.
func TestPaceGroupGrowsWithTheFile(t *testing.T) {
	for _, c := range []struct{ secrets, want int }{
		{0, minPaceGroup}, {1000, minPaceGroup}, {2000, 50}, {4000, 100}, {10000, maxPaceGroup}, {100000, maxPaceGroup},
	} {
		if got := paceGroup(c.secrets); got != c.want {
			t.Errorf("paceGroup(%d) = %d, want %d", c.secrets, got, c.want)
		}
	}
}
