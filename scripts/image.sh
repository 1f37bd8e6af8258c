#!/usr/bin/env bash
# The runner's job image (Dockerfile's layout) built here without pulling a base image or running a
# container: podman/runc cannot run containers on this machine (setrlimit: Operation not permitted),
# so the image root is made from Debian's packages and run under tini in a PID namespace.
#   scripts/image.sh build [--root-only] -> out/image/rootfs (+ a buildah image ikou-runner:local when
#                                      buildah works, unless --root-only: what the tests run is the root)
#   scripts/image.sh run [ikou args] -> the entrypoint (tini -- node /app/dist/bin/ikou.js) as PID 1 of
#                                      a new PID namespace, chrooted into the read-only root as uid 10001,
#                                      with /proc and a tmpfs /tmp; the host's network (local MariaDB)
# IKOU_IMAGE=envsvc: envsvc's image instead, in out/image-envsvc: the same root plus the Pulumi CLI
# and the shop stack files, its entrypoint node /app/dist/envsvc/main.js.
set -euo pipefail
source "$(dirname "$0")/lib.sh"
image="${IKOU_IMAGE:-runner}"
case "$image" in
  runner) out="$IKOU_ROOT/out/image" entry=/app/dist/bin/ikou.js ;;
  envsvc) out="$IKOU_ROOT/out/image-envsvc" entry=/app/dist/envsvc/main.js ;;
  *) echo "IKOU_IMAGE=$image: expected runner or envsvc" >&2; exit 2 ;;
esac
# The image's ENV (the Dockerfile's, and envsvc's: its writable state on the /tmp volume, the CLI
# home there too, since uid 10001's home does not exist); a value the caller sets wins, as with -e.
image_env=(NODE_ENV=production TMPDIR=/tmp)
[ "$image" = envsvc ] && image_env+=(PULUMI_HOME=/tmp/.pulumi IKOU_PULUMI_BIN=/usr/local/bin/pulumi
  IKOU_DATA_DIR=/tmp/envsvc/data IKOU_BACKEND_DIR=/tmp/envsvc/state)
rootfs="$out/rootfs"
base="$IKOU_CACHE/image/debian-trixie-node-tini.tar"
UID_JOB=10001

build_base() {
  [ -s "$base" ] && return 0
  need_pkg mmdebstrap mmdebstrap
  mkdir -p "$(dirname "$base")"
  # Debian 13: Node 20.19 (bookworm's 18.20 is below the project's engines); tini as the init.
  mmdebstrap --quiet --variant=minbase --include=nodejs,tini,ca-certificates trixie "${base%.tar}.partial.tar" >&2
  mv "${base%.tar}.partial.tar" "$base"
}

build_app() { # compiled JS + production dependencies, as the Dockerfile's build stage makes them
  local app="$out/app" modules
  rm -rf "$app" && mkdir -p "$app/node_modules"
  # `npm run build`'s compile, straight into the image: the repo's dist/ may be in use by a running job.
  (cd "$IKOU_ROOT" && node node_modules/typescript/bin/tsc -p tsconfig.build.json --outDir "$app/dist") >&2
  cp "$IKOU_ROOT/package.json" "$IKOU_ROOT/package-lock.json" "$app/"
  # The production tree only (what `npm prune --omit=dev` would leave), copied from the installed one.
  modules="$(readlink -f "$IKOU_ROOT/node_modules")"
  # npm ls exits non-zero on any extraneous package; the list it prints is still complete.
  { (cd "$IKOU_ROOT" && npm ls --omit=dev --all --parseable 2>/dev/null) || true; } | tail -n +2 |
    sed "s#^$modules/##; s#^$IKOU_ROOT/node_modules/##" | grep -v '/node_modules/' | sort -u |
    (cd "$modules" && xargs -r cp -al --parents -t "$app/node_modules")
  cp -a "$modules/.bin" "$app/node_modules/" 2>/dev/null || true
}

build() {
  # Both images share the base: two builds at once (the tests run in parallel) take turns on it.
  mkdir -p "$(dirname "$base")"
  exec 9>"$(dirname "$base")/.lock"
  flock 9
  build_base
  # The base is unpacked once; each root is a hard-linked copy (seconds, not minutes). Nothing
  # writes into it in place: the job sees it read-only, and the two files changed here are replaced.
  local unpacked="${base%.tar}.root"
  if [ ! -x "$unpacked/usr/bin/tini" ]; then
    rm -rf "$unpacked" && mkdir -p "$unpacked" && tar -xf "$base" -C "$unpacked"
  fi
  flock -u 9
  build_app
  rm -rf "$rootfs" && cp -al "$unpacked" "$rootfs"
  mv "$out/app" "$rootfs/app"
  local f
  for f in passwd group; do
    cp "$rootfs/etc/$f" "$out/$f" && rm "$rootfs/etc/$f" && mv "$out/$f" "$rootfs/etc/$f"
  done
  echo "ikou:x:$UID_JOB:$UID_JOB::/nonexistent:/usr/sbin/nologin" >>"$rootfs/etc/passwd"
  echo "ikou:x:$UID_JOB:" >>"$rootfs/etc/group"
  if [ "$image" = envsvc ]; then
    # envsvc drives the Pulumi CLI and reads each shop's cart from its stack file.
    local cli
    cli="$(bash "$IKOU_ROOT/scripts/pulumi-cli.sh")"
    mkdir -p "$rootfs/usr/local/bin" "$rootfs/app/stacks"
    cp -l "$cli" "$rootfs/usr/local/bin/pulumi" 2>/dev/null || cp "$cli" "$rootfs/usr/local/bin/pulumi"
    cp "$IKOU_ROOT"/stacks/Pulumi*.yaml "$rootfs/app/stacks/"
  fi
  if [ "${1:-}" != --root-only ] && command -v buildah >/dev/null 2>&1; then
    local ctr
    ctr=$(buildah from scratch 2>/dev/null) && {
      buildah copy "$ctr" "$rootfs" / >/dev/null
      buildah config --user "$UID_JOB:$UID_JOB" --workingdir /app --env NODE_ENV=production \
        --entrypoint "[\"/usr/bin/tini\",\"--\",\"node\",\"$entry\"]" "$ctr"
      [ "$image" = runner ] && buildah config --cmd import "$ctr"
      buildah commit --quiet "$ctr" "ikou-$image:local" >/dev/null && echo "image ikou-$image:local" >&2
      buildah rm "$ctr" >/dev/null
    } || echo "buildah could not make the image; the root at $rootfs is the image's filesystem" >&2
  fi
  du -sh "$rootfs" | awk '{print "image root " $2 ": " $1}' >&2
  echo "$rootfs"
}

run() {
  [ -x "$rootfs/usr/bin/tini" ] || { echo "no image root at $rootfs: run scripts/image.sh build" >&2; exit 1; }
  local kv
  for kv in "${image_env[@]}"; do
    local name="${kv%%=*}"
    [ -n "${!name:-}" ] || export "$kv"
  done
  exec unshare --pid --fork --mount --propagation private /bin/sh -c '
    root="$1"; uid="$2"; entry="$3"; shift 3
    mount --bind "$root" "$root" && mount -o remount,bind,ro "$root"
    mount -t proc proc "$root/proc"
    mount -t tmpfs -o size=256m,mode=1777 tmpfs "$root/tmp"
    cd "$root"
    exec chroot --userspec="$uid:$uid" "$root" /usr/bin/tini -- node "$entry" "$@"
  ' sh "$rootfs" "$UID_JOB" "$entry" "$@"
}

case "${1:-}" in
  build) shift; build "$@" ;;
  run) shift; run "$@" ;;
  *) echo "usage: scripts/image.sh build | run [ikou args]" >&2; exit 2 ;;
esac
