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
// remote address): off by default; when on, every answer carries
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
	l.on, l.perSec, l.maxBurst = on, perSec, max(maxBurst, 0)
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
	if !ok || now.After(tat) {
		tat = now
	}
	newTAT := tat.Add(interval)
	diff := now.Sub(newTAT.Add(-tolerance))
	var remaining int
	var reset, retry time.Duration
	limited := diff < 0
	if limited {
		retry = -diff
		reset = tat.Sub(now)
	} else {
		l.tat[key] = newTAT
		remaining = int(diff / interval)
		reset = newTAT.Sub(now)
	}
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
