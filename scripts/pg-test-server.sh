#!/usr/bin/env bash
# A private PostgreSQL server for the report store's tests: a fresh cluster
# in a temporary folder, listening on a unix socket in that folder only (no
# TCP port), with trust authentication for the local socket.
#
#   scripts/pg-test-server.sh run CMD [ARG...]
#       starts a server, runs CMD with MAILAUTH_TEST_PG set to its
#       connection string, stops the server and removes the folder when
#       CMD ends (whatever its outcome); exits with CMD's status.
#   scripts/pg-test-server.sh start DIR [PID]
#       starts a server in DIR (created; must not exist) and prints its
#       connection string; with PID, a watcher stops it and removes DIR
#       once process PID has ended (a test binary starts its own server
#       this way).
#   scripts/pg-test-server.sh stop DIR
#       stops the server of DIR and removes DIR.
#
# PostgreSQL refuses to run as root: as root, the server runs as the
# `postgres` user (created by Debian's postgresql package), which owns DIR.
set -euo pipefail

bindir=""
for candidate in /usr/lib/postgresql/*/bin; do
    if [ -x "$candidate/initdb" ]; then bindir="$candidate"; fi
done
if [ -z "$bindir" ]; then
    if command -v initdb >/dev/null 2>&1; then
        bindir="$(dirname "$(command -v initdb)")"
    else
        echo "pg-test-server: initdb not found (install Debian's postgresql; scripts/setup.sh does)" >&2
        exit 2
    fi
fi

as_owner() {
    if [ "$(id -u)" -eq 0 ]; then
        runuser -u postgres -- "$@"
    else
        "$@"
    fi
}

start() {
    local dir="$1"
    mkdir -p "$dir"
    if [ "$(id -u)" -eq 0 ]; then chown postgres: "$dir"; fi
    chmod 0700 "$dir"
    as_owner "$bindir/initdb" -D "$dir/data" -U postgres --auth=trust \
        --no-sync -E UTF8 --locale=C >"$dir/initdb.log" 2>&1 || {
        cat "$dir/initdb.log" >&2
        return 1
    }
    # No TCP (listen_addresses empty), socket in DIR only; fsync off: the
    # data is thrown away with the folder.
    as_owner "$bindir/pg_ctl" -D "$dir/data" -l "$dir/server.log" -w -t 60 \
        -o "-k $dir -h '' -c fsync=off -c max_connections=50" start >/dev/null || {
        cat "$dir/server.log" >&2
        return 1
    }
    echo "host=$dir user=postgres dbname=postgres"
}

stop() {
    local dir="$1"
    if [ -d "$dir/data" ]; then
        as_owner "$bindir/pg_ctl" -D "$dir/data" -m immediate -w stop >/dev/null 2>&1 || true
    fi
    rm -rf "$dir"
}

case "${1:-}" in
run)
    shift
    [ $# -gt 0 ] || { echo "usage: $0 run CMD [ARG...]" >&2; exit 2; }
    dir="$(mktemp -d "${TMPDIR:-/tmp}/mailauth-pg.XXXXXX")"
    trap 'stop "$dir"' EXIT
    rmdir "$dir"
    MAILAUTH_TEST_PG="$(start "$dir")"
    export MAILAUTH_TEST_PG
    echo "== private PostgreSQL on unix socket $dir"
    status=0
    "$@" || status=$?
    exit "$status"
    ;;
start)
    dir="${2:?usage: $0 start DIR [PID]}"
    start "$dir"
    if [ -n "${3:-}" ]; then
        pid="$3"
        # The watcher is detached from the caller's pipes so that the caller
        # does not wait for it.
        setsid bash -c '
            while kill -0 "$1" 2>/dev/null; do sleep 0.5; done
            "$2" stop "$3"
        ' watcher "$pid" "$0" "$dir" </dev/null >/dev/null 2>&1 &
    fi
    ;;
stop)
    stop "${2:?usage: $0 stop DIR}"
    ;;
*)
    echo "usage: $0 run CMD [ARG...] | start DIR [PID] | stop DIR" >&2
    exit 2
    ;;
esac
