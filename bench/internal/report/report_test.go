package report

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestRowsRoundTripAndVerdicts(t *testing.T) {
	path := filepath.Join(t.TempDir(), "rows.tsv")
	in := []Row{
		{Metric: "start-up", Unit: Seconds, Keyturn: 0.006, Baseline: 0.002, Op: AtMost, Target: 3},
		{Metric: "speed-up", Unit: Seconds, Keyturn: 10, Baseline: 2, Op: AtLeast, Target: 6},
		{Metric: "memory", Unit: Bytes, Keyturn: 16 << 20, Baseline: 7 << 20, Op: AtMost, Target: 2},
		{Metric: "put", Unit: Seconds, Keyturn: 2, Baseline: 1, Op: Info},
		{Metric: "store", Op: AtMost, Target: 1.2, Err: "no Secret Service:\tnone\non the bus"},
	}
	if err := Append(path, in[:2]...); err != nil {
		t.Fatal(err)
	}
	if err := Append(path, in[2:]...); err != nil {
		t.Fatal(err)
	}
	rows, err := Read(path)
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"ok", "FAIL", "FAIL", "info", "ERROR"}
	if len(rows) != len(want) {
		t.Fatalf("read %d rows", len(rows))
	}
	for i, r := range rows {
		if r.Verdict() != want[i] {
			t.Errorf("%s: verdict %s, want %s", r.Metric, r.Verdict(), want[i])
		}
	}
	table := Table([]string{"header"}, rows)
	for _, s := range []string{"header", "6.0 ms", "3.00×", "≥ 6×", "16.0 MiB", "ERROR store: no Secret Service: none on the bus"} {
		if !strings.Contains(table, s) {
			t.Errorf("table lacks %q:\n%s", s, table)
		}
	}
}

func TestMedian(t *testing.T) {
	if m := Median([]float64{5, 1, 3}); m != 3 {
		t.Errorf("odd: %v", m)
	}
	if m := Median([]float64{4, 1, 3, 2}); m != 2.5 {
		t.Errorf("even: %v", m)
	}
	if Median(nil) != 0 {
		t.Error("empty")
	}
}
