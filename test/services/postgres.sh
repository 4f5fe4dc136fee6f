#!/usr/bin/env bash
# A throwaway PostgreSQL 15 on loopback for the tests (ours; see DEVELOPMENT.md).
#   postgres.sh start DIR   initdb + start in DIR, wait until it answers, print `export PROTODEPOT_TEST_PG_URL=…`
#   postgres.sh stop DIR    stop it and remove DIR
# Durability is off (fsync, synchronous_commit, full_page_writes): the data lives only as long as the test run.
set -euo pipefail

pg_bin=${PG_BIN:-/usr/lib/postgresql/15/bin}
cmd=${1:-}
dir=${2:-}
if [ -z "$cmd" ] || [ -z "$dir" ]; then
  echo "usage: $0 start|stop DIR" >&2
  exit 2
fi

# PostgreSQL refuses to run as root; as root we run it as the postgres user Debian's package creates.
as_db_user() {
  if [ "$(id -u)" = 0 ]; then
    setpriv --reuid=postgres --regid=postgres --init-groups -- "$@"
  else
    "$@"
  fi
}

free_port() {
  node -e 'const s=require("node:net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})'
}

case "$cmd" in
start)
  if [ ! -x "$pg_bin/initdb" ]; then
    echo "postgres.sh: $pg_bin/initdb not found: apt-get install postgresql (or set PG_BIN)" >&2
    exit 1
  fi
  mkdir -p "$dir"
  if [ "$(id -u)" = 0 ]; then chown postgres: "$dir"; fi
  as_db_user "$pg_bin/initdb" -D "$dir/data" -U postgres -A trust -E UTF8 --no-sync --no-instructions >"$dir/initdb.log" 2>&1 ||
    { cat "$dir/initdb.log" >&2; exit 1; }
  port=$(free_port)
  # -k DIR keeps the Unix socket inside DIR, so nothing outside it is touched; -w waits until it accepts connections.
  as_db_user "$pg_bin/pg_ctl" -D "$dir/data" -l "$dir/postgres.log" -w -t 30 \
    -o "-p $port -k $dir -c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=300" \
    start >/dev/null || { cat "$dir/postgres.log" >&2; exit 1; }
  echo "$port" >"$dir/port"
  echo "export PROTODEPOT_TEST_PG_URL=postgres://postgres@127.0.0.1:$port/postgres"
  ;;
stop)
  if [ -f "$dir/data/postmaster.pid" ]; then
    as_db_user "$pg_bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
  fi
  rm -rf "$dir"
  ;;
*)
  echo "usage: $0 start|stop DIR" >&2
  exit 2
  ;;
esac
