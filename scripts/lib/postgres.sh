# shellcheck shell=bash
# Sourced by scripts/run.sh, scripts/sqlx-prepare.sh and scripts/test.sh: make sure a PostgreSQL is reachable
# and export DATABASE_URL (`ensure_postgres`, the kept project-local server; `start_run_postgres`, a throwaway
# server for one test run).
#
# - When DATABASE_URL is set, it is used as it is (and must be reachable).
# - Otherwise a project-local PostgreSQL is used: data in .esaas/pgdata (kept across runs), listening on
#   127.0.0.1:${ESAAS_PG_PORT:-54329}, trust authentication on loopback only. The OS packages are installed
#   when missing (Debian: apt-get install postgresql). Running this again reuses the same data.

esaas_pg_root() { cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd; }

esaas_find_pg_bin() {
  local d
  for d in $(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V -r); do
    if [ -x "$d/initdb" ] && [ -x "$d/pg_ctl" ]; then echo "$d"; return 0; fi
  done
  command -v initdb >/dev/null 2>&1 && dirname "$(command -v initdb)" && return 0
  return 1
}

esaas_as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

esaas_install_postgres() {
  echo "PostgreSQL server binaries not found: installing the OS packages (postgresql)..." >&2
  esaas_as_root env DEBIAN_FRONTEND=noninteractive apt-get update -qq
  esaas_as_root env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql postgresql-client >/dev/null
}

# Run a PostgreSQL server command as the owner of the data directory (initdb refuses to run as root).
esaas_pg_run() {
  if [ "$(id -u)" = 0 ]; then
    runuser -u postgres -- "$@"
  else
    "$@"
  fi
}

ensure_postgres() {
  if [ -n "${DATABASE_URL:-}" ]; then
    echo "Using DATABASE_URL from the environment." >&2
    return 0
  fi
  local root port bin data sock
  root=$(esaas_pg_root)
  port=${ESAAS_PG_PORT:-54329}
  # A server already answering on the port (this project's, started by another checkout) is reused.
  if command -v psql >/dev/null 2>&1 &&
    psql "postgres://postgres@127.0.0.1:$port/postgres" -qtAc 'SELECT 1' >/dev/null 2>&1; then
    export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
    return 0
  fi
  data="$root/.esaas/pgdata"
  sock="$root/.esaas/pgsock"
  bin=$(esaas_find_pg_bin) || { esaas_install_postgres; bin=$(esaas_find_pg_bin); } || {
    echo "could not find or install PostgreSQL" >&2; return 1; }
  mkdir -p "$root/.esaas" "$sock"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    chown postgres "$root/.esaas" "$sock"
    chmod o+x "$root" 2>/dev/null || true
  fi
  if [ ! -f "$data/PG_VERSION" ]; then
    echo "Creating a project-local PostgreSQL in $data ..." >&2
    esaas_pg_run "$bin/initdb" -D "$data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  fi
  if ! esaas_pg_run "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    esaas_pg_run "$bin/pg_ctl" -D "$data" -l "$root/.esaas/postgres.log" -w -t 60 \
      -o "-p $port -k $sock -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c full_page_writes=off" \
      start >/dev/null
    echo "Started PostgreSQL on 127.0.0.1:$port (data: $data, log: .esaas/postgres.log)" >&2
  fi
  export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
}

# A PostgreSQL server of this run only (scripts/test.sh): a fresh data directory under .esaas/test-runs/ and a
# free loopback port (ESAAS_TEST_PG_PORT to choose one), stopped and deleted when the calling shell exits.
# sqlx's test support names each test's database after the test's path and drops stale ones when a test binary
# starts, so two runs sharing a server would drop each other's databases; a server per run cannot.
# Exports DATABASE_URL.
start_run_postgres() {
  local root bin dir port attempt
  root=$(esaas_pg_root)
  bin=$(esaas_find_pg_bin) || { esaas_install_postgres; bin=$(esaas_find_pg_bin); } || {
    echo "could not find or install PostgreSQL" >&2; return 1; }
  mkdir -p "$root/.esaas/test-runs"
  dir=$(mktemp -d "$root/.esaas/test-runs/run-XXXXXX")
  mkdir -p "$dir/sock"
  if [ "$(id -u)" = 0 ]; then
    id postgres >/dev/null 2>&1 || useradd --system --home-dir /var/lib/postgresql --shell /bin/bash postgres
    chown postgres "$root/.esaas" "$root/.esaas/test-runs"
    chown -R postgres "$dir"
    chmod o+x "$root" 2>/dev/null || true
  fi
  ESAAS_RUN_PG_DIR=$dir
  ESAAS_RUN_PG_BIN=$bin
  trap stop_run_postgres EXIT
  esaas_pg_run "$bin/initdb" -D "$dir/data" -U postgres --auth=trust --encoding=UTF8 --locale=C.UTF-8 >/dev/null
  for attempt in 1 2 3 4 5; do
    port=${ESAAS_TEST_PG_PORT:-$((20000 + RANDOM % 30000))}
    if (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      [ -n "${ESAAS_TEST_PG_PORT:-}" ] && { echo "port $port is taken" >&2; return 1; }
      continue
    fi
    if esaas_pg_run "$bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 60 \
      -o "-p $port -k $dir/sock -c listen_addresses=127.0.0.1 -c max_connections=300 -c fsync=off -c full_page_writes=off" \
      start >/dev/null; then
      export DATABASE_URL="postgres://postgres@127.0.0.1:$port/postgres"
      echo "Started this run's PostgreSQL on 127.0.0.1:$port (data: $dir, removed at exit)" >&2
      return 0
    fi
    [ -n "${ESAAS_TEST_PG_PORT:-}" ] && break
  done
  echo "could not start this run's PostgreSQL (log: $dir/postgres.log)" >&2
  return 1
}

stop_run_postgres() {
  [ -n "${ESAAS_RUN_PG_DIR:-}" ] || return 0
  esaas_pg_run "$ESAAS_RUN_PG_BIN/pg_ctl" -D "$ESAAS_RUN_PG_DIR/data" -m immediate stop >/dev/null 2>&1 || true
  rm -rf "$ESAAS_RUN_PG_DIR"
  ESAAS_RUN_PG_DIR=
}

# Create database $1 on the server of DATABASE_URL when it does not exist; print its URL.
ensure_database() {
  local name=$1 base
  base=${DATABASE_URL%/*}
  if ! psql "$DATABASE_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
    psql "$DATABASE_URL" -qc "CREATE DATABASE \"$name\"" >/dev/null
  fi
  echo "$base/$name"
}
