import { table } from './format.js';
import type { CompareReport } from '../compare/compare.js';

const pct = (v: number | null) => (v === null ? '-' : `${v > 0 ? '+' : ''}${(v * 100).toFixed(1)}%`);
const ips = (v: number | null) => (v === null ? '-' : v.toFixed(1));
const MARK: Record<string, string> = { regressed: 'REGRESSED', improved: 'improved', unchanged: 'unchanged', missing: 'missing', new: 'new' };

function machineLine(r: CompareReport): string {
  if (r.same_machine) return `Same machine: ${r.current_machine}.`;
  const how = r.normalisation
    ? `current times scaled by the calibration ratio ${r.normalisation.toFixed(3)} (float32 MatMul GFLOP/s) before comparing`
    : 'no calibration in one of the files: raw times compared, which mixes machine and code';
  return `Different machines: baseline ${r.baseline_machine}, current ${r.current_machine}; ${how}.`;
}

function summaryLine(r: CompareReport): string {
  const c = r.counts;
  const counts = `${c.regressed} regressed, ${c.improved} improved, ${c.unchanged} unchanged, ${c.missing} missing, ${c.new} new`;
  return `${counts} (threshold ${(r.threshold * 100).toFixed(1)}% of the median, Mann-Whitney p < ${r.alpha}).`;
}

export function renderCompareTable(r: CompareReport): string {
  const t = table(
    ['configuration', 'baseline img/s', 'current img/s', 'time change', 'p', 'verdict', 'note'],
    ['left', 'right', 'right', 'right', 'right', 'left', 'left'],
  );
  for (const c of r.comparisons) {
    t.push([
      c.key,
      ips(c.baseline_images_per_second),
      ips(c.current_images_per_second),
      pct(c.change),
      c.p_value === null ? '-' : c.p_value.toExponential(1),
      MARK[c.verdict],
      c.note ?? '',
    ]);
  }
  return `${t.toString()}\n${machineLine(r)}\n${summaryLine(r)}`;
}

export function renderCompareMarkdown(r: CompareReport): string {
  const regressed = r.counts.regressed;
  const lines = [
    `### levit compare: ${regressed ? `:x: ${regressed} regression${regressed > 1 ? 's' : ''}` : ':white_check_mark: no regression'}`,
    '',
    '| configuration | baseline img/s | current img/s | time change | p | verdict |',
    '| --- | ---: | ---: | ---: | ---: | --- |',
    ...r.comparisons.map(
      (c) =>
        `| ${c.key} | ${ips(c.baseline_images_per_second)} | ${ips(c.current_images_per_second)} | ${pct(c.change)} ` +
        `| ${c.p_value === null ? '-' : c.p_value.toExponential(1)} | ${c.verdict === 'regressed' ? '**regressed**' : c.verdict} |`,
    ),
    '',
    machineLine(r),
    '',
    summaryLine(r),
  ];
  return `${lines.join('\n')}\n`;
}
