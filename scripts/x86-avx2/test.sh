#!/usr/bin/env bash
# npm run test:avx2: levit's int8 on an x86-64 CPU with AVX2 and without VNNI, whatever this machine is.
# On a VNNI machine, qemu-user emulates one (scripts/x86-avx2/node.sh); on an AVX2-only machine it runs natively.
# First, this machine builds the artifacts of both int8 forms and, where it has VNNI, their exact outputs;
# then test/x86-avx2/checks.ts runs them on AVX2 kernels: the AVX2 form must give the same outputs, the
# VNNI form must be seen to saturate and be refused. Fidelity only, never a speed.
set -euo pipefail
cd "$(dirname "$0")/../.."
start=$SECONDS
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }
if grep -qwE 'avx512_vnni|avx_vnni' /proc/cpuinfo && ! command -v qemu-x86_64-static >/dev/null; then
  echo 'test:avx2: installing qemu-user-static (Debian package) to emulate an AVX2-only CPU' >&2
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends qemu-user-static >/dev/null
fi
npm run --silent build
if grep -qwE 'avx512_vnni|avx_vnni' /proc/cpuinfo; then
  how="EMULATED by qemu-user ($(qemu-x86_64-static --version | sed -n 1p), -cpu Haswell-v4) on this VNNI machine: fidelity only, no speed figure"
else
  how='natively, on this AVX2-only machine'
fi
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
echo "test:avx2: building both int8 forms and their outputs on this machine"
node dist/test/x86-avx2/reference.js "$work"
echo "test:avx2: running levit's AVX2 checks, $how"
status=0
LEVIT_AVX2_REFERENCE=$work scripts/x86-avx2/node.sh --test-reporter=spec dist/test/x86-avx2/checks.js || status=$?
verdict=passed
[ "$status" = 0 ] || verdict="FAILED (exit $status)"
echo "test:avx2: $verdict, $how; $((SECONDS - start)) s in all"
exit "$status"
