#!/usr/bin/env bash
# A throw-away PostgreSQL 15 (Debian's `postgresql` package) for tests and benchmarks: a cluster in a
# folder of its own, on a loopback port, run by a non-root user (root cannot run postgres; CI runs as
# root, so the cluster then belongs to the `postgres` system user the package creates).
#
#   scripts/throwaway-postgres.sh start DIR PORT   initdb into DIR, start on 127.0.0.1:PORT, create
#                                                  database `lrj` and role `lrj` (trust on loopback);
#                                                  prints the URL postgres://lrj@127.0.0.1:PORT/lrj
#   scripts/throwaway-postgres.sh createdb DIR PORT NAME   a new empty database NAME owned by `lrj`
#   scripts/throwaway-postgres.sh dump DIR PORT NAME FILE      pg_dump of database NAME (plain SQL) into FILE
#   scripts/throwaway-postgres.sh restore DIR PORT NAME FILE   a new database NAME owned by `lrj`, FILE replayed
#                                                  into it; prints its URL
#   scripts/throwaway-postgres.sh stop DIR         stop it (the folder stays; remove it yourself)
#   scripts/throwaway-postgres.sh restart DIR PORT start a stopped one again
set -euo pipefail
# The server outlives this script: it must not inherit descriptors the caller waits on (a test
# harness waits until every copy of its pipe closes).
for fd in $(ls /proc/$$/fd); do
  if [ "$fd" -gt 2 ]; then eval "exec $fd>&-" 2>/dev/null || true; fi
done
bin=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -1)
[ -n "$bin" ] || { echo "error: PostgreSQL is not installed (apt-get install postgresql)" >&2; exit 1; }
as_owner() {
  if [ "$(id -u)" -eq 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi
}
serve() {
  as_owner "$bin/pg_ctl" -D "$1/data" -l "$1/server.log" -w -t 60 \
    -o "-p $2 -k $1 -c listen_addresses=127.0.0.1 -c fsync=off -c max_connections=100" start </dev/null >/dev/null 2>&1
}
case "${1:-}" in
  start)
    dir=$2; port=$3
    mkdir -p "$dir"
    [ "$(id -u)" -eq 0 ] && chown postgres:postgres "$dir" && chmod 700 "$dir"
    as_owner "$bin/initdb" -D "$dir/data" -A trust -U postgres --no-sync >"$dir/initdb.log" 2>&1
    serve "$dir" "$port"
    as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
      -c "CREATE ROLE lrj LOGIN" -c "CREATE DATABASE lrj OWNER lrj" >/dev/null
    echo "postgres://lrj@127.0.0.1:$port/lrj?sslmode=disable"
    ;;
  createdb)
    dir=$2; port=$3; name=$4
    as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
      -c "CREATE DATABASE \"$name\" OWNER lrj" >/dev/null
    echo "postgres://lrj@127.0.0.1:$port/$name?sslmode=disable"
    ;;
  dump)
    dir=$2; port=$3; name=$4; file=$5
    "$bin/pg_dump" -h 127.0.0.1 -p "$port" -U lrj -d "$name" --no-owner -f "$file"
    ;;
  restore)
    dir=$2; port=$3; name=$4; file=$5
    as_owner "$bin/psql" -h 127.0.0.1 -p "$port" -U postgres -d postgres -q -v ON_ERROR_STOP=1 \
      -c "CREATE DATABASE \"$name\" OWNER lrj" >/dev/null
    "$bin/psql" -h 127.0.0.1 -p "$port" -U lrj -d "$name" -q -v ON_ERROR_STOP=1 -f "$file" >/dev/null
    echo "postgres://lrj@127.0.0.1:$port/$name?sslmode=disable"
    ;;
  restart)
    serve "$2" "$3"
    ;;
  stop)
    dir=$2
    as_owner "$bin/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    ;;
  *)
    echo "usage: $0 start DIR PORT | createdb DIR PORT NAME | dump DIR PORT NAME FILE | restore DIR PORT NAME FILE | stop DIR | restart DIR PORT" >&2; exit 2 ;;
esac
