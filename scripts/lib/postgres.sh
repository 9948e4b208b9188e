# shellcheck shell=bash
# Sourced by scripts/run.sh and scripts/test.sh: make sure a PostgreSQL is reachable and export DATABASE_URL.
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

# Create database $1 on the server of DATABASE_URL when it does not exist; print its URL.
ensure_database() {
  local name=$1 base
  base=${DATABASE_URL%/*}
  if ! psql "$DATABASE_URL" -tAc "SELECT 1 FROM pg_database WHERE datname = '$name'" | grep -q 1; then
    psql "$DATABASE_URL" -qc "CREATE DATABASE \"$name\"" >/dev/null
  fi
  echo "$base/$name"
}
