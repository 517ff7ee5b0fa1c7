import assert from 'node:assert/strict';
import { existsSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type EmulationProbe, detectEmulation, hostProbe } from '../src/results/emulation.js';
import { type BenchRecord, type BenchResults, RESULTS_SCHEMA } from '../src/results/types.js';
import { appendHistory, saveBaseline } from '../src/results/store.js';
import { compareResults } from '../src/compare/compare.js';
import { runCli, tempDir } from './helpers/shared.js';

const X86_CPUINFO = 'processor\t: 0\nvendor_id\t: AuthenticAMD\nflags\t\t: fpu avx2\n';
const ARM_CPUINFO = 'processor\t: 0\nFeatures\t: fp asimd\nCPU implementer\t: 0x41\nCPU part\t: 0xd0c\n';

/** A machine described by its files; anything not given cannot be read. */
function probe(arch: string, files: Record<string, string>, over: Partial<EmulationProbe> = {}): EmulationProbe {
  return { arch, platform: 'linux', env: {}, read: (p) => files[p] ?? null, sysctl: () => null, ...over };
}

test('qemu-user is seen through a faked ARM /proc/cpuinfo: the kernel and the process name tell', () => {
  const qemu = probe('arm64', {
    '/proc/sys/kernel/arch': 'x86_64\n',
    '/proc/self/status': 'Name:\tqemu-aarch64-st\nUmask:\t0022\n',
    '/proc/cpuinfo': ARM_CPUINFO,
  });
  assert.deepEqual(detectEmulation(qemu)?.evidence, [
    'the kernel runs x86_64 (/proc/sys/kernel/arch) but this process is arm64',
    'this process is qemu-aarch64-st (/proc/self/status): qemu-user translates it',
  ]);
  // Older kernels have no /proc/sys/kernel/arch: the CPU modalias names the kernel's machine.
  const older = probe('arm64', { '/sys/devices/system/cpu/modalias': 'cpu:type:x86,ven0002fam0019:feature:,0000' });
  assert.match(detectEmulation(older)!.evidence[0], /^the kernel runs x86_64 \(\/sys\/devices\/system\/cpu\/modalias\) but this process is arm64$/);
  // binfmt_misc with the host's cpuinfo left in place.
  const binfmt = probe('arm64', { '/proc/cpuinfo': X86_CPUINFO });
  assert.deepEqual(detectEmulation(binfmt)?.evidence, ['/proc/cpuinfo describes an x86 CPU but this process is arm64']);
  // An x64 process translated on an arm64 kernel (FEX, box64) is the same thing the other way round.
  assert.ok(detectEmulation(probe('x64', { '/proc/sys/kernel/arch': 'aarch64' })));
});

test('native processes, 32-bit ones on their 64-bit kernel included, are not emulated', () => {
  assert.equal(detectEmulation(probe('x64', { '/proc/sys/kernel/arch': 'x86_64', '/proc/self/status': 'Name:\tnode\n', '/proc/cpuinfo': X86_CPUINFO })), null);
  assert.equal(detectEmulation(probe('arm64', { '/proc/sys/kernel/arch': 'aarch64', '/proc/cpuinfo': ARM_CPUINFO })), null);
  assert.equal(detectEmulation(probe('ia32', { '/proc/sys/kernel/arch': 'x86_64' })), null);
  assert.equal(detectEmulation(probe('arm', { '/sys/devices/system/cpu/modalias': 'cpu:type:aarch64:feature:,0000' })), null);
  assert.equal(detectEmulation(probe('x64', {})), null, 'nothing readable is no evidence');
  assert.equal(detectEmulation({ ...hostProbe, env: {} }), null, 'the machine running this suite runs its own instructions');
});

test('Rosetta 2 and the LEVIT_EMULATED override are emulation too', () => {
  const rosetta = probe('x64', {}, { platform: 'darwin', sysctl: (name) => (name === 'sysctl.proc_translated' ? '1' : null) });
  assert.deepEqual(detectEmulation(rosetta)?.evidence, ['Rosetta 2 translates this process (sysctl.proc_translated = 1)']);
  assert.equal(detectEmulation({ ...rosetta, sysctl: () => '0' }), null);
  assert.deepEqual(detectEmulation(probe('x64', {}, { env: { LEVIT_EMULATED: '1' } }))?.evidence, ['LEVIT_EMULATED=1 is set']);
  assert.equal(detectEmulation(probe('x64', {}, { env: { LEVIT_EMULATED: '0' } })), null);
});

const FAST = ['--threads', '1', '--batch', '1', '--duration', '0', '--warmup', '0', '--min-iterations', '2', '--no-machine-check'];

test('an emulated bench says so in its records and table, and --record / --save-baseline refuse it before timing', (t) => {
  const dir = tempDir(t);
  const env = { LEVIT_CACHE_DIR: dir, LEVIT_RESULTS_DIR: join(dir, 'results'), LEVIT_EMULATED: '1' };
  const out = join(dir, 'emulated.json');
  const r = runCli(['bench', 'levit_128s', ...FAST, '--out', out], env);
  assert.equal(r.status, 0, r.stderr);
  assert.match(r.stdout, /levit_128s .* ±[\d.]+% emulated/);
  assert.match(r.stdout, /Emulated \(LEVIT_EMULATED=1 is set\): times marked emulated are the time of a translator, not a speed of this hardware/);
  assert.match(r.stderr, /images\/s .* emulated: the time of a translator/);
  const results = JSON.parse(readFileSync(out, 'utf8')) as BenchResults;
  assert.deepEqual(results.system.emulation, { evidence: ['LEVIT_EMULATED=1 is set'] });
  assert.match(results.system.id, / emulated$/);
  assert.ok(results.records.length === 1 && results.records[0].emulated === true);

  for (const flag of ['--record', '--save-baseline']) {
    const started = Date.now();
    const refused = runCli(['bench', 'levit_128s', ...FAST, flag], env);
    assert.equal(refused.status, 5, refused.stderr);
    assert.match(refused.stderr, new RegExp(`Error: ${flag}: this run is emulated \\(LEVIT_EMULATED=1 is set\\); emulated time is not a speed figure`));
    assert.match(refused.stderr, /Hint: Record on the real hardware/);
    assert.doesNotMatch(refused.stderr, /images\/s/, `${flag} refuses before timing anything (${Date.now() - started} ms)`);
  }
  assert.equal(existsSync(join(dir, 'results')), false, 'nothing stored');
});

function results(id: string, emulated: boolean, medianMs: number): BenchResults {
  const times = Array.from({ length: 20 }, (_, i) => medianMs * (1 + i / 1000));
  const configuration = { model: 'levit_128s', backend: 'ort-cpu', threads: 1, batch: 16, resolution: 224, precision: 'fp32' };
  const record = { ...configuration, times_ms: times, images_per_second: 16000 / medianMs, emulated };
  return { schema: RESULTS_SCHEMA, system: { id, emulation: null }, machine_check: null, records: [record as BenchRecord] } as unknown as BenchResults;
}

test('the store refuses emulated results from a library caller too', (t) => {
  const dir = tempDir(t);
  process.env.LEVIT_RESULTS_DIR = dir;
  t.after(() => delete process.env.LEVIT_RESULTS_DIR);
  const emulated = results('box', true, 100);
  assert.throws(() => saveBaseline(emulated), /--save-baseline: this run is emulated \(its records are marked emulated\)/);
  assert.throws(() => appendHistory({ ...emulated, system: { ...emulated.system, emulation: { evidence: ['x'] } } }), /--record: this run is emulated \(x\)/);
  assert.match(saveBaseline(results('box', false, 100)), /baselines\/box\.json$/);
});

test('compare never decides on emulated records, whichever side they are on', (t) => {
  const options = { threshold: 0.05, alpha: 0.01 };
  const base = results('box', false, 100);
  const slower = compareResults(base, results('box', true, 400), options);
  assert.equal(slower.comparisons[0].verdict, 'emulated');
  assert.equal(slower.comparisons[0].change, null);
  assert.match(slower.comparisons[0].note!, /^current timed under emulation: not a speed figure/);
  assert.deepEqual(slower.counts, { improved: 0, unchanged: 0, regressed: 0, inconclusive: 0, missing: 0, new: 0, emulated: 1 });
  assert.match(compareResults(results('box', true, 100), base, options).comparisons[0].note!, /^baseline timed/);
  assert.equal(compareResults(base, results('box', false, 400), options).comparisons[0].verdict, 'regressed', 'the same pair, natively, regresses');

  const dir = tempDir(t);
  writeFileSync(join(dir, 'base.json'), JSON.stringify(base));
  writeFileSync(join(dir, 'emulated.json'), JSON.stringify(results('box', true, 400)));
  const cli = runCli(['compare', join(dir, 'base.json'), join(dir, 'emulated.json')]);
  assert.equal(cli.status, 0, cli.stderr);
  assert.match(cli.stdout, /emulated .*current timed under emulation/);
  assert.match(cli.stdout, /0 regressed, .* 1 not compared \(emulated: no speed figure\)/);
});
