#!/usr/bin/env bash
# moto's AWS server (PyPI moto[server], pinned) in a project-local venv, on a free loopback port.
#   scripts/moto.sh install  -> creates/updates the venv (idempotent)
#   scripts/moto.sh start    -> prints AWS_ENDPOINT_URL=... and state lines
#   scripts/moto.sh stop <state-file>
set -euo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lib.sh"
MOTO_VERSION="${IKOU_MOTO_VERSION:-5.2.5}"
venv="$IKOU_CACHE/moto-venv"

install() {
  command -v python3 >/dev/null || { echo "missing: python3 (needed for moto)" >&2; exit 1; }
  if [ -x "$venv/bin/moto_server" ] && [ "$(cat "$venv/.moto-version" 2>/dev/null)" = "$MOTO_VERSION" ]; then
    echo "moto $MOTO_VERSION already in $venv" >&2; return 0
  fi
  python3 -m venv "$venv" || { echo "python3 -m venv failed (Debian: apt-get install -y python3-venv)" >&2; exit 1; }
  "$venv/bin/pip" install -q "moto[server]==$MOTO_VERSION" >&2
  echo "$MOTO_VERSION" >"$venv/.moto-version"
  echo "installed moto[server]==$MOTO_VERSION in $venv" >&2
}

start() {
  install
  local port dir state pid
  port="$(free_port)"
  dir="$(mktemp -d "$IKOU_RUN/moto-$port.XXXX")"
  state="$dir.env"
  "$venv/bin/moto_server" -H 127.0.0.1 -p "$port" >"$dir/moto.log" 2>&1 &
  pid=$!
  wait_for 60 curl -sf "http://127.0.0.1:$port/moto-api/" || {
    echo "moto did not start on port $port:" >&2; tail -20 "$dir/moto.log" >&2; exit 1; }
  echo "started moto $MOTO_VERSION pid $pid on http://127.0.0.1:$port" >&2
  write_state "$state" "$pid" "$dir" "AWS_ENDPOINT_URL=http://127.0.0.1:$port"
}

stop() { stop_instance "${1:-}" moto; }

case "${1:-}" in
  install) install ;;
  start) start ;;
  stop) shift; stop "$@" ;;
  *) echo "usage: $0 install | start | stop <state-file>" >&2; exit 2 ;;
esac
