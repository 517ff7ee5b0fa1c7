#!/usr/bin/env bash
# Runs Node for linux-arm64 with levit's arm64 dependencies: `scripts/arm64/node.sh [node args...]`,
# e.g. `scripts/arm64/node.sh bin/run.js backends`. On an ARM machine that is plain `node`; on
# x86-64 it is the Node that scripts/arm64/setup.sh installed, emulated by qemu-user (called
# directly, so no binfmt_misc registration is needed), in a private mount namespace that shows
# onnxruntime an ARM /proc/cpuinfo. Emulated: everything works, nothing is fast.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${LEVIT_ARM64_DIR:-$root/.arm64}
[ "$(uname -m)" != aarch64 ] || exec node "$@"

if [ ! -x "$dir/node/bin/node" ] || [ ! -f "$dir/cpuinfo" ] || ! command -v qemu-aarch64-static >/dev/null; then
  echo "error: linux-arm64 Node is not set up in $dir" >&2
  echo 'Hint: run scripts/arm64/setup.sh (npm run test:arm64 does).' >&2
  exit 5
fi
# sharp finds its arm64 build here (node_modules keeps the x64 one).
export NODE_PATH="$dir/node_modules${NODE_PATH:+:$NODE_PATH}"
# qemu-user runs no foreign child by itself: levit's tests start the CLI through this.
export LEVIT_EMULATOR="qemu-aarch64-static -cpu neoverse-n1"

if [ "${LEVIT_ARM64_NAMESPACE:-}" != 1 ]; then
  # Root makes a mount namespace directly; anyone else needs a user namespace to be allowed to.
  userns=()
  [ "$(id -u)" = 0 ] || userns=(--map-root-user)
  LEVIT_ARM64_NAMESPACE=1 exec unshare "${userns[@]}" --mount --propagation private -- "$0" "$@"
fi
unset LEVIT_ARM64_NAMESPACE
# Inside the namespace: the ARM cpuinfo over the host's, seen by this process and its children only.
mount --bind "$dir/cpuinfo" /proc/cpuinfo
exec $LEVIT_EMULATOR "$dir/node/bin/node" "$@"
