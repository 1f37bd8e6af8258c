#!/usr/bin/env bash
# Puts a working `pulumi` CLI at .cache/pulumi/bin/pulumi and prints its path.
# Order: an existing cached build of the pinned version; a `pulumi` on PATH;
# otherwise build it with Go from github.com/pulumi/pulumi/pkg/v3 (cmd/pulumi).
set -euo pipefail
root="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
# The version is the one the wrapper module (scripts/pulumi-cli/go.mod) pins.
version="$(awk '$1 == "github.com/pulumi/pulumi/pkg/v3" { print $2 }' "$root/scripts/pulumi-cli/go.mod")"
cache="${IKOU_CACHE_DIR:-$root/.cache}/pulumi"
bin="$cache/bin/pulumi"
log() { printf '[pulumi-cli] %s\n' "$*" >&2; }

if [ -x "$bin" ] && [ "$(cat "$cache/bin/.version" 2>/dev/null)" = "$version" ]; then
  log "cached: $bin ($version)"
  echo "$bin"; exit 0
fi

mkdir -p "$cache/bin"
if onpath="$(command -v pulumi 2>/dev/null)" && [ -z "${IKOU_PULUMI_BUILD:-}" ]; then
  ln -sf "$onpath" "$bin"
  "$bin" version >"$cache/bin/.version"
  log "using pulumi on PATH: $onpath ($(cat "$cache/bin/.version"))"
  echo "$bin"; exit 0
fi

command -v go >/dev/null || { log "missing: go (needed to build the Pulumi CLI; install Go >= 1.26)"; exit 1; }
work="$cache/build"
mkdir -p "$work"
cp "$root/scripts/pulumi-cli/go.mod" "$root/scripts/pulumi-cli/go.sum" "$root/scripts/pulumi-cli/tools.go" "$work/"
start=$(date +%s)
log "building github.com/pulumi/pulumi/pkg/v3/cmd/pulumi@$version (first time only; several minutes)"
(
  cd "$work"
  export GOFLAGS="${GOFLAGS:-} -mod=mod"
  CGO_ENABLED=0 go build -trimpath \
    -ldflags "-s -w -X github.com/pulumi/pulumi/sdk/v3/go/common/version.Version=$version" \
    -o "$bin.tmp" github.com/pulumi/pulumi/pkg/v3/cmd/pulumi
)
mv "$bin.tmp" "$bin"
echo "$version" >"$cache/bin/.version"
log "built $bin in $(( $(date +%s) - start ))s: $("$bin" version)"
echo "$bin"
