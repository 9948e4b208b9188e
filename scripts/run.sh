#!/usr/bin/env bash
# Run the portal at http://127.0.0.1:8080 on a fresh Debian machine with Rust.
# Starts a project-local PostgreSQL when DATABASE_URL is not set (installing the OS packages if missing),
# uses the built-in simulated Kubernetes when no kubeconfig is found, migrates, creates the first platform
# admin on the first start and prints how to log in. Running it again reuses the same data.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
if [ -z "${DATABASE_URL:-}" ]; then
  ensure_postgres
  DATABASE_URL=$(ensure_database esaas)
  export DATABASE_URL
  # The project-local server has no password: the URL is safe to print, and the CLI needs it.
  echo "DATABASE_URL=$DATABASE_URL  (export it to run esaas admin ... against this portal's database)" >&2
fi
export ESAAS_LISTEN=${ESAAS_LISTEN:-127.0.0.1:8080}
# With the simulated Kubernetes, also serve its API for kubectl (ignored with a real cluster).
export ESAAS_SIM_LISTEN=${ESAAS_SIM_LISTEN-127.0.0.1:8081}
# Keep indexing into every simulated Elasticsearch, so its dashboards are alive (ignored with a real cluster).
export ESAAS_SIM_ES_DEMO=${ESAAS_SIM_ES_DEMO-1}
export SQLX_OFFLINE=true
cargo build --release --locked --bin esaas
./target/release/esaas admin bootstrap
exec ./target/release/esaas serve
