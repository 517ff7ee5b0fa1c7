#!/usr/bin/env node
// How often are levit's verdicts wrong on this machine, as it is? Three parts (docs/compare-error-rates.md):
//   default   N back-to-back default `levit bench` runs: each run's claim verdicts and intervals (the same in
//             every run? every interval overlapping every other?), its wall time; then every pair of runs
//             compared as files (same commit: any regressed/improved is a false alarm) and with their times
//             scaled by 1.05, 1.10, 1.25 and 2 (injected slowdowns on real noise).
//   aa        N live A/A comparisons (`levit compare --self-test`): false alarms, intervals that miss 0.
//   injected  live comparisons of this checkout against a copy whose worker does extra, real work after
//             every batch (a factor of its own batch time): how often each factor is called regressed.
//
//   npm run build && node scripts/compare-error-rates.mjs --out-dir study/
//   node scripts/compare-error-rates.mjs --from study/                  # re-analyse saved runs
//   node scripts/compare-error-rates.mjs --parts aa --aa-runs 2 --live-args="--min-rounds 10 --max-duration 1"   # a smoke run
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { fileURLToPath, pathToFileURL } from 'node:url';

const root = resolve(fileURLToPath(import.meta.url), '..', '..');
const dist = (p) => pathToFileURL(join(root, 'dist', 'src', p)).href;
if (!existsSync(join(root, 'dist', 'src', 'compare', 'compare.js'))) {
  console.error('Build first: npm run build');
  process.exit(2);
}
const { readResults } = await import(dist('results/read.js'));
const { compareResults, parseThreshold, verdictOf } = await import(dist('compare/compare.js'));
const { checkClaims, loadClaims } = await import(dist('claims/speed-claims.js'));

const { values: o } = parseArgs({
  options: {
    parts: { type: 'string', default: 'default,aa,injected' },
    'default-runs': { type: 'string', default: '5' },
    'aa-runs': { type: 'string', default: '20' },
    'injected-runs': { type: 'string', default: '10' },
    'other-factor-runs': { type: 'string', default: '3' },
    factors: { type: 'string', default: '1.05,1.10,1.25,2' },
    'gate-factor': { type: 'string', default: '1.10' },
    models: { type: 'string', default: 'levit_128s,efficientnet_b0' },
    'bench-args': { type: 'string', default: '' },
    'live-args': { type: 'string', default: '' },
    'out-dir': { type: 'string', default: 'compare-study' },
    from: { type: 'string' },
    threshold: { type: 'string', default: '10%' },
    'live-threshold': { type: 'string', default: '5%' },
    alpha: { type: 'string', default: '0.01' },
  },
});
const threshold = parseThreshold(o.threshold);
const liveThreshold = parseThreshold(o['live-threshold']);
const alpha = Number(o.alpha);
const factors = o.factors.split(',').map(Number);
const parts = new Set(o.parts.split(','));
const dir = resolve(o.from ?? o['out-dir']);
mkdirSync(dir, { recursive: true });
const words = (s) => s.split(/\s+/).filter(Boolean);
const levit = (args, out) => {
  const started = Date.now();
  const r = spawnSync(process.execPath, [join(root, 'bin', 'run.js'), ...args], { stdio: ['ignore', 'pipe', 'inherit'], maxBuffer: 1 << 28 });
  if (![0, 1, 6].includes(r.status)) {
    console.error(`levit ${args.join(' ')} failed (exit ${r.status})`);
    process.exit(1);
  }
  if (out) writeFileSync(out, r.stdout);
  return (Date.now() - started) / 1000;
};
const log = (m) => console.error(`[${new Date().toISOString().slice(11, 19)}] ${m}`);
const saved = (prefix) =>
  readdirSync(dir)
    .filter((f) => f.startsWith(prefix) && f.endsWith('.json'))
    .sort();
const pct = (x) => `${x > 0 ? '+' : ''}${(x * 100).toFixed(1)}%`;
const sections = [];

// --- default runs -----------------------------------------------------------------------------------------
if (parts.has('default')) {
  if (!o.from) {
    const seconds = [];
    for (let i = 0; i < Number(o['default-runs']); i++) {
      log(`default bench ${i + 1}/${o['default-runs']}`);
      const file = join(dir, `default-${String(i).padStart(2, '0')}.json`);
      seconds.push(levit(['bench', '--out', file, ...words(o['bench-args'])]));
    }
    writeFileSync(join(dir, 'default-seconds.txt'), `${seconds.join('\n')}\n`);
  }
  const runs = saved('default-').map((f) => readResults(join(dir, f)));
  const seconds = existsSync(join(dir, 'default-seconds.txt')) ? readFileSync(join(dir, 'default-seconds.txt'), 'utf8').trim().split('\n').map(Number) : [];
  const claims = loadClaims();
  const checks = runs.map((r) => checkClaims(r, claims).filter((c) => c.measured));
  const lines = [
    '| claim (column) | published | ' + runs.map((_, i) => `run ${i + 1}`).join(' | ') + ' |',
    `| --- | ---: | ${runs.map(() => '---').join(' | ')} |`,
  ];
  const consistent = [];
  for (const [k, c] of checks[0].entries()) {
    const same = checks.map((cs) => cs[k]);
    const cells = same.map((s) => `${s.measured.speedup.toFixed(2)}× [${s.measured.low.toFixed(2)}, ${s.measured.high.toFixed(2)}] ${s.verdict}`);
    lines.push(`| ${c.model} vs ${c.than} (${c.column}) | ${c.published?.toFixed(2) ?? 'faster'}× | ${cells.join(' | ')} |`);
    const overlap = same.every((a) => same.every((b) => a.measured.low <= b.measured.high && b.measured.low <= a.measured.high));
    consistent.push({ claim: `${c.model} vs ${c.than} ${c.column}`, verdicts: [...new Set(same.map((s) => s.verdict))], overlap });
  }
  const pairs = [];
  for (let i = 0; i < runs.length; i++) for (let j = i + 1; j < runs.length; j++) pairs.push([runs[i], runs[j]]);
  const scale = (r, f) => ({
    ...r,
    records: r.records.map((x) => ({ ...x, times_ms: x.times_ms.map((t) => t * f), images_per_second: x.images_per_second / f })),
  });
  const rows = new Map();
  for (const [a, b] of pairs) {
    const same = compareResults(a, b, { threshold, alpha });
    const slowed = factors.map((f) => compareResults(a, scale(b, f), { threshold, alpha }));
    for (const c of same.comparisons) {
      const row = rows.get(c.key) ?? { same: {}, detected: factors.map(() => 0), unchangedAtFactor: factors.map(() => 0) };
      row.same[c.verdict] = (row.same[c.verdict] ?? 0) + 1;
      slowed.forEach((s, i) => {
        const v = s.comparisons.find((x) => x.key === c.key)?.verdict;
        if (v === 'regressed') row.detected[i]++;
        if (v === 'unchanged') row.unchangedAtFactor[i]++;
      });
      rows.set(c.key, row);
    }
  }
  const n = pairs.length;
  const fileLines = [
    `| configuration | same commit: unchanged / inconclusive / regressed / improved | ${factors.map((f) => `${f.toFixed(2)}x regressed`).join(' | ')} |`,
    `| --- | --- | ${factors.map(() => '---:').join(' | ')} |`,
    ...[...rows].map(
      ([key, r]) =>
        `| ${key} | ${r.same.unchanged ?? 0} / ${r.same.inconclusive ?? 0} / ${r.same.regressed ?? 0} / ${r.same.improved ?? 0} | ` +
        `${r.detected.map((d, i) => `${d}/${n}${r.unchangedAtFactor[i] ? ` (${r.unchangedAtFactor[i]} unchanged)` : ''}`).join(' | ')} |`,
    ),
  ];
  const check = runs.map((r) => r.machine_check?.matmul_gflops_1thread.toFixed(0) ?? '-').join(', ');
  const rounds = runs.map((r) => `${r.schedule?.rounds} (${r.schedule?.stopped})`).join(', ');
  sections.push(
    `## Default bench, ${runs.length} runs back to back\n\nWall time: ${seconds.map((s) => `${s.toFixed(0)} s`).join(', ') || 'not recorded'}; ` +
      `rounds: ${rounds}; machine check (median over rounds): ${check} GFLOP/s; machine ${runs[0].system.id}.\n\n${lines.join('\n')}\n\n` +
      consistent.map((c) => `- ${c.claim}: verdicts ${c.verdicts.join(' / ')}; intervals ${c.overlap ? 'all overlap' : 'do NOT all overlap'}`).join('\n') +
      `\n\n### Every pair of those runs compared as files (${n} pairs; threshold ${pct(threshold)}, ${Math.round((1 - alpha) * 100)}% interval)\n\n` +
      `${fileLines.join('\n')}\n`,
  );
}

// --- live A/A ---------------------------------------------------------------------------------------------
const liveArgs = ['--model', o.models, '--threads', '1', '--threshold', o['live-threshold'], '--alpha', o.alpha, '--json', ...words(o['live-args'])];
const liveSummary = (files, factor) => {
  const rows = new Map();
  for (const f of files) {
    const report = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    for (const c of report.comparisons) {
      const row = rows.get(c.key) ?? { verdicts: {}, containsNoChange: 0, changes: [], widths: [], rounds: [] };
      // Decided again at this analysis's threshold, so that saved runs can be re-read with another one.
      const { verdict } = verdictOf(c.change_interval[0], c.change_interval[1], liveThreshold, alpha);
      row.verdicts[verdict] = (row.verdicts[verdict] ?? 0) + 1;
      if (c.change_interval[0] <= 0 && c.change_interval[1] >= 0) row.containsNoChange++;
      row.changes.push(c.change);
      row.widths.push((c.change_interval[1] - c.change_interval[0]) / 2);
      row.rounds.push(report.rounds);
      rows.set(c.key, row);
    }
  }
  const med = (xs) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)];
  return [
    `| configuration | runs | regressed | unchanged | inconclusive | improved | interval contains 0 | median change | median half-width | median rounds |`,
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: | ---: |',
    ...[...rows].map(([key, r]) => {
      const v = (k) => r.verdicts[k] ?? 0;
      const counts = [files.length, v('regressed'), v('unchanged'), v('inconclusive'), v('improved'), r.containsNoChange];
      const typical = [pct(med(r.changes)), `${(med(r.widths) * 100).toFixed(1)}%`, med(r.rounds)];
      return `| ${key}${factor ? ` ×${factor}` : ''} | ${[...counts, ...typical].join(' | ')} |`;
    }),
  ].join('\n');
};
if (parts.has('aa')) {
  if (!o.from) {
    for (let i = 0; i < Number(o['aa-runs']); i++) {
      log(`live A/A ${i + 1}/${o['aa-runs']}`);
      levit(['compare', '--self-test', ...liveArgs], join(dir, `aa-${String(i).padStart(2, '0')}.json`));
    }
  }
  const at = `threshold ${pct(liveThreshold)}, ${Math.round((1 - alpha) * 100)}% interval`;
  sections.push(`## Live A/A (\`levit compare --self-test\`), ${saved('aa-').length} runs (${at})\n\n${liveSummary(saved('aa-'))}\n`);
}

// --- live, injected real slowdowns ------------------------------------------------------------------------
/** A checkout whose worker is this one's, except that every ort-cpu batch is followed by (factor - 1) times its own time of busy work. */
function slowCheckout(factor) {
  const at = join(dir, `slow-checkout-${factor}`);
  mkdirSync(join(at, 'bin'), { recursive: true });
  writeFileSync(
    join(at, 'bin', 'run.js'),
    `// Generated by scripts/compare-error-rates.mjs: levit's bench worker, ${factor}x slower by real extra work.
const ort = await import(${JSON.stringify(dist('runtime/ort-node.js'))});
const load = ort.ortCpu.load.bind(ort.ortCpu);
ort.ortCpu.load = async (...args) => {
  const session = await load(...args);
  const run = session.run.bind(session);
  session.run = async (input) => {
    const t0 = performance.now();
    const output = await run(input);
    const extra = (performance.now() - t0) * ${factor - 1};
    const t1 = performance.now();
    let x = 0;
    while (performance.now() - t1 < extra) x += Math.sqrt(x + 1);
    return output;
  };
  return session;
};
const { serveWorker } = await import(${JSON.stringify(dist('worker/server.js'))});
await serveWorker(process.stdin, process.stdout);
`,
  );
  return at;
}
if (parts.has('injected')) {
  const gate = Number(o['gate-factor']);
  if (!o.from) {
    for (const f of factors) {
      const n = f === gate ? Number(o['injected-runs']) : Number(o['other-factor-runs']);
      for (let i = 0; i < n; i++) {
        log(`live, current ${f}x slower by extra work: ${i + 1}/${n}`);
        levit(['compare', root, slowCheckout(f), ...liveArgs], join(dir, `slow-${f.toFixed(2)}-${String(i).padStart(2, '0')}.json`));
      }
    }
  }
  const tables = factors.filter((f) => saved(`slow-${f.toFixed(2)}-`).length).map((f) => liveSummary(saved(`slow-${f.toFixed(2)}-`), f.toFixed(2)));
  const at = `threshold ${pct(liveThreshold)}, ${Math.round((1 - alpha) * 100)}% interval`;
  sections.push(`## Live, this checkout against one whose worker does extra work after every batch (${at})\n\n${tables.join('\n\n')}\n`);
}

const report = sections.join('\n');
writeFileSync(join(dir, 'error-rates.md'), report);
console.log(report);
