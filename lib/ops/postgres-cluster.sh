#!/usr/bin/env bash
# A throwaway PostgreSQL cluster for tests:
#   bash lib/ops/postgres-cluster.sh <command> [args…]
# installs Debian's `postgresql` when missing (as root; otherwise prints what to
# install and fails), runs initdb in a temp directory, starts the server with
# pg_ctl on a free loopback port (as the unprivileged user `nobody` when run as
# root: the server refuses to run as root), creates a database, prints its URL,
# runs the command with DATABASE_URL and GANTRY_TEST_DATABASE_URL set to it
# (and GANTRY_TEST_PG_BIN to the server's bin directory),
# then stops the server and deletes the directory, also when the command fails
# or is interrupted. Exits with the command's status.
set -euo pipefail

if [[ $# -eq 0 ]]; then
  echo "usage: bash lib/ops/postgres-cluster.sh <command> [args…]" >&2
  exit 2
fi

pg_bindir() {
  local dir
  dir="$(ls -d /usr/lib/postgresql/*/bin 2> /dev/null | sort -V | tail -n 1 || true)"
  if [[ -n "$dir" && -x "$dir/initdb" ]]; then echo "$dir"; return 0; fi
  if command -v initdb > /dev/null 2>&1 && command -v pg_ctl > /dev/null 2>&1; then dirname "$(command -v initdb)"; return 0; fi
  return 1
}

if ! BIN="$(pg_bindir)"; then
  if [[ $(id -u) -eq 0 ]] && command -v apt-get > /dev/null; then
    echo "==> Installing Debian package: postgresql"
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq < /dev/null
    apt-get install -y -qq --no-install-recommends postgresql < /dev/null
    BIN="$(pg_bindir)"
  else
    echo "The PostgreSQL tests need a PostgreSQL server (initdb, pg_ctl)." >&2
    echo "Install it with: sudo apt-get install -y postgresql" >&2
    exit 1
  fi
fi

DIR="$(mktemp -d "${TMPDIR:-/tmp}/gantry-pg.XXXXXX")"
RUN=()
if [[ $(id -u) -eq 0 ]]; then
  # The server refuses to run as root.
  chown nobody "$DIR"
  RUN=(runuser -u nobody --)
fi

cleanup() {
  local status=$?
  if [[ -f "$DIR/data/postmaster.pid" ]]; then
    "${RUN[@]}" "$BIN/pg_ctl" -D "$DIR/data" -m immediate -w stop > /dev/null 2>&1 || true
  fi
  rm -rf "$DIR"
  exit $status
}
trap cleanup EXIT
trap 'exit 130' INT
trap 'exit 143' TERM

PORT="$(node -e 'const s=require("net").createServer().listen(0,"127.0.0.1",()=>{console.log(s.address().port);s.close()})')"
(cd "$DIR" && "${RUN[@]}" "$BIN/initdb" -D "$DIR/data" -U gantry --auth=trust -E UTF8 --no-locale > "$DIR/initdb.log" 2>&1) || {
  cat "$DIR/initdb.log" >&2
  exit 1
}
# Throwaway data: no durability needed.
(cd "$DIR" && "${RUN[@]}" "$BIN/pg_ctl" -D "$DIR/data" -l "$DIR/server.log" -w -t 60 \
  -o "-p $PORT -c listen_addresses=127.0.0.1 -k $DIR -c fsync=off -c synchronous_commit=off -c full_page_writes=off -c max_connections=200" \
  start > /dev/null) || {
  cat "$DIR/server.log" >&2
  exit 1
}
"$BIN/createdb" -h 127.0.0.1 -p "$PORT" -U gantry gantry

URL="postgresql://gantry@127.0.0.1:$PORT/gantry"
echo "==> Throwaway PostgreSQL $("$BIN/postgres" --version | awk '{print $3}'): $URL"
# GANTRY_TEST_PG_BIN: the server's tools (pg_dump), for tests that read the database whole.
export DATABASE_URL="$URL" GANTRY_TEST_DATABASE_URL="$URL" GANTRY_TEST_PG_BIN="$BIN"
"$@"
