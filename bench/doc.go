// Package bench holds keyturn's benchmarks against their floors. The Go
// benchmarks here (bulk rotation against a bare net/http loop, keyring
// writes through keystore against raw go-keyring) run many alternating
// rounds inside one call and report medians; bench/run calls them with
// -benchtime 1x next to its process-level pairs (start-up, first frame,
// memory) and prints one table of ratios.
//
//	bench/run            # full sizes; exit 1 if a target is missed
//	bench/run --quick    # small sizes (CI); a missed target is reported, not fatal
//
// Sizes come from the environment (bench/run sets them):
// KEYTURN_BENCH_COMMANDS, KEYTURN_BENCH_ROUNDS, KEYTURN_BENCH_P1_ROUNDS,
// KEYTURN_BENCH_SECRETS, KEYTURN_BENCH_SECRET_NAMES, KEYTURN_BENCH_STORE_ROUNDS.
// With KEYTURN_BENCH_ROWS set, each benchmark appends its rows to that file
// for the table. No test here asserts on time.
package bench
