// Command runner measures bench/run's process-level pairs and prints its
// table. Each measuring command runs the two programs alternately, takes
// the median of each and appends one row to the rows file:
//
//	runner startup -rows F -n 30 KEYTURN HELLO
//	runner frame   -rows F -n 15 -kmarker TEXT -bmarker TEXT KEYTURN MINIMAL
//	runner memory  -rows F -n 5  -kmarker TEXT -bmarker TEXT KEYTURN MINIMAL
//	               [-kargs ARGS] [-metric NAME] [-op info]
//	runner error   -rows F METRIC MESSAGE
//	runner table   -rows F [-strict] [-header LINE]... [-o FILE]
//
// frame and memory run `KEYTURN demo` (or KEYTURN with -kargs) and MINIMAL
// in a 120×40 pseudo-terminal; the first frame is the moment all of a
// program's markers have appeared in what it drew (escape sequences and
// whitespace ignored). -metric and -op replace the row's name and target,
// for rows that explain another rather than hold a target of their own.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/creack/pty"

	"keyturn/bench/internal/report"
)

func main() {
	if len(os.Args) < 2 {
		fmt.Fprintln(os.Stderr, "usage: runner startup|frame|memory|error|table [flags] ...")
		os.Exit(2)
	}
	var err error
	switch cmd, args := os.Args[1], os.Args[2:]; cmd {
	case "startup":
		err = startup(args)
	case "frame", "memory":
		err = terminalPair(cmd, args)
	case "error":
		err = errorRow(args)
	case "table":
		var failed bool
		failed, err = table(args)
		if err == nil && failed {
			os.Exit(1)
		}
	default:
		err = fmt.Errorf("unknown command %q", cmd)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "runner:", err)
		os.Exit(1)
	}
}

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ", ") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

// sandboxEnv is the environment the measured programs get: a throw-away
// home, config and TMPDIR, so nothing of the person's own is read or
// written, and what a killed `keyturn demo` leaves behind goes with the
// scratch directory. The scratch directory is made in the caller's TMPDIR,
// so the programs meet the same file system as without it.
func sandboxEnv() ([]string, string, error) {
	dir, err := os.MkdirTemp("", "keyturn-bench-home-")
	if err != nil {
		return nil, "", err
	}
	if err := os.Mkdir(filepath.Join(dir, "tmp"), 0o700); err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	env := []string{
		"TMPDIR=" + filepath.Join(dir, "tmp"),
		"PATH=" + os.Getenv("PATH"),
		"HOME=" + dir,
		"XDG_CONFIG_HOME=" + filepath.Join(dir, "config"),
		"XDG_DATA_HOME=" + filepath.Join(dir, "data"),
		"XDG_CACHE_HOME=" + filepath.Join(dir, "cache"),
		"KEYTURN_CONFIG=" + filepath.Join(dir, "keyturn.json"),
		"TERM=xterm-256color",
		"LANG=C.UTF-8",
	}
	return env, dir, nil
}

// startup times exec→exit of `KEYTURN version` against HELLO.
func startup(args []string) error {
	fs := flag.NewFlagSet("startup", flag.ExitOnError)
	rows := fs.String("rows", "", "rows file")
	n := fs.Int("n", 30, "runs of each")
	_ = fs.Parse(args)
	if fs.NArg() != 2 {
		return errors.New("startup: want KEYTURN HELLO")
	}
	env, dir, err := sandboxEnv()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	progs := [2][]string{{abs(fs.Arg(0)), "version"}, {abs(fs.Arg(1))}}
	run := func(argv []string) (time.Duration, error) {
		c := exec.Command(argv[0], argv[1:]...)
		c.Env, c.Dir = env, dir
		var stderr strings.Builder
		c.Stderr = &stderr
		t0 := time.Now()
		err := c.Run()
		d := time.Since(t0)
		if err != nil {
			return 0, fmt.Errorf("%s: %v: %s", strings.Join(argv, " "), err, strings.TrimSpace(stderr.String()))
		}
		return d, nil
	}
	var times [2][]time.Duration
	// One warm-up each (page cache), then alternate, swapping the order
	// every round so neither always runs second.
	for i := -1; i < *n; i++ {
		for k := 0; k < 2; k++ {
			p := k
			if i%2 == 1 {
				p = 1 - k
			}
			d, err := run(progs[p])
			if err != nil {
				return err
			}
			if i >= 0 {
				times[p] = append(times[p], d)
			}
		}
	}
	return report.Append(*rows, report.Row{
		Metric: fmt.Sprintf("start-up: version vs hello (n=%d)", *n), Unit: report.Seconds,
		Keyturn: report.Median(report.Durations(times[0])), Baseline: report.Median(report.Durations(times[1])),
		Op: report.AtMost, Target: 3,
	})
}

// terminalPair measures `KEYTURN demo` against MINIMAL in a pseudo-terminal:
// "frame" the time from exec to the first complete frame, "memory" the peak
// RSS after the first frame and a second of idling.
func terminalPair(what string, args []string) error {
	fs := flag.NewFlagSet(what, flag.ExitOnError)
	rows := fs.String("rows", "", "rows file")
	n := fs.Int("n", 10, "runs of each")
	var kmarkers, bmarkers multi
	fs.Var(&kmarkers, "kmarker", "text keyturn's first complete frame shows (repeatable; all must appear)")
	fs.Var(&bmarkers, "bmarker", "text the baseline's first frame shows (repeatable)")
	idle := fs.Duration("idle", time.Second, "memory: idle time after the first frame")
	timeout := fs.Duration("timeout", 15*time.Second, "give up on a run after this long")
	kargs := fs.String("kargs", "demo", "KEYTURN's arguments, separated by spaces")
	metric := fs.String("metric", "", "the row's name (default: the pair's usual name)")
	op := fs.String("op", report.AtMost, "the target's comparison: le, or info for no target")
	target := fs.Float64("target", 2, "the target for the ratio")
	_ = fs.Parse(args)
	if fs.NArg() != 2 || len(kmarkers) == 0 || len(bmarkers) == 0 {
		return fmt.Errorf("%s: want -kmarker, -bmarker, KEYTURN and MINIMAL", what)
	}
	env, dir, err := sandboxEnv()
	if err != nil {
		return err
	}
	defer os.RemoveAll(dir)
	progs := [2][]string{append([]string{abs(fs.Arg(0))}, strings.Fields(*kargs)...), {abs(fs.Arg(1))}}
	markers := [2][]string{kmarkers, bmarkers}
	wait := time.Duration(0)
	if what == "memory" {
		wait = *idle
	}
	var vals [2][]float64
	for i := -1; i < *n; i++ {
		for k := 0; k < 2; k++ {
			p := k
			if i%2 == 1 {
				p = 1 - k
			}
			res, err := probe(progs[p], env, dir, markers[p], wait, *timeout)
			if err != nil {
				return err
			}
			if i < 0 {
				continue
			}
			if what == "frame" {
				vals[p] = append(vals[p], res.frame.Seconds())
			} else {
				vals[p] = append(vals[p], float64(res.hwm))
			}
		}
	}
	row := report.Row{
		Metric: fmt.Sprintf("first frame: demo vs minimal tea (pty 120×40, n=%d)", *n), Unit: report.Seconds,
		Keyturn: report.Median(vals[0]), Baseline: report.Median(vals[1]), Op: *op, Target: *target,
	}
	if what == "memory" {
		row.Metric = fmt.Sprintf("peak RSS: demo idle vs minimal tea (n=%d)", *n)
		row.Unit = report.Bytes
	}
	if *metric != "" {
		row.Metric = fmt.Sprintf("%s (n=%d)", *metric, *n)
	}
	if *op == report.Info {
		row.Target = 0
	}
	return report.Append(*rows, row)
}

// abs makes a program path absolute: the programs run in a scratch directory.
func abs(p string) string {
	if a, err := filepath.Abs(p); err == nil {
		return a
	}
	return p
}

type probeResult struct {
	frame time.Duration
	hwm   int64 // VmHWM in bytes
}

// probe starts argv in a 120×40 pty, answers its terminal queries, and
// waits until every marker has been drawn; then (after idle) reads its
// peak RSS and kills it.
func probe(argv, env []string, dir string, markers []string, idle, timeout time.Duration) (probeResult, error) {
	var res probeResult
	c := exec.Command(argv[0], argv[1:]...)
	c.Env, c.Dir = env, dir
	want := make([]string, len(markers))
	for i, m := range markers {
		want[i] = squash(m)
	}

	t0 := time.Now()
	f, err := pty.StartWithSize(c, &pty.Winsize{Rows: 40, Cols: 120})
	if err != nil {
		return res, fmt.Errorf("%s: %w", strings.Join(argv, " "), err)
	}
	exited := make(chan error, 1)
	go func() { exited <- c.Wait() }()

	var (
		mu    sync.Mutex
		scr   screen
		found = make(chan time.Duration, 1)
		ended = make(chan struct{})
	)
	go func() {
		defer close(ended)
		buf := make([]byte, 64<<10)
		seen := false
		for {
			nr, err := f.Read(buf)
			if nr > 0 {
				mu.Lock()
				scr.write(buf[:nr])
				if scr.replies.Len() > 0 {
					_, _ = f.Write(scr.replies.Bytes())
					scr.replies.Reset()
				}
				if !seen && containsAll(scr.text.String(), want) {
					seen = true
					found <- time.Since(t0)
				}
				mu.Unlock()
			}
			if err != nil {
				return
			}
		}
	}()
	stop := func() {
		_ = c.Process.Kill()
		<-exited
		_ = f.Close()
		<-ended
	}
	tail := func() string {
		mu.Lock()
		defer mu.Unlock()
		t := scr.text.String()
		if len(t) > 400 {
			t = "…" + t[len(t)-400:]
		}
		return t
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	select {
	case res.frame = <-found:
	case err := <-exited:
		select { // the last output, then the pty reports EIO
		case <-ended:
		case <-time.After(time.Second):
		}
		_ = f.Close()
		<-ended
		return res, fmt.Errorf("%s exited (%v) before drawing %q; it drew (whitespace removed): %s", strings.Join(argv, " "), err, markers, tail())
	case <-ctx.Done():
		defer stop()
		return res, fmt.Errorf("%s did not draw %q within %s; it drew (whitespace removed): %s", strings.Join(argv, " "), markers, timeout, tail())
	}
	if idle > 0 {
		time.Sleep(idle)
		hwm, err := peakRSS(c.Process.Pid)
		if err != nil {
			stop()
			return res, err
		}
		res.hwm = hwm
	}
	stop()
	return res, nil
}

func containsAll(text string, want []string) bool {
	for _, w := range want {
		if !strings.Contains(text, w) {
			return false
		}
	}
	return true
}

// peakRSS is VmHWM of a process, in bytes.
func peakRSS(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for _, line := range strings.Split(string(b), "\n") {
		if rest, ok := strings.CutPrefix(line, "VmHWM:"); ok {
			f := strings.Fields(rest)
			if len(f) == 2 && f[1] == "kB" {
				kb, err := strconv.ParseInt(f[0], 10, 64)
				return kb << 10, err
			}
		}
	}
	return 0, fmt.Errorf("no VmHWM in /proc/%d/status", pid)
}

func errorRow(args []string) error {
	fs := flag.NewFlagSet("error", flag.ExitOnError)
	rows := fs.String("rows", "", "rows file")
	op := fs.String("op", report.AtMost, "the target's comparison")
	target := fs.Float64("target", 0, "the target")
	_ = fs.Parse(args)
	if fs.NArg() != 2 {
		return errors.New("error: want METRIC MESSAGE")
	}
	return report.Append(*rows, report.Row{Metric: fs.Arg(0), Op: *op, Target: *target, Err: fs.Arg(1)})
}

// table prints the rows; failed reports a missed target or an error row
// when -strict is set, and an error row otherwise.
func table(args []string) (failed bool, err error) {
	fs := flag.NewFlagSet("table", flag.ExitOnError)
	rows := fs.String("rows", "", "rows file")
	strict := fs.Bool("strict", false, "exit 1 when a target is missed")
	out := fs.String("o", "", "also write the table to this file")
	var header multi
	fs.Var(&header, "header", "a header line (repeatable)")
	_ = fs.Parse(args)
	rs, err := report.Read(*rows)
	if err != nil {
		return false, err
	}
	t := report.Table(header, rs)
	fmt.Print(t)
	if *out != "" {
		if err := os.WriteFile(*out, []byte(t), 0o644); err != nil {
			return false, err
		}
	}
	for _, r := range rs {
		switch r.Verdict() {
		case "ERROR":
			failed = true
		case "FAIL":
			failed = failed || *strict
		}
	}
	return failed, nil
}
