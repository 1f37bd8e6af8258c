#!/usr/bin/env bash
# Installs the pinned Node dependencies when they are missing, so `npm run demo` and `npm test`
# work as the first commands on a fresh checkout. The stand-ins install themselves on first use.
set -euo pipefail
cd "$(dirname "${BASH_SOURCE[0]}")/.."
if [ ! -x node_modules/.bin/tsx ] || [ ! -x node_modules/.bin/vitest ]; then
  echo "[ensure-deps] node_modules missing: npm ci" >&2
  npm ci --no-audit --no-fund >&2
fi
