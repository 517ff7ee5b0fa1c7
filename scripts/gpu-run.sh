#!/usr/bin/env bash
# Runs on the GPU machine, from the unpacked travel bundle (scripts/gpu-bundle.mjs builds it). One part per call
# of the device tool, so that each stays well under its 10 minutes (bench writes its file only at the end):
#   gpu-run.sh webgpu-levit    levit backends + levit bench of the LeViTs on ort-webgpu -> $OUT/levit-webgpu-levit.json
#   gpu-run.sh webgpu-rivals   the same for EfficientNet-B0..B3, DeiT-Tiny/Small        -> $OUT/levit-webgpu-rivals.json
#   gpu-run.sh torch           the PyTorch reference (torch-cuda) of all of them         -> $OUT/torch-cuda.json
# Never two parts at once: they would share the GPU.
# Knobs (environment): MODELS (overrides the part's models), BATCHES, DURATION, WARMUP,
# LEVIT_PRECISION (passed to bench as --precision, where bench has it), TORCH_ARGS (more arguments for
# torch_reference.py, e.g. --dry-run to rehearse on a machine without torch).
set -uo pipefail
part="${1:-}"
here="$(cd "$(dirname "$0")/.." && pwd)"
node="$here/../node/bin/node"
levit() { "$node" "$here/bin/run.js" "$@"; }
: "${OUT:?OUT must name the folder the results go to}"
LEVITS="levit_128s levit_128 levit_192 levit_256 levit_384"
RIVALS="efficientnet_b0 efficientnet_b1 efficientnet_b2 efficientnet_b3 deit_tiny_patch16_224 deit_small_patch16_224"
case "$part" in
  webgpu-levit) MODELS="${MODELS:-$LEVITS}" ;;
  webgpu-rivals) MODELS="${MODELS:-$RIVALS}" ;;
  torch) MODELS="${MODELS:-$LEVITS $RIVALS}" ;;
  *) echo "usage: gpu-run.sh webgpu-levit|webgpu-rivals|torch" >&2; exit 2 ;;
esac
BATCHES="${BATCHES:-1,16,256,1024,2048}"
DURATION="${DURATION:-1}"
WARMUP="${WARMUP:-1}"
export XDG_RUNTIME_DIR="${XDG_RUNTIME_DIR:-/tmp}" LEVIT_CACHE_DIR="${LEVIT_CACHE_DIR:-/tmp/levit-cache}"
# The NVIDIA Vulkan driver's manifest, where the loader does not find it by itself (the device README's advice).
nv_icd=/usr/local/nvidia/share/vulkan/icd.d/nvidia_icd.json
if [ -z "${VK_DRIVER_FILES:-}" ] && [ -f "$nv_icd" ] && ! ls /usr/share/vulkan/icd.d/nvidia* /etc/vulkan/icd.d/nvidia* >/dev/null 2>&1; then
  export VK_DRIVER_FILES="$nv_icd"
fi
mkdir -p "$OUT"
command -v nvidia-smi >/dev/null && nvidia-smi > "$OUT/nvidia-smi.txt" 2>&1
status=0

if [ "$part" != torch ]; then
  levit backends --json > "$OUT/backends.json" || status=1
  levit backends 2>&1 | sed -n '1,12p'
  precision=()
  [ -n "${LEVIT_PRECISION:-}" ] && precision=(--precision "$LEVIT_PRECISION")
  # One bench process per model: a model that crashes its process (a driver abort, say) loses only its own records.
  runs=() machine_check=()
  mkdir -p /tmp/levit-runs
  for m in $MODELS; do
    if levit bench "$m" --backend ort-webgpu --threads all --batch "$BATCHES" --duration "$DURATION" --warmup "$WARMUP" \
      --keep-going "${precision[@]}" "${machine_check[@]}" --out "/tmp/levit-runs/$part-$m.json"; then
      runs+=("/tmp/levit-runs/$part-$m.json")
      machine_check=(--no-machine-check)
    else
      echo "note: levit bench $m failed (exit $?): its records are missing" >&2
      status=1
    fi
  done
  [ ${#runs[@]} -gt 0 ] && { "$node" "$here/scripts/join-results.mjs" "$OUT/levit-$part.json" "${runs[@]}" || status=1; }
fi

if [ "$part" = torch ]; then
  levit zoo --json > "$OUT/zoo.json" || status=1
  PYTHONUNBUFFERED=1 python3 "$here/scripts/torch_reference.py" --zoo "$OUT/zoo.json" --models "$(echo $MODELS | tr ' ' ',')" \
    --batch "$BATCHES" --duration "$DURATION" --warmup "$WARMUP" --keep-going ${TORCH_ARGS:-} --out "$OUT/torch-cuda.json" || status=1
fi

files=()
for f in "$OUT/levit-$part.json" "$OUT/torch-cuda.json"; do [ -f "$f" ] && files+=("$f"); done
[ ${#files[@]} -gt 0 ] && levit report --gpu "${files[@]}" --markdown | tee "$OUT/gpu-table.md"
exit $status
