#!/usr/bin/env bash
# Benchmark the REST API on loopback against a release build: GET one cluster, list clusters, and create
# clusters (simulated Kubernetes), each with a bearer token at 64 connections. Prints requests/s, p50 and
# p99 latency (wrk), and the portal's CPU use and resident memory during each run (from /proc).
#
#   scripts/bench-api.sh                     # DATABASE_URL: a server where a database may be created
#   BENCH_SECS=30 BENCH_CONNECTIONS=64 scripts/bench-api.sh
#   ESAAS_BIN=target/release/esaas scripts/bench-api.sh   # skip the build
#   ESAAS_API_READ_CACHE_MS=0 scripts/bench-api.sh         # the uncached read path (default: 250 ms cache)
#   BENCH_DB_SSLMODE=require scripts/bench-api.sh          # force TLS to the database (sets `sslmode`)
#
# A database on this machine whose DATABASE_URL names no `sslmode` is reached without TLS (`esaas::db::
# connect_options`); the figures below marked "TLS as before" were taken before that default, when sqlx
# preferred TLS and a server with `ssl = on` (Debian's default) encrypted even loopback traffic: about a
# quarter of the portal's CPU per uncached read went to rustls then (see the profile in the issue 11 note).
#
# Measured on the 2-core dev VM (wrk, portal and Postgres share the cores; other builds ran beside, so
# +-20 %), 15 s runs, 41 clusters in the tenant:
#   before issue 11.6, cache off: GET one 4,181 req/s p50 14.3 p99 39.5 ms; list 954 req/s p99 129 ms
#   before, cache on:             GET one 22,122 req/s p50 2.6 p99 18.9 ms
#   after, cache off:             GET one 6,619 req/s p50 9.2 p99 23.0 ms; list 1,374 req/s p50 40 ms
#   after, cache off, no TLS:     GET one 7,719 req/s p50 7.8 p99 19.9 ms; list 1,518 req/s p50 39 ms
#   after, cache on:              GET one 20,760 req/s p50 2.5 ms (same as before within the noise)
#
# Starts the project-local PostgreSQL when DATABASE_URL is not set, creates a fresh database (dropped at the
# end), runs the portal with the per-token rate limit off (ESAAS_API_RATE_LIMIT=off: one token sends
# everything), and stops it at the end. Installs wrk (Debian package) when missing.
set -euo pipefail
cd "$(dirname "$0")/.."
source scripts/lib/postgres.sh
ensure_postgres

secs=${BENCH_SECS:-20}
conns=${BENCH_CONNECTIONS:-64}
threads=${BENCH_THREADS:-2}
target_dir=${CARGO_TARGET_DIR:-target}

if ! command -v wrk >/dev/null 2>&1; then
  echo "installing wrk..." >&2
  esaas_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq wrk >/dev/null
fi

if [ -n "${ESAAS_BIN:-}" ]; then
  bin=$ESAAS_BIN # a binary built already (release profile expected)
else
  SQLX_OFFLINE=true cargo build --quiet --release --locked --bin esaas
  bin="$target_dir/release/esaas"
fi

server_url=$DATABASE_URL
db="esaas_bench_$$"
psql "$server_url" -qc "CREATE DATABASE \"$db\"" >/dev/null
export DATABASE_URL="${server_url%/*}/$db"
if [ -n "${BENCH_DB_SSLMODE:-}" ]; then
  case $DATABASE_URL in
    *\?*) DATABASE_URL="$DATABASE_URL&sslmode=$BENCH_DB_SSLMODE" ;;
    *) DATABASE_URL="$DATABASE_URL?sslmode=$BENCH_DB_SSLMODE" ;;
  esac
fi
port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
work=$(mktemp -d)
pid=""
cleanup() {
  if [ -n "$pid" ] && kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    wait "$pid" 2>/dev/null || true
  fi
  psql "$server_url" -qc "DROP DATABASE IF EXISTS \"$db\" WITH (FORCE)" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT INT TERM

ESAAS_LISTEN="127.0.0.1:$port" ESAAS_PUBLIC_URL="$base" ESAAS_KUBE=sim ESAAS_API_RATE_LIMIT=off \
  ESAAS_SIM_LISTEN= RUST_LOG=${RUST_LOG:-warn} "$bin" serve >"$work/portal.log" 2>&1 &
pid=$!
for _ in $(seq 1 150); do
  curl -fsS "$base/readyz" >/dev/null 2>&1 && break
  kill -0 "$pid" 2>/dev/null || { cat "$work/portal.log" >&2; exit 1; }
  sleep 0.2
done

printf 'bench-password-%s\n' "$RANDOM$RANDOM" |
  "$bin" admin create-user --email bench@example.com --password-stdin --platform-admin >/dev/null
token=$("$bin" admin create-token --email bench@example.com --name bench 2>/dev/null | tail -n 1)
auth="Authorization: Bearer $token"
json=(-H "$auth" -H 'Content-Type: application/json')
curl -fsS "${json[@]}" -d '{"slug": "acme", "name": "Acme", "owner_email": "bench@example.com"}' \
  "$base/api/v1/tenants" >/dev/null
curl -fsS "${json[@]}" -X PUT -d '{"max_clusters": 10000, "max_nodes": 100000, "max_cpu_millis": 1000000000,
  "max_memory_mib": 1000000000, "max_storage_gib": 1000000000}' "$base/api/v1/tenants/acme/quota" >/dev/null
for i in $(seq -w 1 40); do
  curl -fsS "${json[@]}" -d "{\"name\": \"seed-$i\", \"template\": \"single-node\"}" \
    "$base/api/v1/tenants/acme/clusters" >/dev/null
done
curl -fsS "${json[@]}" -d '{"name": "logs", "template": "three-nodes"}' "$base/api/v1/tenants/acme/clusters" >/dev/null
sleep 3 # let the simulated Kubernetes settle the seed clusters

cpu_ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
rss_mib() { awk '/VmRSS/ {printf "%.0f", $2 / 1024}' "/proc/$pid/status"; }
hz=$(getconf CLK_TCK)

cat >"$work/create.lua" <<'LUA'
-- POST a new cluster with a unique name per request (thread number + counter).
local threads = 0
function setup(thread)
  threads = threads + 1
  thread:set("tid", threads)
end
counter = 0
request = function()
  counter = counter + 1
  return wrk.format("POST", nil, nil,
    '{"name": "b' .. tid .. '-' .. counter .. '", "template": "single-node"}')
end
LUA
cat >"$work/report.lua" <<'LUA'
done = function(summary, latency, requests)
  local non2xx = summary.errors.status
  io.write(string.format("RESULT rps=%.0f p50_ms=%.2f p99_ms=%.2f requests=%d non2xx=%d socket_errors=%d\n",
    summary.requests / (summary.duration / 1e6), latency:percentile(50) / 1000, latency:percentile(99) / 1000,
    summary.requests, non2xx, summary.errors.connect + summary.errors.read + summary.errors.write
      + summary.errors.timeout))
end
LUA
cat "$work/create.lua" "$work/report.lua" >"$work/create-report.lua"

run() {
  local label=$1 url=$2 script=$3
  shift 3
  local t0 c0 t1 c1 out cpu
  t0=$(date +%s.%N); c0=$(cpu_ticks)
  out=$(wrk -t "$threads" -c "$conns" -d "${secs}s" --latency -s "$script" -H "$auth" "$@" "$url")
  t1=$(date +%s.%N); c1=$(cpu_ticks)
  cpu=$(awk -v a="$c0" -v b="$c1" -v s="$t0" -v e="$t1" -v hz="$hz" 'BEGIN {printf "%.0f", (b - a) / hz / (e - s) * 100}')
  echo "$out" | grep RESULT | sed "s/^RESULT/$label:/; s/\$/ portal_cpu=${cpu}% portal_rss_mib=$(rss_mib)/"
}

echo "== $(nproc) cores, $conns connections, $threads wrk threads, ${secs}s per run, portal $bin," \
  "read cache ${ESAAS_API_READ_CACHE_MS:-250} ms, database sslmode ${BENCH_DB_SSLMODE:-from DATABASE_URL}"
run "GET cluster  " "$base/api/v1/tenants/acme/clusters/logs" "$work/report.lua"
run "list clusters" "$base/api/v1/tenants/acme/clusters?limit=20" "$work/report.lua"
run "POST create  " "$base/api/v1/tenants/acme/clusters" "$work/create-report.lua" -H 'Content-Type: application/json'
clusters=$(psql "$DATABASE_URL" -tAc "SELECT count(*) FROM clusters")
echo "clusters in the database after the create run: $clusters"
