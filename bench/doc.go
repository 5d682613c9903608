// Package bench holds keyturn's benchmarks against their floors. The Go
// benchmarks here run many alternating rounds inside one call and report
// medians; bench/run calls them with -benchtime 1x next to its
// process-level pairs (start-up, first frame, memory) and prints one table
// of ratios:
//
//   - BenchmarkBulkRotation: bulk rotation at 10 ms against a bare net/http
//     loop, and P1 against P8;
//
//   - BenchmarkBulkFile, BenchmarkBulkKeyring: bulk rotation at real-server
//     latencies (0 and 1 ms) into the encrypted file store and the keyring,
//     against the bare requests alone and the store's own writes alone,
//     measured in the same rounds;
//
//   - BenchmarkStore: keyring writes through keystore against raw go-keyring;
//
//   - BenchmarkScale: 10,000 tokens against 1,000 (token list, bulk
//     rotation, secret list, the TUI's account screen) and the peak RSS a
//     rotation of 10,000 adds.
//
//     bench/run            # full sizes; exit 1 if a target is missed
//     bench/run --quick    # small sizes (CI); a missed target is reported, not fatal
//
// Sizes come from the environment (bench/run sets them):
// KEYTURN_BENCH_COMMANDS, KEYTURN_BENCH_ROUNDS, KEYTURN_BENCH_P1_ROUNDS,
// KEYTURN_BENCH_LATENCIES (ms, comma-separated), KEYTURN_BENCH_SECRETS,
// KEYTURN_BENCH_SECRET_NAMES, KEYTURN_BENCH_STORE_ROUNDS,
// KEYTURN_BENCH_SCALE, KEYTURN_BENCH_SCALE_SMALL, KEYTURN_BENCH_SCALE_ROUNDS.
// With KEYTURN_BENCH_ROWS set, each benchmark appends its rows to that file
// for the table. No test here asserts on time.
package bench
