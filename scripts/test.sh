#!/usr/bin/env bash
# Run every test of the portal (arguments go to `cargo test`, e.g. `--test api partial_changes`). Unless
# DATABASE_URL is set, the run gets a PostgreSQL server of its own (a fresh data directory and a free port,
# deleted at exit), so overlapping runs, from this checkout or another, cannot drop each other's test
# databases. With DATABASE_URL set that server is used as it is: give each concurrent run its own server.
# Installs what browser and API-fuzz tests need when missing, and builds from the committed `.sqlx/` query
# data (no database needed at compile time). Each database test gets its own fresh database (sqlx::test
# creates and drops it). Tests take every setting from the `Config` they build, never from the environment or
# a `.env` file; sqlx's test support does read a `.env` (through dotenvy, not optional in sqlx 0.9), but only
# for DATABASE_URL, which this script always sets first.
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
cargo test --locked --lib --bins --tests "$@"
for check in scripts/checks/*.sh; do
  [ -f "$check" ] || continue
  echo "== $check"
  bash "$check"
done
