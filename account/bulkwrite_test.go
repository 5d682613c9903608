package account_test

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/keystore"
	"keyturn/sandbox/mattermostsim"
)

// heldWrites is a store whose writes of slash-command tokens wait until
// release is closed, like a slow keyring or a file being synced.
type heldWrites struct {
	keystore.Backend
	release chan struct{}
	mu      sync.Mutex
	waiting int
}

func (h *heldWrites) Set(ctx context.Context, name, value string) error {
	if strings.Contains(name, "/command/") {
		h.mu.Lock()
		h.waiting++
		h.mu.Unlock()
		<-h.release
	}
	return h.Backend.Set(ctx, name, value)
}

func (h *heldWrites) pending() int {
	h.mu.Lock()
	defer h.mu.Unlock()
	return h.waiting
}

// waitFor polls cond for up to 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(2 * time.Millisecond)
	}
}

// A bulk run sends the next requests while earlier tokens are still being
// written (the run costs the slower of network and store, not their sum),
// and still calls a token done, in its progress and its journal, only once
// its write has returned. Stopping the run then drops no issued token: the
// queued writes finish and every token the server issued is in the store.
func TestRotateAllSendsWhileWritesArePending(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	w.sb.Mattermost.SeedCommands(mattermostsim.TeamName, 30)
	before := len(w.issuedTokens("mattermost", "command"))
	held := &heldWrites{Backend: w.store.Inner, release: make(chan struct{})}
	w.store.Inner = held
	var releaseOnce sync.Once
	release := func() { releaseOnce.Do(func() { close(held.release) }) }
	t.Cleanup(release) // a failed wait must not leave the run blocked

	var mu sync.Mutex
	var done int
	type result struct {
		rep *account.BulkReport
		err error
	}
	out := make(chan result, 1)
	go func() {
		rep, err := w.mgr.RotateAll(ctx, "mm", account.BulkOptions{Kind: account.KindCommand, Parallel: 1,
			Progress: func(p account.BulkProgress) { mu.Lock(); done = p.Done; mu.Unlock() }})
		out <- result{rep, err}
	}()
	// One request at a time, and the first write held: the next requests
	// still go out.
	waitFor(t, "a third request while the first write is held", func() bool {
		return len(w.issuedTokens("mattermost", "command"))-before >= 3
	})
	waitFor(t, "the first write to be held", func() bool { return held.pending() >= 1 })
	mu.Lock()
	reported := done
	mu.Unlock()
	if reported != 0 {
		t.Errorf("progress reported %d tokens done while no write had returned", reported)
	}
	journals, _ := filepath.Glob(filepath.Join(filepath.Dir(w.cfg.Path), "journal", "*.jsonl"))
	for _, j := range journals {
		if b, _ := os.ReadFile(j); strings.Contains(string(b), `"event":"done"`) {
			t.Errorf("the journal calls a token done while no write had returned:\n%s", b)
		}
	}
	if n := len(w.mgr.InFlight()); n < 3 {
		t.Errorf("%d issuing requests in flight while 3 answers wait for the store; quitting must wait for them", n)
	}
	// Stopped now: what was issued is still stored.
	cancel()
	release()
	r := <-out
	if r.err != nil {
		t.Fatal(r.err)
	}
	issued := w.issuedTokens("mattermost", "command")[before:]
	byValue := map[string]bool{}
	for _, it := range r.rep.Items {
		if it.Status == account.BulkOK {
			byValue[w.stored(it.Name)] = true
		}
	}
	for _, tok := range issued {
		if !byValue[tok] {
			t.Errorf("the server issued a token (…%s) that no ok item holds in the store", tok[len(tok)-4:])
		}
	}
	if len(issued) < 3 || r.rep.OK != len(issued) {
		t.Errorf("%d tokens issued, %d ok: %+v", len(issued), r.rep.OK, r.rep)
	}
	if len(w.mgr.InFlight()) != 0 {
		t.Errorf("requests still in flight after the run: %+v", w.mgr.InFlight())
	}
}

// countingTransport records the most regen requests it had on their way at
// once.
type countingTransport struct {
	mu        sync.Mutex
	now, most int
}

func (c *countingTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	regen := strings.HasSuffix(req.URL.Path, "/regen_token")
	if regen {
		c.mu.Lock()
		c.now++
		c.most = max(c.most, c.now)
		c.mu.Unlock()
		defer func() { c.mu.Lock(); c.now--; c.mu.Unlock() }()
	}
	return http.DefaultTransport.RoundTrip(req)
}

// slowWrites is a store whose every write takes a while.
type slowWrites struct{ keystore.Backend }

func (s slowWrites) Set(ctx context.Context, name, value string) error {
	time.Sleep(15 * time.Millisecond)
	return s.Backend.Set(ctx, name, value)
}

// While answered tokens queue for a slow store, Parallel still bounds the
// requests on their way.
func TestRotateAllKeepsParallelWhileWritesQueue(t *testing.T) {
	w := newWorld(t)
	w.mattermostSignedIn()
	w.sb.Mattermost.SeedCommands(mattermostsim.TeamName, 24)
	w.sb.Env.Faults.SetLatency(5 * time.Millisecond)
	w.store.Inner = slowWrites{w.store.Inner}
	tr := &countingTransport{}
	mgr := account.New(w.cfg, keystore.NewVault(w.store, w.cfg), account.Options{Timeout: 5 * time.Second, Transport: tr})
	rep, err := mgr.RotateAll(context.Background(), "mm", account.BulkOptions{Kind: account.KindCommand, Parallel: 2})
	if err != nil || !rep.AllOK() || rep.OK < 24 {
		t.Fatalf("RotateAll: %v, %+v", err, rep)
	}
	if tr.most != 2 {
		t.Errorf("at most %d regen requests were on their way at once, want Parallel (2)", tr.most)
	}
}
