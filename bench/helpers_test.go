package bench

import (
	"os"
	"strconv"
	"syscall"
	"testing"
	"time"

	"keyturn/bench/internal/report"
)

// envInt reads a size from the environment.
func envInt(tb testing.TB, name string, def int) int {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		return def
	}
	n, err := strconv.Atoi(v)
	if err != nil || n <= 0 {
		tb.Fatalf("%s=%q: want a positive number", name, v)
	}
	return n
}

// alternate runs a and b rounds times each, swapping which goes first every
// round, and returns their durations.
func alternate(rounds int, a, b func() time.Duration) (as, bs []time.Duration) {
	for i := 0; i < rounds; i++ {
		if i%2 == 0 {
			as = append(as, a())
			bs = append(bs, b())
		} else {
			bs = append(bs, b())
			as = append(as, a())
		}
	}
	return as, bs
}

func median(ds []time.Duration) float64 { return report.Median(report.Durations(ds)) }

// emit reports the rows as benchmark metrics and appends them to the rows
// file bench/run reads.
func emit(b *testing.B, key string, rows ...report.Row) {
	b.Helper()
	for i, r := range rows {
		if i == 0 || r.Op != report.AtLeast {
			b.ReportMetric(r.Keyturn, key+"-keyturn-"+r.Unit)
			b.ReportMetric(r.Baseline, key+"-baseline-"+r.Unit)
		}
		b.ReportMetric(r.Ratio(), key+"-ratio"+strconv.Itoa(i))
		b.Logf("%s: keyturn %s, baseline %s, ratio %.2f (%s)", r.Metric,
			report.FormatValue(r.Keyturn, r.Unit), report.FormatValue(r.Baseline, r.Unit), r.Ratio(), r.Verdict())
	}
	if err := report.AppendEnv(rows...); err != nil {
		b.Fatal(err)
	}
}

// cpuTime is the user and system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// rounded is ds to the millisecond, for logs.
func rounded(ds []time.Duration) []time.Duration {
	out := make([]time.Duration, len(ds))
	for i, d := range ds {
		out[i] = d.Round(time.Millisecond)
	}
	return out
}

// rotate runs every fn rounds times, starting each round one further along
// the list, so that each meets the machine's load in every position; it
// returns each fn's durations.
func rotate(rounds int, fns ...func() time.Duration) [][]time.Duration {
	out := make([][]time.Duration, len(fns))
	for r := 0; r < rounds; r++ {
		for k := range fns {
			i := (r + k) % len(fns)
			out[i] = append(out[i], fns[i]())
		}
	}
	return out
}
