#!/usr/bin/env bash
# Run every test of the portal (arguments go to `cargo test`, e.g. `--test api partial_changes`). Unless
# DATABASE_URL is set, the run gets a PostgreSQL server of its own (a fresh data directory and a free port,
# deleted at exit), so overlapping runs, from this checkout or another, cannot drop each other's test
# databases. With DATABASE_URL set that server is used as it is: give each concurrent run its own server.
# Installs what the kubectl, browser and API-fuzz tests need when missing, and builds from the committed `.sqlx/` query
# data (no database needed at compile time). Each database test gets its own fresh database (sqlx::test
# creates and drops it). Tests take every setting from the `Config` they build, never from the environment or
# a `.env` file; sqlx's test support does read a `.env` (through dotenvy, not optional in sqlx 0.9), but only
# for DATABASE_URL, which this script always sets first.
#
# No test may skip itself here: ESAAS_TEST_NO_SKIP=1 turns a missing prerequisite (kubectl, chromedriver, the
# ECK CRDs) into a failure, and a test marked #[ignore] fails the run. The last line is the total over every
# test binary, `total: N passed, N failed, N skipped` (the cargo output is also kept in target/test-run.log).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
if [ -n "${DATABASE_URL:-}" ]; then
  echo "Using DATABASE_URL from the environment." >&2
else
  start_run_postgres
fi
for extra in scripts/lib/ensure-*.sh; do
  [ -f "$extra" ] && bash "$extra"
done
export SQLX_OFFLINE=true
export RUST_BACKTRACE=${RUST_BACKTRACE:-1}
export ESAAS_TEST_NO_SKIP=1
log="${CARGO_TARGET_DIR:-target}/test-run.log"
mkdir -p "$(dirname "$log")"
status=0
cargo test --locked --lib --bins --tests "$@" 2>&1 | tee "$log" || status=$?
if [ "$status" = 0 ]; then
  for check in scripts/checks/*.sh; do
    [ -f "$check" ] || continue
    echo "== $check"
    bash "$check" || { status=$?; break; }
  done
fi
# Sum cargo's per-binary lines: "test result: ok. 12 passed; 0 failed; 0 ignored; 0 measured; 3 filtered out; ...".
read -r binaries passed failed ignored filtered < <(awk '
  /^test result:/ {
    n++
    for (i = 1; i < NF; i++) if ($i ~ /^[0-9]+$/) {
      w = $(i + 1); sub(/;$/, "", w)
      if (w == "passed") p += $i; else if (w == "failed") f += $i; else if (w == "ignored") g += $i
      else if (w == "filtered") x += $i
    }
  }
  END { printf "%d %d %d %d %d\n", n, p, f, g, x }' "$log")
echo "== $binaries test binaries: $passed tests passed, $failed failed, $ignored ignored (skipped), $filtered filtered out by the arguments"
if [ "$ignored" != 0 ]; then
  echo "== $ignored tests are marked #[ignore]: every test must run" >&2
  [ "$status" != 0 ] || status=1
fi
if [ "$binaries" = 0 ] || [ "$passed" = 0 ]; then
  echo "== no test ran" >&2
  [ "$status" != 0 ] || status=1
fi
echo "total: $passed passed, $failed failed, $ignored skipped"
exit "$status"
