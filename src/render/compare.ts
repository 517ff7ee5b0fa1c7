import { table } from './format.js';
import type { CompareReport, Comparison } from '../compare/compare.js';

const pct = (v: number | null) => (v === null ? '-' : `${v > 0 ? '+' : ''}${(v * 100).toFixed(1)}%`);
const ips = (v: number | null) => (v === null ? '-' : v.toFixed(1));
const interval = (c: Comparison) => (c.change_interval ? `${pct(c.change_interval[0])} to ${pct(c.change_interval[1])}` : '-');
const MARK: Record<string, string> = {
  regressed: 'REGRESSED',
  improved: 'improved',
  unchanged: 'unchanged',
  inconclusive: 'INCONCLUSIVE',
  missing: 'missing',
  new: 'new',
  emulated: 'emulated',
};

function basisText(r: CompareReport): string {
  if (r.basis === 'calibration-rounds') return "each round's batch time divided by the calibration MatMul's time in the same round, on both sides";
  if (r.basis === 'calibration-run') return `current times scaled by the calibration ratio ${r.normalisation!.toFixed(3)} (float32 MatMul GFLOP/s)`;
  return r.same_machine ? 'raw batch times' : 'no calibration in one of the files: raw times compared, which mixes machine and code';
}

function machineLine(r: CompareReport): string {
  const machines = r.same_machine ? `Same machine: ${r.current_machine}` : `Different machines: baseline ${r.baseline_machine}, current ${r.current_machine}`;
  return `${machines}; compared on ${basisText(r)}.`;
}

function summaryLine(r: CompareReport): string {
  const c = r.counts;
  const emulated = c.emulated ? `, ${c.emulated} not compared (emulated: no speed figure)` : '';
  const confidence = Math.round((1 - r.alpha) * 100);
  return (
    `${c.regressed} regressed, ${c.improved} improved, ${c.unchanged} unchanged, ${c.inconclusive} inconclusive, ` +
    `${c.missing} missing, ${c.new} new${emulated} ` +
    `(threshold ${(r.threshold * 100).toFixed(1)}% of the median batch time, decided on its ${confidence}% interval).`
  );
}

export function renderCompareTable(r: CompareReport): string {
  const t = table(
    ['configuration', 'baseline img/s', 'current img/s', 'time change', 'interval', 'verdict', 'note'],
    ['left', 'right', 'right', 'right', 'right', 'left', 'left'],
    [null, null, null, null, null, null, 60],
  );
  for (const c of r.comparisons) {
    t.push([c.key, ips(c.baseline_images_per_second), ips(c.current_images_per_second), pct(c.change), interval(c), MARK[c.verdict], c.note ?? '']);
  }
  return `${t.toString()}\n${machineLine(r)}\n${summaryLine(r)}`;
}

function headline(r: CompareReport): string {
  if (r.counts.regressed) return `:x: ${r.counts.regressed} regression${r.counts.regressed > 1 ? 's' : ''}`;
  if (r.counts.inconclusive) return `:warning: ${r.counts.inconclusive} inconclusive`;
  return ':white_check_mark: no regression';
}

export function renderCompareMarkdown(r: CompareReport): string {
  const strong = (c: Comparison) => (c.verdict === 'regressed' || c.verdict === 'inconclusive' ? `**${c.verdict}**` : c.verdict);
  const lines = [
    `### levit compare: ${headline(r)}`,
    '',
    '| configuration | baseline img/s | current img/s | time change | interval | verdict | note |',
    '| --- | ---: | ---: | ---: | ---: | --- | --- |',
    ...r.comparisons.map(
      (c) =>
        `| ${c.key} | ${ips(c.baseline_images_per_second)} | ${ips(c.current_images_per_second)} | ${pct(c.change)} | ${interval(c)} ` +
        `| ${strong(c)} | ${c.note ?? ''} |`,
    ),
    '',
    machineLine(r),
    '',
    summaryLine(r),
  ];
  return `${lines.join('\n')}\n`;
}
