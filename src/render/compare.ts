import { fitTable, wrapText } from './fit.js';
import { RERUN_SPREAD } from '../stats/rerun-spread.js';
import type { CompareReport, Comparison } from '../compare/compare.js';
import type { LiveReport } from '../compare/live.js';

const pct = (v: number | null) => (v === null ? '-' : `${v > 0 ? '+' : ''}${(v * 100).toFixed(1)}%`);
const percent = (v: number) => `${+(v * 100).toFixed(1)}%`;
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
  if (r.basis === 'interleaved') return 'both measured in the same interleaved rounds, paired round by round';
  if (r.basis === 'machine-check') return `current times scaled by the machine checks' ratio ${r.machine_check_ratio!.toFixed(3)} (float32 MatMul GFLOP/s)`;
  return r.same_machine ? 'raw batch times' : 'no machine check in one of the files: raw times compared, which mixes machine and code';
}

function machineLine(r: CompareReport): string {
  const live = r as Partial<LiveReport>;
  if (live.baseline_source) {
    const how = `${basisText(r)} (${live.rounds} rounds, ${live.stopped}; ${live.cores})`;
    return `Live: baseline ${live.baseline_source}, current ${live.current_source}; ${how}.`;
  }
  const flags = r.baseline_machine === r.current_machine ? ' (their CPU flags differ)' : '';
  const machines = r.same_machine
    ? `Same machine: ${r.current_machine}`
    : `Different machines: baseline ${r.baseline_machine}, current ${r.current_machine}${flags}`;
  const spread =
    r.run_spread === 'measured'
      ? '; intervals include how far two runs drift apart on a shared host ' +
        `(sd as measured, stats/rerun-spread.ts: ${percent(RERUN_SPREAD.speed.oneThread)} on one thread, ${percent(RERUN_SPREAD.speed.multiThread)} on more, ` +
        "or the machine's own from its earlier runs where larger; --run-spread 0 on a dedicated machine)"
      : r.run_spread
        ? `; intervals include a run-to-run spread (sd) of ${percent(r.run_spread)}`
        : '';
  return `${machines}; compared on ${basisText(r)}${spread}.`;
}

/**
 * The verdict of an A/A self-test (both sides the same code): every interval must contain no change,
 * and the widest one says the smallest change this machine can tell apart at this confidence.
 */
export function selfTestLine(r: CompareReport): { line: string; ok: boolean } {
  const intervals = r.comparisons.filter((c) => c.change_interval).map((c) => ({ key: c.key, i: c.change_interval! }));
  const outside = intervals.filter(({ i }) => i[0] > 0 || i[1] < 0);
  const widest = Math.max(0, ...intervals.map(({ i }) => Math.max(-i[0], i[1])));
  const confidence = Math.round((1 - r.alpha) * 100);
  if (outside.length) {
    const which = outside.map(({ key, i }) => `${key} (${pct(i[0])} to ${pct(i[1])})`).join('; ');
    return { ok: false, line: wrapText(`A/A self-test FAILED: identical sides differed: ${which}. This machine cannot gate changes as measured here.`) };
  }
  const t = (r.threshold * 100).toFixed(1);
  const reach = `the intervals reach ±${(widest * 100).toFixed(1)}%, so a change is decided once it is about that far past the ±${t}% threshold`;
  return { ok: true, line: wrapText(`A/A self-test passed: every ${confidence}% interval contains no change. On this machine, as measured now, ${reach}.`) };
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
  // On a narrow terminal the images/s columns go first, then the note wraps; the verdict and its interval stay.
  const t = fitTable(
    [
      { header: 'configuration', min: 20 },
      { header: 'baseline img/s', short: 'base\nimg/s', align: 'right', drop: 1 },
      { header: 'current img/s', short: 'cur.\nimg/s', align: 'right', drop: 2 },
      { header: 'time change', short: 'change', align: 'right' },
      { header: 'interval', align: 'right', nowrap: true },
      { header: 'verdict', nowrap: true },
      { header: 'note', min: 24, max: 60, drop: 3 },
    ],
    { more: '--json and --markdown have every column' },
  );
  for (const c of r.comparisons) {
    t.push([c.key, ips(c.baseline_images_per_second), ips(c.current_images_per_second), pct(c.change), interval(c), MARK[c.verdict], c.note ?? '']);
  }
  return `${t.toString()}\n${wrapText(machineLine(r))}\n${wrapText(summaryLine(r))}`;
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
