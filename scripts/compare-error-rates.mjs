#!/usr/bin/env node
// How often does `levit compare` get it wrong on this machine? Runs N+1 same-commit benches of a
// fast and a slow model, compares every rerun against the first (any regressed or improved is
// a false alarm), then injects 1.10x, 1.25x and 2x slowdowns into the reruns' real measured
// times and counts how often each is detected. Prints a Markdown table (docs/compare-error-rates.md).
//
//   npm run build && node scripts/compare-error-rates.mjs --reruns 20 --out-dir study/
//   node scripts/compare-error-rates.mjs --from study/            # re-analyse saved runs
//   node scripts/compare-error-rates.mjs --reruns 2 --bench-args="--duration 0.5 --max-duration 2 --warmup 0.2"   # a smoke run
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const dist = (p) => join(root, 'dist', 'src', p);
if (!existsSync(dist('compare/compare.js'))) {
  console.error('Build first: npm run build');
  process.exit(2);
}
const { readResults } = await import(dist('bench/validate.js'));
const { compareResults, parseThreshold, recordKey } = await import(dist('compare/compare.js'));

const { values: o } = parseArgs({
  options: {
    reruns: { type: 'string', default: '20' },
    models: { type: 'string', default: 'levit_128s,efficientnet_b3' },
    threads: { type: 'string', default: '1,2' },
    'bench-args': { type: 'string', default: '' },
    'out-dir': { type: 'string', default: 'compare-study' },
    from: { type: 'string' },
    threshold: { type: 'string', default: '10%' },
    alpha: { type: 'string', default: '0.01' },
    factors: { type: 'string', default: '1.10,1.25,2' },
  },
});
const threshold = parseThreshold(o.threshold);
const alpha = Number(o.alpha);
const factors = o.factors.split(',').map(Number);
const dir = resolve(o.from ?? o['out-dir']);

function runBenches(n) {
  mkdirSync(dir, { recursive: true });
  const extra = o['bench-args'].split(/\s+/).filter(Boolean);
  const started = Date.now();
  for (let i = 0; i <= n; i++) {
    const out = join(dir, `run-${String(i).padStart(3, '0')}.json`);
    const t0 = Date.now();
    const args = [join(root, 'bin', 'run.js'), 'bench', ...o.models.split(','), '--threads', o.threads, '--out', out, ...extra];
    const r = spawnSync(process.execPath, args, { stdio: ['ignore', 'ignore', 'inherit'] });
    if (r.status !== 0) {
      console.error(`bench run ${i} failed (exit ${r.status}): ${args.slice(1).join(' ')}`);
      process.exit(1);
    }
    const each = (Date.now() - started) / 1000 / (i + 1);
    console.error(`run ${i}/${n} done in ${((Date.now() - t0) / 1000).toFixed(0)} s; about ${Math.round(((n - i) * each) / 60)} min left`);
  }
}

/** The same results with every timed batch `factor` times slower: an injected regression. */
function slowedDown(results, factor) {
  const slower = (r) => ({ ...r, times_ms: r.times_ms.map((t) => t * factor), images_per_second: r.images_per_second / factor });
  return { ...results, records: results.records.map(slower) };
}

if (!o.from) runBenches(Number(o.reruns));
const files = readdirSync(dir)
  .filter((f) => /^run-\d+\.json$/.test(f))
  .sort();
if (files.length < 2) {
  console.error(`${dir}: need at least two runs (run-000.json and a rerun)`);
  process.exit(2);
}
const [first, ...reruns] = files.map((f) => readResults(join(dir, f)));
const newRow = (r) => ({
  key: `${r.model} ${r.threads}t`,
  batches: [],
  same: { regressed: 0, improved: 0, inconclusive: 0, unchanged: 0 },
  detected: factors.map(() => 0),
  flagged: 0,
});
const rows = new Map(first.records.map((r) => [recordKey(r), newRow(r)]));
const verdictOf = (report, key) => report.comparisons.find((c) => c.key === key)?.verdict;
for (const rerun of reruns) {
  const same = compareResults(first, rerun, { threshold, alpha });
  const slowed = factors.map((f) => compareResults(first, slowedDown(rerun, f), { threshold, alpha }));
  for (const [key, row] of rows) {
    const rec = rerun.records.find((r) => recordKey(r) === key);
    if (rec) row.batches.push(rec.iterations);
    if (rec?.stability?.unstable) row.flagged++;
    const v = verdictOf(same, key);
    if (v in row.same) row.same[v]++;
    slowed.forEach((s, i) => {
      if (verdictOf(s, key) === 'regressed') row.detected[i]++;
    });
  }
}
const n = reruns.length;
const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
const share = (k) => `${k}/${n}`;
const lines = [
  '| configuration | batches (median) | same commit: regressed | improved | inconclusive | flagged busy | ' +
    `${factors.map((f) => `${f.toFixed(2)}x`).join(' | ')} |`,
  `| --- | ---: | ---: | ---: | ---: | ---: | ${factors.map(() => '---:').join(' | ')} |`,
  ...[...rows.values()].map(
    (r) =>
      `| ${r.key} | ${median(r.batches)} | ${share(r.same.regressed)} | ${share(r.same.improved)} | ${share(r.same.inconclusive)} ` +
      `| ${share(r.flagged)} | ${r.detected.map(share).join(' | ')} |`,
  ),
];
const cal = (r) => r.calibration?.matmul_gflops_1thread.toFixed(1) ?? '-';
const summary = [
  `${n} reruns against the first run, on ${first.system.id} (calibrations ${[first, ...reruns].map(cal).join(', ')} GFLOP/s); `,
  `threshold ${(threshold * 100).toFixed(1)}%, ${Math.round((1 - alpha) * 100)}% interval; bench settings ${JSON.stringify(first.settings)}.`,
].join('');
const note = `Columns 1.10x, 1.25x, 2.00x: injected slowdowns called regressed.`;
const table = `${lines.join('\n')}\n\n${summary} ${note}\n`;
writeFileSync(join(dir, 'error-rates.md'), table);
const study = { threshold, alpha, factors, reruns: n, machine: first.system.id, rows: [...rows.values()] };
writeFileSync(join(dir, 'error-rates.json'), `${JSON.stringify(study, null, 1)}\n`);
console.log(table);
