// Package report collects the rows of bench/run's table: each measurement
// appends one tab-separated line to a rows file, and the runner's "table"
// command prints them with ratios and verdicts.
package report

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Comparisons a row's target can make.
const (
	AtMost  = "le"   // ratio = keyturn / baseline ≤ target
	AtLeast = "ge"   // ratio = keyturn / baseline ≥ target (a speed-up)
	Info    = "info" // no target: shown for information
)

// Units the values are in.
const (
	Seconds = "s"
	Bytes   = "B"
)

// Row is one line of the table: two medians and the target their ratio
// must meet. Err, when set, says the pair failed to run.
type Row struct {
	Metric   string
	Unit     string
	Keyturn  float64
	Baseline float64
	Op       string
	Target   float64
	Err      string
}

// Ratio is Keyturn / Baseline.
func (r Row) Ratio() float64 {
	if r.Baseline == 0 {
		return math.Inf(1)
	}
	return r.Keyturn / r.Baseline
}

// Verdict is "ok", "FAIL", "info" or "ERROR".
func (r Row) Verdict() string {
	switch {
	case r.Err != "":
		return "ERROR"
	case r.Op == Info:
		return "info"
	case r.Op == AtMost && r.Ratio() <= r.Target, r.Op == AtLeast && r.Ratio() >= r.Target:
		return "ok"
	}
	return "FAIL"
}

func clean(s string) string {
	return strings.NewReplacer("\t", " ", "\n", " ", "\r", " ").Replace(s)
}

// Append adds rows to the rows file at path (created if needed).
func Append(path string, rows ...Row) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	for _, r := range rows {
		_, err = fmt.Fprintf(f, "%s\t%s\t%g\t%g\t%s\t%g\t%s\n", clean(r.Metric), r.Unit, r.Keyturn, r.Baseline, r.Op, r.Target, clean(r.Err))
		if err != nil {
			break
		}
	}
	return errors.Join(err, f.Close())
}

// AppendEnv appends to the file named by KEYTURN_BENCH_ROWS, if set.
func AppendEnv(rows ...Row) error {
	if p := os.Getenv("KEYTURN_BENCH_ROWS"); p != "" {
		return Append(p, rows...)
	}
	return nil
}

// Read reads a rows file.
func Read(path string) ([]Row, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var rows []Row
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		if strings.TrimSpace(sc.Text()) == "" {
			continue
		}
		p := strings.Split(sc.Text(), "\t")
		if len(p) != 7 {
			return nil, fmt.Errorf("%s:%d: want 7 fields, got %d", path, n, len(p))
		}
		num := func(s string) float64 { v, _ := strconv.ParseFloat(s, 64); return v }
		rows = append(rows, Row{Metric: p[0], Unit: p[1], Keyturn: num(p[2]), Baseline: num(p[3]), Op: p[4], Target: num(p[5]), Err: p[6]})
	}
	return rows, sc.Err()
}

// Median of xs (xs is sorted in place); 0 for none.
func Median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	sort.Float64s(xs)
	m := len(xs) / 2
	if len(xs)%2 == 1 {
		return xs[m]
	}
	return (xs[m-1] + xs[m]) / 2
}

// Durations turns durations into seconds.
func Durations(ds []time.Duration) []float64 {
	out := make([]float64, len(ds))
	for i, d := range ds {
		out[i] = d.Seconds()
	}
	return out
}

// FormatValue shows a value in its unit at a readable scale.
func FormatValue(v float64, unit string) string {
	switch unit {
	case Seconds:
		switch {
		case v >= 1:
			return fmt.Sprintf("%.2f s", v)
		case v >= 1e-3:
			return fmt.Sprintf("%.1f ms", v*1e3)
		default:
			return fmt.Sprintf("%.0f µs", v*1e6)
		}
	case Bytes:
		return fmt.Sprintf("%.1f MiB", v/(1<<20))
	}
	return strconv.FormatFloat(v, 'g', 4, 64) + " " + unit
}

func formatTarget(r Row) string {
	switch r.Op {
	case AtMost:
		return "≤ " + strconv.FormatFloat(r.Target, 'f', -1, 64) + "×"
	case AtLeast:
		return "≥ " + strconv.FormatFloat(r.Target, 'f', -1, 64) + "×"
	}
	return "—"
}

// Table renders the rows under the header lines, aligned.
func Table(header []string, rows []Row) string {
	cells := [][]string{{"metric", "keyturn", "baseline", "ratio", "target", "verdict"}}
	var errs []string
	for _, r := range rows {
		if r.Err != "" {
			cells = append(cells, []string{r.Metric, "—", "—", "—", formatTarget(r), r.Verdict()})
			errs = append(errs, r.Metric+": "+r.Err)
			continue
		}
		cells = append(cells, []string{r.Metric, FormatValue(r.Keyturn, r.Unit), FormatValue(r.Baseline, r.Unit),
			fmt.Sprintf("%.2f×", r.Ratio()), formatTarget(r), r.Verdict()})
	}
	width := make([]int, len(cells[0]))
	for _, row := range cells {
		for i, c := range row {
			width[i] = max(width[i], len([]rune(c)))
		}
	}
	var b strings.Builder
	for _, h := range header {
		b.WriteString(h + "\n")
	}
	b.WriteString("\n")
	for n, row := range cells {
		for i, c := range row {
			pad := width[i] - len([]rune(c))
			switch {
			case i == len(row)-1:
				b.WriteString(c)
			case i == 0:
				b.WriteString(c + strings.Repeat(" ", pad) + "  ")
			default: // numbers right-aligned
				b.WriteString(strings.Repeat(" ", pad) + c + "  ")
			}
		}
		b.WriteString("\n")
		if n == 0 {
			total := 0
			for _, w := range width {
				total += w + 2
			}
			b.WriteString(strings.Repeat("-", total-2) + "\n")
		}
	}
	for _, e := range errs {
		b.WriteString("ERROR " + e + "\n")
	}
	return b.String()
}
