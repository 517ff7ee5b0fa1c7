#!/usr/bin/env bash
# npm run test:arm64: levit on linux-arm64, from a fresh clone. Sets up arm64 Node and the arm64
# builds of the native dependencies (scripts/arm64/setup.sh, idempotent), builds, then runs
# test/arm64/checks.ts under arm64 Node: golden logits on ort-cpu, ort-wasm and tfjs-wasm,
# preprocessing with sharp's arm64 build, levit backends, a short levit bench. On x86-64 this is
# emulation by qemu-user: it proves fidelity on ARM kernels, never a speed.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$SECONDS
bash scripts/arm64/setup.sh
npm run --silent build
if [ "$(uname -m)" = aarch64 ]; then
  how='natively'
else
  how="EMULATED by qemu-user ($(qemu-aarch64-static --version | sed -n 1p)) on this $(uname -m) machine: fidelity only, no speed figure"
fi
echo "test:arm64: running levit's arm64 checks on linux-arm64 Node, $how"
summary=$(mktemp)
trap 'rm -f "$summary"' EXIT
status=0
LEVIT_ARM64_SUMMARY=$summary scripts/arm64/node.sh --test-reporter=spec dist/test/arm64/checks.js || status=$?
echo
cat "$summary"
verdict=passed
[ "$status" = 0 ] || verdict="FAILED (exit $status)"
echo "test:arm64: $verdict on linux-arm64, $how; $((SECONDS - start)) s in all"
exit "$status"
