# Shared helpers for the stand-in scripts (sourced, not run).
IKOU_ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
IKOU_CACHE="${IKOU_CACHE_DIR:-$IKOU_ROOT/.cache}"
IKOU_RUN="${IKOU_RUN_DIR:-$IKOU_CACHE/run}"
mkdir -p "$IKOU_CACHE" "$IKOU_RUN"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1]); s.close()'; }

# apt-get install when a command is missing; only root may, others get told what to install.
need_pkg() {
  local cmd="$1" pkg="$2"
  command -v "$cmd" >/dev/null 2>&1 && return 0
  if [ "$(id -u)" != 0 ]; then
    echo "missing: $cmd (install Debian package '$pkg' as root: apt-get install -y $pkg)" >&2
    return 1
  fi
  echo "installing Debian package $pkg (for $cmd)" >&2
  [ -n "$(find /var/lib/apt/lists -maxdepth 1 -name '*Packages*' -print -quit 2>/dev/null)" ] || apt-get update -qq >&2
  DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >&2 || {
    apt-get update -qq >&2 && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq "$pkg" >&2; }
}

wait_for() { # wait_for SECONDS CMD...
  local deadline=$(( $(date +%s) + $1 )); shift
  until "$@" >/dev/null 2>&1; do
    [ "$(date +%s)" -lt "$deadline" ] || return 1
    sleep 0.2
  done
}

# An instance's state file: its own NAME=value lines (the URL clients use) plus where it lives.
# Prints the file, which is what `start` prints for its caller.
write_state() { # write_state STATE PID DIR LINE...
  local state="$1" pid="$2" dir="$3"; shift 3
  { printf '%s\n' "$@"; printf 'IKOU_PID=%s\nIKOU_DIR=%s\nIKOU_STATE=%s\n' "$pid" "$dir" "$state"; } >"$state"
  cat "$state"
}

# Stops the instance a state file names and removes its directory (a datadir, logs) and the file.
stop_instance() { # stop_instance STATE WHAT
  local state="${1:-}" what="$2"
  [ -n "$state" ] && [ -f "$state" ] || { echo "stop: no $what state file given (or it is gone)" >&2; exit 1; }
  local pid dir
  pid="$(sed -n 's/^IKOU_PID=//p' "$state")"
  dir="$(sed -n 's/^IKOU_DIR=//p' "$state")"
  kill "$pid" 2>/dev/null || true
  wait_for 30 bash -c "! kill -0 $pid" || kill -9 "$pid" 2>/dev/null || true
  rm -rf "$dir" "$state"
  echo "stopped $what pid $pid, removed $dir" >&2
}
