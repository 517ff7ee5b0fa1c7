#!/usr/bin/env bash
# Runs Node as it runs on an x86-64 CPU with AVX2 and without VNNI: `scripts/x86-avx2/node.sh [node args...]`.
# On such a CPU that is plain `node`; on one with VNNI (AVX-512 VNNI or AVX-VNNI) qemu-user emulates a
# Haswell (AVX2, FMA, no AVX-512), so that onnxruntime picks the int8 kernels an AVX2-only machine runs,
# which sum pairs of uint8 x int8 products in 16 bits. /proc/cpuinfo still shows the host's flags there:
# levit learns the kernels' behaviour by running them (src/quant/cpu-target.ts). Emulated: exact, never fast.
set -euo pipefail
[ "$(uname -m)" = x86_64 ] || { echo "error: the AVX2 int8 path is x86-64's; this is $(uname -m)" >&2; exit 5; }
if ! grep -qwE 'avx512_vnni|avx_vnni' /proc/cpuinfo; then exec node "$@"; fi
if ! command -v qemu-x86_64-static >/dev/null; then
  echo 'error: this CPU has VNNI, and emulating an AVX2-only one needs qemu-x86_64-static' >&2
  echo "Hint: apt-get install qemu-user-static (scripts/x86-avx2/test.sh does)." >&2
  exit 5
fi
# Haswell-v4: AVX2 and FMA, no AVX-512 (qemu 7.2 emulates none). The features TCG cannot emulate are turned off, which silences its warnings.
export LEVIT_EMULATOR="qemu-x86_64-static -cpu Haswell-v4,-pcid,-x2apic,-tsc-deadline,-invpcid,-spec-ctrl"
exec $LEVIT_EMULATOR "$(command -v node)" "$@"
