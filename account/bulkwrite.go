package account

import (
	"context"
	"sync"

	"keyturn/config"
	"keyturn/keystore"
)

// A bulk run's writer queue. A worker that has its answer hands the token
// to the store and gives its request slot to the next request, so requests
// go on while earlier tokens are written: the run costs the slower of the
// network and the store, not their sum. The worker itself waits for the
// write, and only then is the token journalled, reported or counted as
// stored (DESIGN rule 1); it stays in InFlight until then, so quitting
// waits for it.

// bulkWriteQueue is how many answered tokens a run may hold waiting for
// the store beyond its requests in flight: it bounds the run's memory and
// how far requests run ahead of a slow store.
const bulkWriteQueue = 256

// bulkParallel is BulkOptions.Parallel, 4 unless set.
func bulkParallel(p int) int {
	if p <= 0 {
		return 4
	}
	return p
}

// requestSlots bounds a run's requests to its Parallel.
type requestSlots chan struct{}

// requestSlot is one worker's place among the requests.
type requestSlot struct {
	slots requestSlots
	once  sync.Once
}

// acquire waits for a place, or for ctx to end.
func (s requestSlots) acquire(ctx context.Context) (*requestSlot, error) {
	select {
	case s <- struct{}{}:
		return &requestSlot{slots: s}, nil
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// release gives the place back; only the first call counts.
func (r *requestSlot) release() {
	if r != nil {
		r.once.Do(func() { <-r.slots })
	}
}

type slotKey struct{}

// withSlot carries a worker's slot to its store write, which gives it back.
func withSlot(ctx context.Context, r *requestSlot) context.Context {
	return context.WithValue(ctx, slotKey{}, r)
}

func slotIn(ctx context.Context) *requestSlot {
	r, _ := ctx.Value(slotKey{}).(*requestSlot)
	return r
}

// putFunc stores a secret with its index entry.
type putFunc = func(context.Context, config.SecretMeta, string) error

// queuedPut is put for a bulk run's workers: it frees the caller's request
// slot, then writes, at most writers at a time. Waiting for a turn is not
// cancellable: the token is already issued.
func queuedPut(put putFunc, writers int) putFunc {
	turns := make(chan struct{}, writers)
	return func(ctx context.Context, meta config.SecretMeta, value string) error {
		slotIn(ctx).release()
		turns <- struct{}{}
		defer func() { <-turns }()
		return put(ctx, meta, value)
	}
}

// storeWriters is how many writes a run gives the store at once. The file
// store commits the writes that wait together in one encrypt and sync, so it
// is given the whole queue; the others as many as there are requests, as
// before (a keyring serves one write at a time, and each write's timeout
// runs from its start, not from its place in the queue).
func storeWriters(backend string, parallel int) int {
	if backend == keystore.KindFile {
		return parallel + bulkWriteQueue
	}
	return parallel
}

// freesSlotAtStore reports whether t's rotation may give its request slot
// away once its answer is in, and queue for the store. Only a token the
// server shows qualifies: its plan is on disk, so if keyturn is killed with
// the answer still queued, a resume reads the token back from the server
// rather than reporting it unknown; the queue loses nothing that four
// workers would not. A user token's rotation also verifies the new token
// and revokes the old after storing it, so it keeps its slot to the end.
func freesSlotAtStore(t Token) bool {
	return t.current != "" && t.Ref.Kind != KindUserToken && t.Ref.Kind != KindSession
}

// flushPause is how many times as long as an index flush took a bulk run
// waits before the next: flushing costs at most a twentieth of the run.
const flushPause = 20
