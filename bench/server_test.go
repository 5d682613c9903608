package bench

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"keyturn/sandbox"
	"keyturn/sandbox/mattermostsim"
)

// The benchmarks' servers run in a process of their own, as a real server
// does. In this process, the sandbox's heap (10,000 commands, their JSON
// answers) was keyturn's too: its garbage collector marked them, its peak
// RSS held them, and a 10,000-token run paid for a server it does not
// have. Now what is measured of time and memory is keyturn's alone, and the
// floors (bare requests) meet the same server the same way.

// serveEnv makes the test binary a server instead of running benchmarks:
// its value is how many slash commands to seed.
const serveEnv = "KEYTURN_BENCH_SERVE"

func TestMain(m *testing.M) {
	if n := os.Getenv(serveEnv); n != "" {
		os.Exit(serve(n, os.Stdin, os.Stdout))
	}
	os.Exit(m.Run())
}

// serverHello is the first line a server writes.
type serverHello struct {
	MattermostURL string `json:"mattermost_url"`
	Seeded        int    `json:"seeded"`
}

// serve runs the sandbox with commands slash commands in Mattermost's team,
// says where on out, then takes one command per line on in ("latency MS",
// answered "ok") until in closes.
func serve(commands string, in io.Reader, out io.Writer) int {
	n, err := strconv.Atoi(commands)
	if err != nil || n < 0 {
		fmt.Fprintf(os.Stderr, "%s=%q: want a number of commands\n", serveEnv, commands)
		return 2
	}
	sb, err := sandbox.Start(sandbox.Options{})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer sb.Close()
	ids := sb.Mattermost.SeedCommands(mattermostsim.TeamName, n)
	hello, _ := json.Marshal(serverHello{MattermostURL: sb.MattermostURL, Seeded: len(ids)})
	fmt.Fprintf(out, "%s\n", hello)
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		ms, ok := strings.CutPrefix(sc.Text(), "latency ")
		v, err := strconv.Atoi(ms)
		if !ok || err != nil {
			fmt.Fprintf(out, "error: %q is no command\n", sc.Text())
			continue
		}
		sb.Env.Faults.SetLatency(time.Duration(v) * time.Millisecond)
		fmt.Fprintln(out, "ok")
	}
	return 0
}

// simServer is a server process started by startServer.
type simServer struct {
	tb  testing.TB
	URL string // Mattermost's
	in  io.WriteCloser
	out *bufio.Scanner
}

// startServer starts a server with n slash commands; it stops when the
// benchmark ends.
func startServer(tb testing.TB, n int) *simServer {
	tb.Helper()
	self, err := os.Executable()
	if err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command(self)
	cmd.Env = append(os.Environ(), serveEnv+"="+strconv.Itoa(n))
	cmd.Stderr = os.Stderr
	in, err := cmd.StdinPipe()
	if err != nil {
		tb.Fatal(err)
	}
	outPipe, err := cmd.StdoutPipe()
	if err != nil {
		tb.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		_ = in.Close() // the server's stdin ends: it stops
		if err := cmd.Wait(); err != nil {
			tb.Errorf("the server process: %v", err)
		}
	})
	s := &simServer{tb: tb, in: in, out: bufio.NewScanner(outPipe)}
	var hello serverHello
	if !s.out.Scan() || json.Unmarshal(s.out.Bytes(), &hello) != nil {
		tb.Fatalf("the server process did not say where it listens: %q %v", s.out.Text(), s.out.Err())
	}
	if hello.Seeded != n {
		tb.Fatalf("the server seeded %d commands, want %d", hello.Seeded, n)
	}
	s.URL = hello.MattermostURL
	return s
}

// setLatency makes the server answer every request d later.
func (s *simServer) setLatency(d time.Duration) {
	s.tb.Helper()
	if _, err := fmt.Fprintf(s.in, "latency %d\n", d.Milliseconds()); err != nil {
		s.tb.Fatal(err)
	}
	if !s.out.Scan() || s.out.Text() != "ok" {
		s.tb.Fatalf("the server did not take the latency: %q %v", s.out.Text(), s.out.Err())
	}
}
