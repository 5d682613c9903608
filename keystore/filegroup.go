package keystore

import (
	"bytes"
	"context"
	"errors"
	"sync"
	"time"

	"keyturn/config"
)

// Group commit for the file store. Every write re-encrypts the whole file,
// fsyncs it and renames it into place; done once per token, a bulk rotation
// spends more time there than on the network. So writes that arrive while
// another is being written wait and then go out together: the next writer to
// take the file lock applies every change queued by then, and all of them
// share one encrypt, one fsync and one rename. Each caller still returns only
// once its own change is durable (DESIGN rule 1), and a lone write is not
// delayed at all: nothing waits for company.
//
// Concurrent writers are paced. Against a server answering in a
// millisecond, a bulk run's next group would start as soon as the last one
// ended, hold three or four changes, and the run would re-encrypt and fsync
// the whole file some three hundred times per thousand tokens: CPU the
// requests in flight wait for. So when the last group was crowded (it held
// more than one change, or another was already waiting when it ended), the
// next waits until paceFactor times the last write's time has passed since
// it ended (at most maxPace): writing then takes at most a fourth of the
// stream's time, groups grow with the file's size, and a run's last token
// waits a few milliseconds more. A lone write, or one writer's writes one
// after another, never waits: no one else would join them.

// fileChange is one Set or Delete waiting for its turn.
type fileChange struct {
	ctx    context.Context
	op     string
	name   string
	change func(*payload) (bool, error)
	pass   []byte
	cached bool

	done bool
	err  error
}

// fileGroup is the queue of changes and who is writing.
type fileGroup struct {
	mu       sync.Mutex
	cond     *sync.Cond
	queue    []*fileChange
	writing  bool
	commits  int // for tests: how many times the file was written
	decrypts int // for tests: how many times a write decrypted the file

	// last is what the previous group wrote (or read without changing),
	// for the next: only the leader of a group touches it.
	last lastWrite

	// When the last group's write started and ended, and whether it was
	// crowded, for pacing; now and sleep are the clock (tests replace them).
	lastStart, lastEnd time.Time
	lastCrowded        bool
	now                func() time.Time
	sleep              func(context.Context, time.Duration)
}

const (
	paceFactor = 3
	maxPace    = 50 * time.Millisecond
)

// pacePause is how long a group about to start at now waits, the last one
// having written from start to end: what is left of paceFactor times its
// write time since it ended, at most maxPace.
func pacePause(start, end, now time.Time) time.Duration {
	if end.IsZero() {
		return 0
	}
	gap := min(paceFactor*end.Sub(start), maxPace)
	return max(gap-now.Sub(end), 0)
}

func (g *fileGroup) clock() time.Time {
	if g.now != nil {
		return g.now()
	}
	return time.Now()
}

// pause waits d, or until ctx ends: a cancelled leader still leads (its
// change is dropped unwritten, the others' are written).
func (g *fileGroup) pause(ctx context.Context, d time.Duration) {
	if g.sleep != nil {
		g.sleep(ctx, d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// lastWrite is the file's bytes as a group left them and their decrypted
// contents. A group that reads the same bytes back under the same
// passphrase starts from these contents instead of decrypting and parsing
// every secret again: in a bulk run into a file of thousands, that cost
// more than the write. Any change by another process changes the bytes.
type lastWrite struct {
	raw  []byte
	pass []byte
	p    *payload
}

// reuse returns the contents last written, if data is still those bytes
// and pass their passphrase. The contents are handed over: the caller
// changes them, and keeps them again only once they are written.
func (l *lastWrite) reuse(data, pass []byte) (*payload, *sealKey, bool) {
	if l.p == nil || data == nil || !bytes.Equal(l.raw, data) || !bytes.Equal(l.pass, pass) {
		*l = lastWrite{}
		return nil, nil, false
	}
	p := l.p
	*l = lastWrite{}
	return p, headerKey(data), true
}

// commitInGroup queues c and returns once a commit that holds it is durable,
// or has failed. A writer that finds nobody writing leads: it commits
// everything queued with the same passphrase, then wakes the others; one of
// those still waiting leads the next group.
func (f *fileBackend) commitInGroup(ctx context.Context, c *fileChange) error {
	g := &f.group
	g.mu.Lock()
	if g.cond == nil {
		g.cond = sync.NewCond(&g.mu)
	}
	g.queue = append(g.queue, c)
	for !c.done {
		if g.writing {
			g.cond.Wait()
			continue
		}
		g.writing = true
		var wait time.Duration
		if g.lastCrowded {
			wait = pacePause(g.lastStart, g.lastEnd, g.clock())
		}
		g.mu.Unlock()
		if wait > 0 {
			g.pause(ctx, wait)
		}
		start := g.clock()
		n := f.leadCommit(ctx, c.pass)
		end := g.clock()
		g.mu.Lock()
		g.lastStart, g.lastEnd = start, end
		g.lastCrowded = n > 1 || len(g.queue) > 0
		g.writing = false
		g.cond.Broadcast()
	}
	g.mu.Unlock()
	return c.err
}

// takeGroup removes and returns the queued changes made with pass. Changes
// made with another passphrase (a retyped one) wait for a group of their own,
// so that none is written under a key its caller did not give.
func (g *fileGroup) takeGroup(pass []byte) []*fileChange {
	g.mu.Lock()
	defer g.mu.Unlock()
	var mine, rest []*fileChange
	for _, c := range g.queue {
		if bytes.Equal(c.pass, pass) {
			mine = append(mine, c)
		} else {
			rest = append(rest, c)
		}
	}
	g.queue = rest
	return mine
}

// finish marks the changes done; each waiter sees its outcome after the
// leader's Broadcast.
func (g *fileGroup) finish(batch []*fileChange) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for _, c := range batch {
		c.done = true
	}
}

// failEach gives every change that has no error yet its own (each names its own
// secret).
func failEach(batch []*fileChange, errFor func(*fileChange) error) {
	for _, c := range batch {
		if c.err == nil {
			c.err = errFor(c)
		}
	}
}

// leadCommit takes the file lock, then the queue (so that every change
// queued while it waited for the lock joins), and writes them in one go. A
// change whose caller gave up before the group was taken is dropped unwritten;
// once taken, it is written whatever happens to its caller, like a request
// already sent. It returns how many changes the group took.
func (f *fileBackend) leadCommit(ctx context.Context, pass []byte) int {
	unlock, lockErr := config.Lock(context.WithoutCancel(ctx), f.path)
	batch := f.group.takeGroup(pass)
	defer f.group.finish(batch)
	if lockErr != nil {
		failEach(batch, func(c *fileChange) error { return f.fail(c.op, c.name, "cannot lock "+f.path, "", lockErr) })
		return len(batch)
	}
	defer func() { _ = unlock() }()
	var live []*fileChange
	for _, c := range batch {
		if err := c.ctx.Err(); err != nil {
			c.err = f.fail(c.op, c.name, "cancelled", "", err)
			continue
		}
		live = append(live, c)
	}
	if len(live) > 0 {
		if errFor := f.writeGroup(live, pass); errFor != nil {
			failEach(live, errFor)
		}
	}
	return len(batch)
}

// writeGroup applies the changes to the file's current contents and writes
// the result once. A change that refuses (a Delete of a missing name) fails
// alone; a failure to read, decrypt or write fails the whole group, and the
// file is left as it was. On failure it returns the error for each change.
func (f *fileBackend) writeGroup(batch []*fileChange, pass []byte) func(*fileChange) error {
	first := batch[0]
	data, err := f.readRaw(first.op, first.name)
	if err != nil {
		return sameFor(err)
	}
	p, sk, reused := f.group.last.reuse(data, pass)
	if !reused {
		p = &payload{Version: 1, Secrets: map[string][]byte{}}
	}
	if data != nil && !reused {
		f.group.mu.Lock()
		f.group.decrypts++
		f.group.mu.Unlock()
		if p, sk, err = f.open(first.op, first.name, data, pass); err != nil {
			if errors.Is(err, ErrWrongPassphrase) && first.cached {
				f.forget()
			}
			return sameFor(err)
		}
	}
	write := false
	for _, c := range batch {
		w, err := c.change(p)
		c.err = err
		write = write || (w && err == nil)
	}
	if !write {
		if data != nil { // nothing changed: the contents are still the file's
			f.group.last = lastWrite{raw: data, pass: pass, p: p}
		}
		return nil
	}
	// Keep the file's salt (its key is already derived: no KDF run per
	// write) unless its parameters are weaker than today's, then re-key.
	if sk != nil && !sk.kdf.atLeast(f.kdf) {
		sk = nil
	}
	out, err := f.seal(p, pass, sk)
	if err != nil {
		return func(c *fileChange) error { return f.fail(c.op, c.name, "encryption failed", "", err) }
	}
	if err := config.WriteFileAtomic(f.path, out, 0o600); err != nil {
		return func(c *fileChange) error { return f.fail(c.op, c.name, "cannot write "+f.path, "", err) }
	}
	f.group.last = lastWrite{raw: out, pass: pass, p: p}
	f.group.mu.Lock()
	f.group.commits++
	f.group.mu.Unlock()
	if !first.cached {
		f.remember(pass)
	}
	return nil
}

// sameFor is a failure already worded for the first change of a group: the
// others get the same error (it names the file, not only one secret).
func sameFor(err error) func(*fileChange) error {
	return func(*fileChange) error { return err }
}
