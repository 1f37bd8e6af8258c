#!/usr/bin/env bash
# Throwaway MariaDB: own datadir, own loopback port, local_infile on, no systemd.
#   scripts/mariadb.sh start   -> prints MYSQL_URL=... and NAME=value lines for the instance
#   scripts/mariadb.sh stop [instance-file]  -> stops it and removes its datadir
# Each start makes a new instance; its state file (printed as IKOU_STATE) is what stop takes.
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"

start() {
  need_pkg mariadbd mariadb-server || exit 1
  local port datadir state
  port="$(free_port)"
  datadir="$(mktemp -d "$IKOU_RUN/mariadb-$port.XXXX")"
  state="$datadir.env"
  mariadb-install-db --no-defaults --datadir="$datadir/data" --user="$(id -un)" \
    --auth-root-authentication-method=normal --skip-test-db >"$datadir/install.log" 2>&1 \
    || { echo "mariadb-install-db failed; see $datadir/install.log" >&2; exit 1; }
  # A tmpdir of its own: at start mariadbd deletes every "#sql*" file in its tmpdir, which in a shared
  # /tmp are the temporary tables of the other servers running (EE_DELETE errors mid-import).
  mkdir -p "$datadir/tmp"
  # flush_log_at_trx_commit=2 and no binlog: a throwaway test server need not survive an OS crash.
  mariadbd --no-defaults --user="$(id -un)" --datadir="$datadir/data" --tmpdir="$datadir/tmp" \
    --port="$port" --bind-address=127.0.0.1 --socket="$datadir/mysqld.sock" \
    --pid-file="$datadir/mysqld.pid" --log-error="$datadir/error.log" \
    --local-infile=1 --skip-log-bin --innodb-buffer-pool-size=512M \
    --innodb-log-file-size=256M --innodb-flush-log-at-trx-commit=2 \
    --max-allowed-packet=64M --character-set-server=utf8mb4 --collation-server=utf8mb4_bin \
    --max-connections=200 >/dev/null 2>&1 &
  local pid=$!
  if ! wait_for 60 mariadb --no-defaults -uroot -h127.0.0.1 -P"$port" -e 'select 1'; then
    echo "mariadb did not start on port $port; last log lines:" >&2; tail -20 "$datadir/error.log" >&2; exit 1
  fi
  mariadb --no-defaults -uroot -h127.0.0.1 -P"$port" -e "CREATE DATABASE ikou CHARACTER SET utf8mb4 COLLATE utf8mb4_bin"
  echo "started mariadb $(mariadbd --version | awk '{print $3}') pid $pid port $port datadir $datadir" >&2
  write_state "$state" "$pid" "$datadir" "MYSQL_URL=mysql://root@127.0.0.1:$port/ikou"
}

stop() { stop_instance "${1:-}" mariadb; }

case "${1:-}" in
  start) start ;;
  stop) shift; stop "$@" ;;
  *) echo "usage: $0 start | stop <state-file>" >&2; exit 2 ;;
esac
