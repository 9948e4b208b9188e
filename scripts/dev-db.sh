#!/usr/bin/env bash
# Developer helper: (re)create the `esaas_build` database that sqlx's query macros check against while you
# edit SQL, and write `.env` so the macros find it and save their offline data into `.sqlx/`.
# CI and `scripts/test.sh` never use this: they build with SQLX_OFFLINE=true from the committed `.sqlx/`.
set -euo pipefail
cd "$(dirname "$0")/.."
url_base=${ESAAS_DEV_PG:-postgres://postgres@127.0.0.1:5432}
psql "$url_base/postgres" -qc "DROP DATABASE IF EXISTS esaas_build WITH (FORCE)" -c "CREATE DATABASE esaas_build"
for f in migrations/*.sql; do psql "$url_base/esaas_build" -q -v ON_ERROR_STOP=1 -f "$f"; done
cat > .env <<ENV
DATABASE_URL=$url_base/esaas_build
SQLX_OFFLINE_DIR=$PWD/.sqlx
ENV
echo "esaas_build is at the schema of $(ls migrations | tail -1)"
