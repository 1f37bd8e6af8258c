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
