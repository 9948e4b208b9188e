#!/usr/bin/env bash
# Developer helper: refresh the committed `.sqlx/` offline query data after adding or changing a checked
# query (`query!`, `query_as!`, `query_scalar!`). Builds a scratch database at the newest migration on the
# PostgreSQL that scripts/lib/postgres.sh provides (the project-local one unless DATABASE_URL is set),
# removes the old query files and lets the macros write fresh ones for every target, so stale entries go.
# CI and scripts/test.sh never run this: they build with SQLX_OFFLINE=true from what is committed.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
ensure_postgres
base=${DATABASE_URL%/*}
psql "$base/postgres" -qc "DROP DATABASE IF EXISTS esaas_sqlx_prepare WITH (FORCE)" \
  -c "CREATE DATABASE esaas_sqlx_prepare" >/dev/null
for f in migrations/*.sql; do
  psql "$base/esaas_sqlx_prepare" -q -v ON_ERROR_STOP=1 -f "$f" >/dev/null
done
rm -f .sqlx/query-*.json
mkdir -p .sqlx
# Touch every crate root so the macros run again for the library, the binary, tests and examples.
touch src/lib.rs src/main.rs
find tests examples -name '*.rs' -exec touch {} +
DATABASE_URL="$base/esaas_sqlx_prepare" SQLX_OFFLINE=false SQLX_OFFLINE_DIR="$PWD/.sqlx" \
  cargo build --all-targets --quiet
echo ".sqlx/ now holds $(ls .sqlx | wc -l) queries"
