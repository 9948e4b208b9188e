#!/usr/bin/env bash
# Lifecycle benchmark (issue 4): request -> applied latency for create/scale/restart, and a resync of 10,000
# clusters in 1,000 tenants (time, Kubernetes requests when nothing changed, memory). Prints figures.
# BENCH_OPS, BENCH_CLUSTERS and BENCH_TENANTS change the sizes.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
ensure_postgres
export SQLX_OFFLINE=true RUST_LOG=${RUST_LOG:-warn}
cargo run --release --locked --example bench_lifecycle
