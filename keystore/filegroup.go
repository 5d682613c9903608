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
// more than one change, or another was already waiting when it ended) and
// fewer than paceGroup changes wait, the next leader waits until paceFactor
// times the last write's time has passed since it ended (at most maxPace),
// or until paceGroup changes wait: writing then takes at most a seventh of
// the stream's time, and a run's last token waits a few milliseconds more
// (at 1 ms a request, a factor of 6 cut a 1,000-token run's CPU per token
// from 224 µs to 164 µs against 3; 10 gained nothing more).
// When the store is what the run waits for, paceGroup changes are already
// waiting and nobody pauses. A lone write, or one writer's writes one after
// another, never waits: no one else would join them.

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
	decrypts int // for tests: how many times the file was decrypted

	// last is what the previous group wrote (or a reader decrypted), for
	// the next group and for readers (under mu): a group's leader takes it
	// out before changing it.
	last lastWrite

	// plain is the buffer the last group encoded its plain text into, and
	// spare the file's bytes before it wrote, for the next group to seal
	// into: only a group's leader touches them.
	plain, spare []byte

	// When the last group's write started and ended, and whether it was
	// crowded, for pacing; full wakes a pausing leader once paceGroup
	// changes wait. now and after are the clock (tests replace them).
	lastStart, lastEnd time.Time
	lastCrowded        bool
	secrets            int // how many the file held after the last group
	full               chan struct{}
	now                func() time.Time
	after              func(time.Duration) <-chan time.Time
}

const (
	paceFactor = 6
	maxPace    = 50 * time.Millisecond
	// A pause ends once a group of a fortieth of the file's secrets waits
	// (at least minPaceGroup, at most maxPaceGroup, below a bulk run's
	// writer queue): every write rewrites the whole file, so the group
	// grows with it and each secret's share of a write stays the same
	// from a thousand secrets to ten thousand.
	minPaceGroup = 32
	maxPaceGroup = 240
)

// paceGroup is how many waiting changes end a pause, for a file of n
// secrets.
func paceGroup(n int) int { return min(max(n/40, minPaceGroup), maxPaceGroup) }

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

// pauseBefore is how long the next leader pauses (see pacing above); g.mu
// is held.
func (g *fileGroup) pauseBefore() time.Duration {
	if !g.lastCrowded || len(g.queue) >= paceGroup(g.secrets) {
		return 0
	}
	select { // a wake-up left from before is not for this pause
	case <-g.full:
	default:
	}
	return pacePause(g.lastStart, g.lastEnd, g.clock())
}

func (g *fileGroup) clock() time.Time {
	if g.now != nil {
		return g.now()
	}
	return time.Now()
}

// pause waits d, or until paceGroup changes wait, or until ctx ends: a
// cancelled leader still leads (its change is dropped unwritten, the
// others' are written).
func (g *fileGroup) pause(ctx context.Context, d time.Duration) {
	var timer <-chan time.Time
	if g.after != nil {
		timer = g.after(d)
	} else {
		t := time.NewTimer(d)
		defer t.Stop()
		timer = t.C
	}
	select {
	case <-timer:
	case <-g.full:
	case <-ctx.Done():
	}
}

// lastWrite is the file's bytes as a group left them (or a reader found
// them) and their decrypted contents. A group or reader that reads the same
// bytes under the same passphrase uses these contents instead of
// decrypting and parsing every secret again: in a bulk run into a file of
// thousands, that cost more than the write. Any change by another process
// changes the bytes.
type lastWrite struct {
	raw  []byte
	pass []byte
	p    *payload
}

// take returns the contents last written or read, if data is still those
// bytes and pass their passphrase. The contents are handed over: the caller
// changes them, and keeps them again only once they are written.
func (g *fileGroup) take(data, pass []byte) (*payload, *sealKey, bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	l := &g.last
	if l.p == nil || data == nil || !l.holds(data, pass) {
		*l = lastWrite{}
		return nil, nil, false
	}
	p := l.p
	*l = lastWrite{}
	return p, headerKey(data), true
}

// takeIfCurrent takes the contents last written or read if the file at
// path still holds their bytes and pass is their passphrase, and returns
// those bytes with them: they are the caller's from now on (a leader
// seals the next file into them).
//
// The file is compared outside the lock, so that writers queueing meanwhile
// are not held up: only a leader recycles bytes, and there is one at a
// time, so the bytes it compares stay as they are.
func (g *fileGroup) takeIfCurrent(path string, pass []byte) ([]byte, *payload, *sealKey, bool) {
	g.mu.Lock()
	raw := g.last.raw
	ok := g.last.p != nil && len(raw) > 0 && bytes.Equal(g.last.pass, pass)
	g.mu.Unlock()
	if !ok {
		return nil, nil, nil, false
	}
	if same, err := config.FileHolds(path, raw); err != nil || !same {
		return nil, nil, nil, false
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.last.p == nil || len(g.last.raw) == 0 || &g.last.raw[0] != &raw[0] { // a reader kept other bytes meanwhile
		return nil, nil, nil, false
	}
	p := g.last.p
	g.last = lastWrite{}
	return raw, p, headerKey(raw), true
}

// viewCurrent calls use with the contents last written or read if the file
// at path still holds their bytes and pass is their passphrase, and
// reports whether it did.
func (g *fileGroup) viewCurrent(path string, pass []byte, use func(*payload)) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if !g.current(path, pass) {
		return false
	}
	use(g.last.p)
	return true
}

// current reports whether the group holds contents under pass that the
// file at path still holds, compared in pieces rather than read whole.
// g.mu is held: a reader compares under it, so that no leader recycles the
// bytes meanwhile.
func (g *fileGroup) current(path string, pass []byte) bool {
	if g.last.p == nil || !bytes.Equal(g.last.pass, pass) {
		return false
	}
	same, err := config.FileHolds(path, g.last.raw)
	return err == nil && same
}

// peek calls use with the contents last written or read, if data is still
// those bytes and pass their passphrase, and reports whether it did.
func (g *fileGroup) peek(data, pass []byte, use func(*payload)) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.last.p == nil || !g.last.holds(data, pass) {
		return false
	}
	use(g.last.p)
	return true
}

// keep remembers p as the contents of data under pass.
func (g *fileGroup) keep(data, pass []byte, p *payload) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.last = lastWrite{raw: data, pass: pass, p: p}
}

// counted adds one to a test's counter.
func (g *fileGroup) counted(n *int) {
	g.mu.Lock()
	*n++
	g.mu.Unlock()
}

// drop forgets the contents (a passphrase found wrong).
func (g *fileGroup) drop() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.last = lastWrite{}
}

func (l *lastWrite) holds(data, pass []byte) bool {
	return bytes.Equal(l.raw, data) && bytes.Equal(l.pass, pass)
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
	if g.full == nil {
		g.full = make(chan struct{}, 1)
	}
	g.queue = append(g.queue, c)
	if len(g.queue) == paceGroup(g.secrets) {
		select { // wake a pausing leader: the group is big enough
		case g.full <- struct{}{}:
		default:
		}
	}
	for !c.done {
		if g.writing {
			g.cond.Wait()
			continue
		}
		g.writing = true
		wait := g.pauseBefore()
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
		if !g.lastCrowded {
			// No stream to write for: the buffers go, not kept (and
			// doubled by the garbage collector's headroom) while idle.
			g.plain, g.spare = nil, nil
		}
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
	// The file as the last group left it (the common case: nobody else
	// writes it) is compared in pieces, not read whole again.
	data, p, sk, reused := f.group.takeIfCurrent(f.path, pass)
	if !reused {
		var err error
		if data, err = f.readRaw(first.op, first.name); err != nil {
			return sameFor(err)
		}
		p, sk, reused = f.group.take(data, pass)
	}
	if !reused {
		p = &payload{Version: 1, Secrets: map[string][]byte{}}
	}
	if data != nil && !reused {
		f.group.counted(&f.group.decrypts)
		var err error
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
			f.group.keep(data, pass, p)
		}
		return nil
	}
	// Keep the file's salt (its key is already derived: no KDF run per
	// write) unless its parameters are weaker than today's, then re-key.
	if sk != nil && !sk.kdf.atLeast(f.kdf) {
		sk = nil
	}
	// The plain text is encoded into the buffer the last group used: only
	// a group's leader touches it, and it holds nothing the payload does not.
	out, plain, err := f.seal(p, pass, sk, f.group.plain, f.group.spare)
	f.group.plain, f.group.spare = plain, nil
	if err != nil {
		return func(c *fileChange) error { return f.fail(c.op, c.name, "encryption failed", "", err) }
	}
	if err := config.WriteFileAtomic(f.path, out, 0o600); err != nil {
		return func(c *fileChange) error { return f.fail(c.op, c.name, "cannot write "+f.path, "", err) }
	}
	f.group.keep(out, pass, p)
	f.group.mu.Lock()
	f.group.secrets = len(p.Secrets)
	f.group.mu.Unlock()
	// The bytes this group started from are nobody's now (taken out of
	// last, or read by this leader): the next group seals into them.
	f.group.spare = data
	f.group.counted(&f.group.commits)
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
