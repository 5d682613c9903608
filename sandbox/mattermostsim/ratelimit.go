package mattermostsim

import (
	"math"
	"net"
	"net/http"
	"strconv"
	"sync"
	"time"

	"keyturn/sandbox/simnet"
)

// limiter is the real server's rate limiter (throttled's GCRA, varying by
// remote address, with its arithmetic for the headers; a burst below 1 is
// taken as 1, since throttled would refuse everything): off by default; when on, every answer carries
// X-Ratelimit-Limit/-Remaining/-Reset (seconds), and a refusal is a plain
// text 429 "limit exceeded" with Retry-After and no request id.
type limiter struct {
	clock *simnet.Clock

	mu       sync.Mutex
	on       bool
	perSec   int
	maxBurst int
	tat      map[string]time.Time // theoretical arrival time per address
}

func (l *limiter) set(on bool, perSec, maxBurst int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if perSec <= 0 {
		on = false
	}
	l.on, l.perSec, l.maxBurst = on, perSec, max(maxBurst, 1)
	l.tat = map[string]time.Time{}
}

func ceilSeconds(d time.Duration) int { return int(math.Ceil(d.Seconds())) }

// allow applies the limit; when it refuses it has written the 429.
func (l *limiter) allow(w http.ResponseWriter, r *http.Request) bool {
	l.mu.Lock()
	if !l.on {
		l.mu.Unlock()
		return true
	}
	key, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		key = r.RemoteAddr
	}
	now := l.clock.Now()
	interval := time.Second / time.Duration(l.perSec)
	tolerance := interval * time.Duration(l.maxBurst)
	limit := l.maxBurst + 1
	tat, ok := l.tat[key]
	if !ok {
		tat = now
	}
	newTAT := tat.Add(interval)
	if now.After(tat) {
		newTAT = now.Add(interval)
	}
	var ttl, retry time.Duration
	limited := false
	if diff := now.Sub(newTAT.Add(-tolerance)); diff < 0 {
		retry = -diff
		ttl = tat.Sub(now)
		limited = true
	} else {
		ttl = newTAT.Sub(now)
		l.tat[key] = newTAT
	}
	remaining := 0
	if next := tolerance - ttl; next > -interval {
		remaining = int(next / interval)
	}
	reset := ttl
	l.mu.Unlock()

	h := w.Header()
	h.Set("X-Ratelimit-Limit", strconv.Itoa(limit))
	h.Set("X-Ratelimit-Remaining", strconv.Itoa(remaining))
	h.Set("X-Ratelimit-Reset", strconv.Itoa(ceilSeconds(reset)))
	if !limited {
		return true
	}
	h.Set("Retry-After", strconv.Itoa(ceilSeconds(retry)))
	http.Error(w, "limit exceeded", http.StatusTooManyRequests)
	return false
}
