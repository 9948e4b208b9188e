#!/usr/bin/env bash
# Run every test of the portal. Makes sure a PostgreSQL is reachable (starts the project-local one when
# DATABASE_URL is not set), installs what browser and API-fuzz tests need when missing, and builds from the
# committed `.sqlx/` query data (no database needed at compile time). Each database test gets its own fresh
# database (sqlx::test creates and drops it).
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
ensure_postgres
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
