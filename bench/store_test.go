package bench

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	gokeyring "github.com/zalando/go-keyring"

	"keyturn/bench/internal/report"
	"keyturn/config"
	"keyturn/keystore"
)

// BenchmarkStore writes secrets to the Secret Service through keystore's
// keyring backend, with raw go-keyring calls, and through Vault.Put (the
// keyring plus the index in a config file, for information). The three are
// interleaved write by write, rotating which goes first, so each meets the
// same collection sizes and the same load from the rest of the machine; the
// time of each is the sum of its own calls.
//
// Each way cycles over its own few names (KEYTURN_BENCH_SECRET_NAMES, 20),
// as rotation overwrites a secret under its stable name: gnome-keyring's
// own cost per write grows with the size of the collection (it searches
// and rewrites the whole keyring file; about 0.1 ms per item on a 2-core
// VM), so thousands of distinct names would measure the daemon, not the
// calls. Names are distinct per run and deleted after each round.
//
// It needs a Secret Service on the session bus: bench/run starts one
// (dbus-run-session + gnome-keyring-daemon) when there is none. Without one
// the benchmark is skipped, unless KEYTURN_BENCH_REQUIRE_KEYRING=1.
//
//	keystore/with-keyring.sh go test -run '^$' -bench Store -benchtime 1x ./bench
func BenchmarkStore(b *testing.B) {
	n := envInt(b, "KEYTURN_BENCH_SECRETS", 1000)
	rounds := envInt(b, "KEYTURN_BENCH_STORE_ROUNDS", 5)
	pool := envInt(b, "KEYTURN_BENCH_SECRET_NAMES", 20)
	ctx := context.Background()
	kr := keystore.NewKeyring(30 * time.Second)
	service := keystore.KeyringService
	value := "bench-token-" + "0123456789abcdefghijklmn" // token-sized
	prefix := fmt.Sprintf("keyturn-bench-%d-%d", os.Getpid(), time.Now().UnixNano())

	probe := prefix + "/probe"
	if err := kr.Set(ctx, probe, value); err != nil {
		if os.Getenv("KEYTURN_BENCH_REQUIRE_KEYRING") != "" {
			b.Fatalf("no usable Secret Service: %v", err)
		}
		b.Skipf("no usable Secret Service: %v", err)
	}
	_ = gokeyring.Delete(service, probe)

	// Every name written is deleted, even when the benchmark fails.
	written := map[string]bool{}
	b.Cleanup(func() {
		for name := range written {
			_ = gokeyring.Delete(service, name)
		}
	})
	dir := b.TempDir()
	// round writes n names each way and returns the three sums.
	round := func(r, n int) (ks, raw, vault time.Duration) {
		cf := config.Open(filepath.Join(dir, fmt.Sprintf("config-%d.json", r)))
		v := keystore.NewVault(kr, cf)
		ways := []func(i int) time.Duration{
			func(i int) time.Duration {
				name := fmt.Sprintf("%s/keystore-%d/%d", prefix, r, i%pool)
				written[name] = true
				t0 := time.Now()
				if err := kr.Set(ctx, name, value); err != nil {
					b.Fatal(err)
				}
				return time.Since(t0)
			},
			func(i int) time.Duration {
				name := fmt.Sprintf("%s/raw-%d/%d", prefix, r, i%pool)
				written[name] = true
				t0 := time.Now()
				if err := gokeyring.Set(service, name, value); err != nil {
					b.Fatal(err)
				}
				return time.Since(t0)
			},
			func(i int) time.Duration {
				name := fmt.Sprintf("%s/vault-%d/%d", prefix, r, i%pool)
				written[name] = true
				meta := config.SecretMeta{Name: name, Account: prefix, Kind: "command", ID: fmt.Sprint(i)}
				t0 := time.Now()
				if err := v.Put(ctx, meta, value); err != nil {
					b.Fatal(err)
				}
				return time.Since(t0)
			},
		}
		var sums [3]time.Duration
		for i := 0; i < n; i++ {
			for j := range ways {
				w := (i + j) % len(ways)
				sums[w] += ways[w](i)
			}
		}
		for name := range written {
			if err := gokeyring.Delete(service, name); err != nil {
				b.Fatalf("deleting %s: %v", name, err)
			}
			delete(written, name)
		}
		_ = os.Remove(cf.Path)
		return sums[0], sums[1], sums[2]
	}

	b.ResetTimer()
	round(-1, min(n, 20)) // warm-up: the D-Bus connection, the daemon's caches
	var ks, rs, vs []time.Duration
	for r := 0; r < rounds; r++ {
		k, raw, v := round(r, n)
		ks, rs, vs = append(ks, k), append(rs, raw), append(vs, v)
	}
	b.StopTimer()
	b.Logf("rounds: keystore %v; go-keyring %v; Vault.Put %v", rounded(ks), rounded(rs), rounded(vs))

	emit(b, "store",
		report.Row{Metric: fmt.Sprintf("store: %d keyring writes over %d names, keystore vs go-keyring (n=%d)", n, pool, rounds),
			Unit: report.Seconds, Keyturn: median(ks), Baseline: median(rs), Op: report.AtMost, Target: 1.2},
		report.Row{Metric: fmt.Sprintf("store: %d Vault.Put (keyring + index) vs go-keyring (n=%d)", n, rounds),
			Unit: report.Seconds, Keyturn: median(vs), Baseline: median(rs), Op: report.Info},
	)
}
