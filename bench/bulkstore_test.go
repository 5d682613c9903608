package bench

import (
	"context"
	"crypto/rand"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"keyturn/account"
	"keyturn/bench/internal/report"
	"keyturn/config"
	"keyturn/keystore"
)

// BenchmarkBulkFile rotates every slash-command token of a team in the
// sandbox at real-server latencies (KEYTURN_BENCH_LATENCIES, in ms: 0 and
// 1) with RotateAll at Parallel 4 into the encrypted file store, against
// two floors measured in the same rounds: the bare requests alone
// (floorRotate, 4 at a time) and the store's writes alone, one Set per
// token back to back on a file store of its own (each Set re-encrypts,
// fsyncs and renames the whole file: a write per token with the same
// cipher). The target is against the bare requests: group commit lets the
// file's writes hide behind the network.
//
//	go test -run '^$' -bench BulkFile -benchtime 1x ./bench
func BenchmarkBulkFile(b *testing.B) { benchBulkStore(b, keystore.KindFile) }

// BenchmarkBulkKeyring is BenchmarkBulkFile into the OS keyring (a Secret
// Service; bench/run starts gnome-keyring), the store floor being raw
// go-keyring Set calls, one per token back to back, over the same names.
// The target is against the larger floor: the run should cost the slower
// of the network and the keyring, not their sum.
//
//	keystore/with-keyring.sh go test -run '^$' -bench BulkKeyring -benchtime 1x ./bench
func BenchmarkBulkKeyring(b *testing.B) { benchBulkStore(b, keystore.KindKeyring) }

func benchBulkStore(b *testing.B, kind string) {
	n := envInt(b, "KEYTURN_BENCH_COMMANDS", 1000)
	rounds := envInt(b, "KEYTURN_BENCH_ROUNDS", 3)
	latencies := envLatencies(b, "KEYTURN_BENCH_LATENCIES", "0,1")
	const parallel = 4
	ctx := context.Background()
	dir := b.TempDir()

	var backend, floorStore keystore.Backend
	acct := fmt.Sprintf("bench-%s-%d", kind, os.Getpid())
	switch kind {
	case keystore.KindFile:
		pass := func() ([]byte, error) { return []byte("bench passphrase"), nil }
		backend = keystore.NewFile(filepath.Join(dir, "secrets.keyturn"), pass)
		floorStore = keystore.NewFile(filepath.Join(dir, "floor.keyturn"), pass)
	case keystore.KindKeyring:
		backend = keystore.NewKeyring(30 * time.Second)
		if err := backend.Set(ctx, acct+"/probe", "probe"); err != nil {
			if os.Getenv("KEYTURN_BENCH_REQUIRE_KEYRING") != "" {
				b.Fatalf("no usable Secret Service: %v", err)
			}
			b.Skipf("no usable Secret Service: %v", err)
		}
		_ = backend.Delete(ctx, acct+"/probe")
	}

	sb := startServer(b, n)
	cf := config.Open(filepath.Join(dir, "config.json"))
	vault := keystore.NewVault(backend, cf)
	mgr, token, ids := bulkAccount(b, sb.URL, cf, vault, acct, n)
	names := make([]string, len(ids))
	for i, id := range ids {
		names[i] = account.SecretName(acct, account.Ref{Kind: account.KindCommand, ID: id})
	}
	if kind == keystore.KindKeyring {
		b.Cleanup(func() {
			for _, name := range append(names, acct+"/credential") {
				_ = gokeyring.Delete(keystore.KeyringService, name)
			}
		})
	}

	// CPU time of this process (the server runs in its own) per run, for
	// the log: at 0 ms, what a run costs beyond its requests is CPU.
	var kcpu, rcpu []time.Duration
	keyturn := func() time.Duration {
		d, cpu := rotateAllOnce(b, mgr, acct, parallel, len(ids))
		kcpu = append(kcpu, cpu)
		return d
	}
	requests := func() time.Duration {
		c0, t0 := cpuTime(), time.Now()
		got, err := floorRotate(ctx, sb.URL, token, ids, parallel)
		d := time.Since(t0)
		rcpu = append(rcpu, cpuTime()-c0)
		if err != nil {
			b.Fatal(err)
		}
		if len(got) != len(ids) {
			b.Fatalf("floor: %d tokens for %d commands", len(got), len(ids))
		}
		return d
	}
	// writes stores one token-sized value per name, back to back: on the
	// floor's own file, or straight through go-keyring over the names the
	// run writes (the keyring's cost per write grows with its size).
	writes := func() time.Duration {
		vals := make([]string, len(names))
		for i := range vals {
			vals[i] = strings.ToLower(rand.Text())[:26]
		}
		t0 := time.Now()
		for i, name := range names {
			var err error
			if kind == keystore.KindKeyring {
				err = gokeyring.Set(keystore.KeyringService, name, vals[i])
			} else {
				err = floorStore.Set(ctx, name, vals[i])
			}
			if err != nil {
				b.Fatal(err)
			}
		}
		return time.Since(t0)
	}

	storeFloor := "sequential file writes"
	if kind == keystore.KindKeyring {
		storeFloor = "go-keyring Set"
	}
	b.ResetTimer()
	var rows []report.Row
	for _, lat := range latencies {
		sb.setLatency(lat)
		keyturn() // warm-up: connections, the store and the index at full size
		requests()
		writes()
		kcpu, rcpu = nil, nil
		ds := rotate(rounds, keyturn, requests, writes)
		k, req, st := median(ds[0]), median(ds[1]), median(ds[2])
		b.Logf("%s, %v: rounds keyturn %v; bare requests %v; %s %v", kind, lat, rounded(ds[0]), rounded(ds[1]), storeFloor, rounded(ds[2]))
		b.Logf("%s, %v: CPU per token, this process: keyturn %.0f µs, bare requests %.0f µs", kind, lat,
			median(kcpu)*1e6/float64(len(ids)), median(rcpu)*1e6/float64(len(ids)))
		at := fmt.Sprintf("%d ms, n=%d", lat.Milliseconds(), rounds)
		if kind == keystore.KindFile {
			rows = append(rows,
				report.Row{Metric: fmt.Sprintf("bulk rotation, file store: %d commands, P4 vs bare requests (%s)", len(ids), at),
					Unit: report.Seconds, Keyturn: k, Baseline: req, Op: report.AtMost, Target: 1.3},
				report.Row{Metric: fmt.Sprintf("bulk rotation, file store: %d commands, P4 vs %s (%s)", len(ids), storeFloor, at),
					Unit: report.Seconds, Keyturn: k, Baseline: st, Op: report.Info})
			continue
		}
		rows = append(rows,
			report.Row{Metric: fmt.Sprintf("bulk rotation, keyring: %d commands, P4 vs the larger floor (%s)", len(ids), at),
				Unit: report.Seconds, Keyturn: k, Baseline: max(req, st), Op: report.AtMost, Target: 1.15},
			report.Row{Metric: fmt.Sprintf("floors: %d %s vs %d bare requests, P4 (%s)", len(ids), storeFloor, len(ids), at),
				Unit: report.Seconds, Keyturn: st, Baseline: req, Op: report.Info})
	}
	b.StopTimer()
	emit(b, "bulk-"+kind, rows...)
}

// envLatencies reads a comma-separated list of milliseconds.
func envLatencies(tb testing.TB, name, def string) []time.Duration {
	tb.Helper()
	v := os.Getenv(name)
	if v == "" {
		v = def
	}
	var out []time.Duration
	for _, f := range strings.Split(v, ",") {
		ms, err := strconv.Atoi(strings.TrimSpace(f))
		if err != nil || ms < 0 {
			tb.Fatalf("%s=%q: want milliseconds, comma-separated", name, v)
		}
		out = append(out, time.Duration(ms)*time.Millisecond)
	}
	return out
}
