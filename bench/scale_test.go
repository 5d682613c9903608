package bench

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"strconv"
	"strings"
	"testing"
	"time"

	tea "charm.land/bubbletea/v2"
	"github.com/charmbracelet/colorprofile"
	"github.com/charmbracelet/x/ansi"

	"keyturn/account"
	"keyturn/bench/internal/report"
	"keyturn/config"
	"keyturn/keystore"
	"keyturn/tui"
)

// BenchmarkScale holds keyturn's costs to the work: one account with
// KEYTURN_BENCH_SCALE slash commands (10,000) against one with
// KEYTURN_BENCH_SCALE_SMALL (1,000), in sandboxes without latency, each
// with its own encrypted file store. Per size, alternating: listing the
// tokens (what `token list` and the account screen ask), rotating them all
// at Parallel 4, listing the index with the store checked (`secret list`),
// the TUI's account screen from Enter to the first frame that shows the
// tokens, and its frame time (Update and View) while scrolling. Each row's
// ratio is large / small, held to 11× the 10× more work: linear, with room
// for noise. And the growth of this process's peak RSS over its idle RSS
// during each large rotation (the median), against 30 MiB: the servers run in processes
// of their own (startServer), so it is keyturn's growth alone; the bare
// requests' growth (floorRotate) is logged beside it.
//
//	go test -run '^$' -bench Scale -benchtime 1x -timeout 30m ./bench
func BenchmarkScale(b *testing.B) {
	large := envInt(b, "KEYTURN_BENCH_SCALE", 10000)
	small := envInt(b, "KEYTURN_BENCH_SCALE_SMALL", 1000)
	rounds := envInt(b, "KEYTURN_BENCH_SCALE_ROUNDS", 3)
	sizes := []*scaleEnv{newScaleEnv(b, "small", small), newScaleEnv(b, "large", large)}

	const (
		list = iota
		rotate
		secrets
		frame
		scroll
		nMetrics
	)
	var ds [2][nMetrics][]time.Duration
	var growth []int64 // per round, rotating the large account
	var floorGrowth int64
	b.ResetTimer()
	for _, e := range sizes { // warm-up: connections, the store and the index at full size
		e.rotate()
	}
	for r := 0; r < rounds; r++ {
		for k := range sizes {
			i := (r + k) % len(sizes)
			e := sizes[i]
			// Each measurement starts from a collected heap, as a command
			// does in its own process: not paying for the last one's garbage.
			runtime.GC()
			ds[i][list] = append(ds[i][list], e.list())
			runtime.GC()
			if i == 1 {
				growth = append(growth, peakGrowth(b, func() { ds[i][rotate] = append(ds[i][rotate], e.rotate()) }))
				if r == 0 {
					runtime.GC()
					floorGrowth = peakGrowth(b, e.floor)
				}
			} else {
				ds[i][rotate] = append(ds[i][rotate], e.rotate())
			}
			runtime.GC()
			ds[i][secrets] = append(ds[i][secrets], e.secretList())
			runtime.GC()
			f, s := e.screen()
			ds[i][frame] = append(ds[i][frame], f)
			ds[i][scroll] = append(ds[i][scroll], s)
		}
	}
	b.StopTimer()
	names := [nMetrics]string{"token list", "bulk rotation into the file store, P4", "secret list (store checked, file store)",
		"TUI account screen: Enter to the first frame with the tokens", "TUI account screen: frame while scrolling (median)"}
	var rows []report.Row
	for m := range nMetrics {
		b.Logf("%s: %d %v; %d %v", names[m], large, rounded(ds[1][m]), small, rounded(ds[0][m]))
		rows = append(rows, report.Row{Metric: fmt.Sprintf("scale: %s, %d vs %d tokens (n=%d)", names[m], sizes[1].n, sizes[0].n, rounds),
			Unit: report.Seconds, Keyturn: median(ds[1][m]), Baseline: median(ds[0][m]), Op: report.AtMost, Target: 11})
	}
	mibs := make([]float64, len(growth))
	for k, g := range growth {
		mibs[k] = float64(g)
	}
	b.Logf("peak RSS growth over idle: rotating %d tokens %.1f MiB (median of %v); the bare requests for them %.1f MiB",
		sizes[1].n, report.Median(mibs)/(1<<20), growth, float64(floorGrowth)/(1<<20))
	rows = append(rows, report.Row{Metric: fmt.Sprintf("scale: peak RSS growth over idle rotating %d tokens vs 30 MiB (n=%d)", sizes[1].n, rounds),
		Unit: report.Bytes, Keyturn: report.Median(mibs), Baseline: 30 << 20, Op: report.AtMost, Target: 1})
	emit(b, "scale", rows...)
}

// scaleEnv is one account of n slash commands, signed in, over a file store.
type scaleEnv struct {
	b     *testing.B
	n     int
	url   string
	token string
	ids   []string
	acct  string
	mgr   *account.Manager
	vault *keystore.Vault
	last  string // the label of the last command, to know the list is on screen
}

func newScaleEnv(b *testing.B, name string, n int) *scaleEnv {
	sb := startServer(b, n)
	dir := b.TempDir()
	cf := config.Open(filepath.Join(dir, "config.json"))
	pass := func() ([]byte, error) { return []byte("bench passphrase"), nil }
	vault := keystore.NewVault(keystore.NewFile(filepath.Join(dir, "secrets.keyturn"), pass), cf)
	e := &scaleEnv{b: b, acct: "scale-" + name, vault: vault, url: sb.URL}
	e.mgr, e.token, e.ids = bulkAccount(b, sb.URL, cf, vault, e.acct, n)
	e.n = len(e.ids)
	toks, err := e.mgr.Tokens(context.Background(), e.acct, account.ListFilter{})
	if err != nil {
		b.Fatal(err)
	}
	e.last = toks[0].Label
	return e
}

func (e *scaleEnv) list() time.Duration {
	t0 := time.Now()
	toks, err := e.mgr.Tokens(context.Background(), e.acct, account.ListFilter{})
	d := time.Since(t0)
	if err != nil || len(toks) < e.n {
		e.b.Fatalf("token list: %d tokens, %v", len(toks), err)
	}
	return d
}

func (e *scaleEnv) rotate() time.Duration {
	t0 := time.Now()
	rep, err := e.mgr.RotateAll(context.Background(), e.acct, account.BulkOptions{Kind: account.KindCommand, Parallel: 4})
	d := time.Since(t0)
	if err != nil || !rep.AllOK() || rep.OK != e.n {
		e.b.Fatalf("RotateAll: ok %d failed %d unknown %d of %d: %v", rep.OK, rep.Failed, rep.Unknown, e.n, err)
	}
	return d
}

// floor sends the rotation's requests bare (floorRotate, 4 at a time).
func (e *scaleEnv) floor() {
	got, err := floorRotate(context.Background(), e.url, e.token, e.ids, 4)
	if err != nil || len(got) != len(e.ids) {
		e.b.Fatalf("floor: %d tokens for %d commands: %v", len(got), len(e.ids), err)
	}
}

// peakGrowth is how far this process's peak RSS rises over its RSS while
// fn runs.
func peakGrowth(tb testing.TB, fn func()) int64 {
	debug.FreeOSMemory() // what earlier rounds left mapped is not idle use
	idle := rss(tb, "VmRSS")
	resetPeakRSS(tb)
	fn()
	return rss(tb, "VmHWM") - idle
}

func (e *scaleEnv) secretList() time.Duration {
	t0 := time.Now()
	l, err := e.vault.List(context.Background(), true)
	d := time.Since(t0)
	if err != nil || len(l) < e.n {
		e.b.Fatalf("secret list: %d entries, %v", len(l), err)
	}
	for _, it := range l {
		if it.Missing {
			e.b.Fatalf("secret list: %s missing", it.Name)
		}
	}
	return d
}

// screen opens the account in the TUI (120×40) and returns the time from
// Enter to the first frame showing its tokens, and the median frame time
// of 100 presses of ↓ through the list.
func (e *scaleEnv) screen() (first, scroll time.Duration) {
	dark, prof := true, colorprofile.TrueColor
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	d := &teaDriver{b: e.b, m: tui.New(ctx, tui.Options{Manager: e.mgr, Width: 120, Height: 40, Dark: &dark, Profile: &prof}), msgs: make(chan tea.Msg, 64)}
	d.run(d.m.Init())
	d.until("scale-", 20*time.Second) // the accounts list
	t0 := time.Now()
	d.key(tea.KeyPressMsg{Code: tea.KeyEnter})
	d.until(e.last, 60*time.Second)
	first = time.Since(t0)
	var frames []time.Duration
	for range 100 {
		t0 := time.Now()
		d.key(tea.KeyPressMsg{Code: tea.KeyDown})
		_ = d.m.View()
		frames = append(frames, time.Since(t0))
	}
	return first, time.Duration(median(frames) * float64(time.Second))
}

// teaDriver runs a Bubble Tea model as the runtime would (commands in
// goroutines, their messages back into Update) without a terminal.
type teaDriver struct {
	b    *testing.B
	m    tea.Model
	msgs chan tea.Msg
}

func (d *teaDriver) run(cmd tea.Cmd) {
	if cmd == nil {
		return
	}
	go func() {
		if msg := cmd(); msg != nil {
			d.msgs <- msg
		}
	}()
}

func (d *teaDriver) deliver(msg tea.Msg) {
	if batch, ok := msg.(tea.BatchMsg); ok {
		for _, c := range batch {
			d.run(c)
		}
		return
	}
	_, cmd := d.m.Update(msg)
	d.run(cmd)
}

func (d *teaDriver) key(k tea.KeyPressMsg) { d.deliver(k) }

// until delivers messages, drawing a frame after each as the runtime
// would, until a frame shows want.
func (d *teaDriver) until(want string, timeout time.Duration) {
	deadline := time.After(timeout)
	for !strings.Contains(ansi.Strip(d.m.View().Content), want) {
		select {
		case msg := <-d.msgs:
			d.deliver(msg)
		case <-deadline:
			d.b.Fatalf("the screen never showed %q:\n%s", want, ansi.Strip(d.m.View().Content))
		}
	}
}

// rss reads a field of /proc/self/status in bytes.
func rss(tb testing.TB, field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), field+":"); ok {
			kb, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
			if err != nil {
				tb.Fatal(err)
			}
			return kb << 10
		}
	}
	tb.Fatalf("no %s in /proc/self/status", field)
	return 0
}

// resetPeakRSS makes VmHWM start again from the current RSS.
func resetPeakRSS(tb testing.TB) {
	if err := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0); err != nil {
		tb.Fatal(err)
	}
}
