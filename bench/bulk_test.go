package bench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"keyturn/account"
	"keyturn/bench/internal/report"
	"keyturn/config"
	"keyturn/keystore"
	"keyturn/sandbox/mattermostsim"
	"keyturn/sandbox/simnet"
)

// BenchmarkBulkRotation rotates every slash-command token of a team in the
// sandbox (10 ms latency on every request) with (*account.Manager).RotateAll
// at Parallel 8, alternating with the floor: a bare net/http loop sending
// the same PUT regen_token requests from 8 goroutines over one transport and
// keeping each token in a map. keyturn's time includes listing the tokens,
// its journal and storing each token (memory store, index in a config
// file); the floor is given the ids. Then RotateAll at Parallel 1, for the
// speed-up.
//
//	go test -run '^$' -bench BulkRotation -benchtime 1x ./bench
func BenchmarkBulkRotation(b *testing.B) {
	n := envInt(b, "KEYTURN_BENCH_COMMANDS", 1000)
	rounds := envInt(b, "KEYTURN_BENCH_ROUNDS", 5)
	p1rounds := envInt(b, "KEYTURN_BENCH_P1_ROUNDS", 3)
	const parallel = 8
	ctx := context.Background()

	sb := startServer(b, n)
	sb.setLatency(10 * time.Millisecond)

	cf := config.Open(filepath.Join(b.TempDir(), "config.json"))
	vault := keystore.NewVault(keystore.NewMemory(), cf)
	const acct = "bench-mm"
	mgr, token, ids := bulkAccount(b, sb.URL, cf, vault, acct, n)
	cred := struct{ Token string }{token}

	// CPU time of this process (the server runs in its own) per run, for
	// the log.
	var kcpu, fcpu []time.Duration
	keyturn := func(parallel int) func() time.Duration {
		return func() time.Duration {
			d, cpu := rotateAllOnce(b, mgr, acct, parallel, len(ids))
			if parallel == 8 {
				kcpu = append(kcpu, cpu)
			}
			return d
		}
	}
	floor := func() time.Duration {
		c0 := cpuTime()
		t0 := time.Now()
		got, err := floorRotate(ctx, sb.URL, cred.Token, ids, parallel)
		d := time.Since(t0)
		fcpu = append(fcpu, cpuTime()-c0)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != len(ids) {
			b.Fatalf("floor: %d tokens for %d commands", len(got), len(ids))
		}
		return d
	}

	b.ResetTimer()
	keyturn(parallel)() // warm-up: connections, the index at full size
	floor()
	k8, fl := alternate(rounds, keyturn(parallel), floor)
	var k1 []time.Duration
	for i := 0; i < p1rounds; i++ {
		k1 = append(k1, keyturn(1)())
	}
	b.StopTimer()
	b.Logf("rounds: keyturn P8 %v; floor %v; keyturn P1 %v", rounded(k8), rounded(fl), rounded(k1))
	b.Logf("CPU time per token, keyturn's process (the server runs in its own): keyturn P8 %.0f µs, floor %.0f µs",
		median(kcpu)/float64(len(ids))*1e6, median(fcpu)/float64(len(ids))*1e6)

	emit(b, "bulk",
		report.Row{Metric: fmt.Sprintf("bulk rotation: %d commands, P8 vs net/http floor (10 ms, n=%d)", len(ids), rounds),
			Unit: report.Seconds, Keyturn: median(k8), Baseline: median(fl), Op: report.AtMost, Target: 1.15},
		report.Row{Metric: fmt.Sprintf("bulk rotation speed-up: P1 / P8 (n=%d/%d)", p1rounds, rounds),
			Unit: report.Seconds, Keyturn: median(k1), Baseline: median(k8), Op: report.AtLeast, Target: 6},
	)
}

// floorRotate is the floor: the same requests from parallel goroutines over
// one transport, each token kept in a map under a mutex.
func floorRotate(ctx context.Context, baseURL, token string, ids []string, parallel int) (map[string]string, error) {
	tr := &http.Transport{MaxIdleConns: 64, MaxIdleConnsPerHost: 16, IdleConnTimeout: 90 * time.Second}
	defer tr.CloseIdleConnections()
	hc := &http.Client{Transport: tr, Timeout: 30 * time.Second}
	var (
		mu     sync.Mutex
		got    = make(map[string]string, len(ids))
		errs   []error
		wg     sync.WaitGroup
		work   = make(chan string)
		header = "Bearer " + token
	)
	for w := 0; w < parallel; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for id := range work {
				tok, err := regen(ctx, hc, baseURL+"/api/v4/commands/"+id+"/regen_token", header)
				mu.Lock()
				if err != nil {
					errs = append(errs, fmt.Errorf("%s: %w", id, err))
				} else {
					got[id] = tok
				}
				mu.Unlock()
			}
		}()
	}
	for _, id := range ids {
		work <- id
	}
	close(work)
	wg.Wait()
	return got, errors.Join(errs...)
}

func regen(ctx context.Context, hc *http.Client, url, auth string) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPut, url, nil)
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", auth)
	resp, err := hc.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		_, _ = io.Copy(io.Discard, resp.Body)
		return "", fmt.Errorf("status %d", resp.StatusCode)
	}
	var out struct {
		Token string `json:"token"`
	}
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		return "", err
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	if out.Token == "" {
		return "", errors.New("no token in the answer")
	}
	return out.Token, nil
}

// rotateAllOnce rotates every slash command of acct at parallel, failing
// the benchmark unless all want rotate, and returns the wall and CPU time
// it took.
func rotateAllOnce(b *testing.B, mgr *account.Manager, acct string, parallel, want int) (wall, cpu time.Duration) {
	b.Helper()
	c0, t0 := cpuTime(), time.Now()
	rep, err := mgr.RotateAll(context.Background(), acct, account.BulkOptions{Kind: account.KindCommand, Parallel: parallel})
	wall, cpu = time.Since(t0), cpuTime()-c0
	if err != nil {
		b.Fatal(err)
	}
	if !rep.AllOK() || rep.OK != want {
		b.Fatalf("RotateAll: ok %d failed %d unknown %d of %d", rep.OK, rep.Failed, rep.Unknown, want)
	}
	return wall, cpu
}

// bulkAccount signs a Mattermost admin account named acct in to the
// sandbox at url through a Manager over vault, and returns the Manager, the
// session token (for the floors' requests) and the ids of the team's slash
// commands, of which there must be at least n.
func bulkAccount(b *testing.B, url string, cf *config.File, vault *keystore.Vault, acct string, n int) (*account.Manager, string, []string) {
	b.Helper()
	ctx := context.Background()
	mgr := account.New(cf, vault, account.Options{Timeout: 30 * time.Second})
	if _, err := mgr.Add(ctx, config.Account{Name: acct, Service: account.Mattermost, URL: url, User: mattermostsim.AdminUsername}); err != nil {
		b.Fatal(err)
	}
	login := account.LoginRequest{Account: acct, Password: mattermostsim.AdminPassword}
	_, err := mgr.Login(ctx, login)
	var ch *account.Challenge
	if !errors.As(err, &ch) {
		b.Fatalf("login: want a second-factor challenge, got %v", err)
	}
	login.Answer = &account.Answer{Method: ch.Method, Code: simnet.TOTPCode(mattermostsim.AdminTOTPSecret, time.Now())}
	if _, err := mgr.Login(ctx, login); err != nil {
		b.Fatal(err)
	}
	raw, err := vault.Get(ctx, acct+"/credential")
	if err != nil {
		b.Fatal(err)
	}
	var cred struct {
		Token string `json:"token"`
	}
	if err := json.Unmarshal([]byte(raw), &cred); err != nil || cred.Token == "" {
		b.Fatalf("reading the session token: %v", err)
	}
	tokens, err := mgr.Tokens(ctx, acct, account.ListFilter{Kind: account.KindCommand})
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, len(tokens))
	for i, t := range tokens {
		ids[i] = t.Ref.ID
	}
	if len(ids) < n {
		b.Fatalf("listed %d commands, seeded %d", len(ids), n)
	}
	return mgr, cred.Token, ids
}
