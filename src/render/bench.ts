import { bytes, millions } from './format.js';
import { type Column as FitColumn, fitTable, wrapText } from './fit.js';
import { SUBJECT, type SpeedUp, fusionSpeedUps, precisionSpeedUps, rivalFamilies, speedUps } from '../stats/speedups.js';
import { type Column, columnKey, columnsOf, rowKey } from '../results/keys.js';
import { NOT_A_SPEED } from '../results/emulation.js';
import type { BenchRecord, BenchResults, Schedule } from '../results/types.js';
import { type MergedReport, machinesLegend } from '../results/merge-machines.js';
import { familyOf } from '../models/families.js';
import { stddev } from '../stats/summary.js';
import { medianInterval, seriesOf } from '../stats/paired-intervals.js';
import { RECORD_CONFIDENCE } from '../results/types.js';
import { rerunSpread, zOf } from '../stats/rerun-spread.js';
import { machineId } from '../results/machine-id.js';

/** levit bench's one file, or levit report's several side by side. */
type Source = BenchResults | MergedReport;
const isMerged = (source: Source): source is MergedReport => 'merged' in source;
const resultsOf = (source: Source) => (isMerged(source) ? source.merged : source);

/**
 * The files whose numbers a comparison column holds: levit report gives each file its own
 * ("m1 vs EfficientNet"), over that file's columns only; levit bench has one, unlabelled.
 */
const labelsOf = (source: Source): (string | undefined)[] => (isMerged(source) ? source.machines.map((m) => m.label) : [undefined]);
const ofLabel = (label: string | undefined, column: string) => label === undefined || column.startsWith(`${label} `);
const labelled = (label: string | undefined, head: string) => (label === undefined ? head : `${label} ${head}`);

const rivalHead = (family: string) => `vs ${familyOf(family)?.label ?? family}`;

interface Row {
  model: string;
  top1: string;
  params: string;
  flops: string;
  ips: string[];
  /** Latency of the batch-1 columns, mean ± σ. */
  latency: string[];
  vs: string[];
  /** Reduced precisions against float32, then token fusion rows against the plain model, same configuration: one cell per extra column. */
  extras: string[];
}

type Extra = { kind: 'vs fp32' | 'vs plain'; label?: string };

/** Time in ms as hyperfine prints it: mean ± σ. */
export const meanSigma = (r: BenchRecord) => `${r.latency_ms.mean.toFixed(2)} ± ${stddev(r.times_ms).toFixed(2)} ms`;

/** images/s's 95% interval: from the record (schema 3), or resampled from its batches (older files: one batch a round). */
export function ipsInterval(r: BenchRecord): [number, number] {
  if (r.images_per_second_ci95) return r.images_per_second_ci95;
  const m = medianInterval(seriesOf(r), RECORD_CONFIDENCE);
  return [(r.batch * 1000) / m.high, (r.batch * 1000) / m.low];
}

/** "117.9 ±1.4%": the half-width of the 95% interval, relative. */
const ipsCell = (r: BenchRecord) => {
  const [low, high] = ipsInterval(r);
  return `${r.images_per_second.toFixed(1)} ±${((50 * (high - low)) / r.images_per_second).toFixed(1)}%`;
};

/** "2.53× [2.49, 2.58]" */
const upCell = (u: { speedup: number; low: number; high: number }, digits: number) =>
  `${u.speedup.toFixed(digits)}× [${u.low.toFixed(digits)}, ${u.high.toFixed(digits)}]`;

const variantCell = (ups: { row: string; column: string; variant: string; speedup: number; low: number; high: number }[], row: string, label?: string) =>
  ups
    .filter((u) => u.row === row && ofLabel(label, u.column))
    .map((u) => `${u.variant} ${upCell(u, 2)}`)
    .join(' / ');

/**
 * The rival families that have a match at equal or better accuracy for some LeViT of the run, with
 * LeViT's speed-ups over them; a family with none gets no column (the footer says so). Matches are
 * found over all records, so that emulated ones (whose ratios are not shown) do not pass for a lack of match.
 */
function matchedRivals(records: readonly BenchRecord[]): { families: string[]; ups: Map<string, SpeedUp[]>; unmatched: string[] } {
  // Ratios of emulated times say nothing about the hardware either.
  const measured = records.filter((r) => !r.emulated);
  const rivals = rivalFamilies(records);
  const matched = new Set(rivals.filter((family) => speedUps(records, family).length > 0));
  const subjects = records.some((r) => r.family === SUBJECT);
  return {
    families: rivals.filter((f) => matched.has(f)),
    ups: new Map(rivals.map((family) => [family, speedUps(measured, family)])),
    unmatched: subjects ? rivals.filter((f) => !matched.has(f)) : [],
  };
}

const unmatchedNote = (families: readonly string[]) => {
  if (families.length === 0) return '';
  const names = families.map((f) => familyOf(f)?.label ?? f).join(' or ');
  return (
    ` No ${families.map(rivalHead).join(' or ')} column: no ${names} model of this run has a published top-1 at or above a LeViT's` +
    ' in a configuration both ran.'
  );
};

function rows(source: Source): { columns: Column[]; latencyColumns: Column[]; rivals: { family: string; label?: string }[]; rows: Row[]; extras: Extra[] } {
  const results = resultsOf(source);
  const labels = labelsOf(source);
  const columns = columnsOf(results.records);
  const matched = matchedRivals(results.records);
  const rivals = matched.families.flatMap((family) => labels.map((label) => ({ family, label })));
  const latencyColumns = columns.filter((c) => c.batch === 1);
  const precisionUps = precisionSpeedUps(results.records);
  const fusionUps = fusionSpeedUps(results.records);
  const keys = [...new Set(results.records.map(rowKey))];
  const ups = rivals.map((f) => matched.ups.get(f.family)!.filter((u) => ofLabel(f.label, u.column)));
  const extras: Extra[] = [
    ...(results.records.some((r) => r.precision !== 'fp32') ? ['vs fp32' as const] : []),
    ...(results.records.some((r) => r.token_fusion) ? ['vs plain' as const] : []),
  ].flatMap((kind) => labels.map((label) => ({ kind, label })));
  const body = keys.map((key) => {
    const first = results.records.find((r) => rowKey(r) === key)!;
    const { model } = first;
    const cell = (c: Column) => results.records.find((r) => rowKey(r) === key && columnKey(r) === c.key);
    const top1 = first.published_top1?.toFixed(1);
    return {
      model: first.weights?.startsWith('external-') ? `${key} (external ONNX)` : key,
      // A fused model's accuracy is not the published one: the plain model's, in parentheses.
      top1: top1 === undefined ? '-' : first.token_fusion ? `(${top1})` : top1,
      params: millions(first.params, 1),
      flops: millions(first.flops, 0),
      ips: columns.map((c) => {
        const r = cell(c);
        return r ? `${ipsCell(r)}${r.emulated ? ' emulated' : ''}` : '-';
      }),
      latency: latencyColumns.map((c) => {
        const r = cell(c);
        return r ? meanSigma(r) : '-';
      }),
      vs: ups.map((list) => {
        const mine = first.token_fusion ? [] : list.filter((u) => u.model === model);
        return mine.length ? `${mine.map((u) => upCell(u, 2)).join(' / ')} (${mine[0].against})` : '';
      }),
      extras: extras.map((e) => variantCell(e.kind === 'vs fp32' ? precisionUps : fusionUps, key, e.label)),
    };
  });
  return { columns, latencyColumns, rivals, rows: body, extras };
}

const weightsNote = (records: readonly BenchRecord[]) =>
  records.some((r) => r.weights_kind === 'synthetic') ? 'Weights: synthetic (untrained); speed does not depend on weight values. ' : '';

const SERIAL = 'timed one configuration after another: nothing paired';
const SERIAL_FIGURES = 'images/s from the median batch time; ± is half its 95% interval';
const ROUNDS_FIGURES = 'images/s from the median over rounds; ± is half its 95% interval, from resampling whole rounds; speed-ups are paired round by round.';
const capital = (text: string) => text.charAt(0).toUpperCase() + text.slice(1);

const percent = (sd: number) => `${(sd * 100).toFixed(1)}%`;
const range = (xs: readonly number[], f: (x: number) => string) => {
  const [lo, hi] = [Math.min(...xs), Math.max(...xs)];
  return f(lo) === f(hi) ? f(lo) : `${f(lo)} to ${f(hi)}`;
};

/**
 * What the intervals include beyond the rounds: this machine's spread between runs where its history
 * knows it, else nothing for images/s (said plainly, with how to measure it); for speed-ups, at least
 * the spread measured on levit's shared VM (stats/speedups.ts). Files written before between_runs: as they were.
 */
function betweenRunsNote(records: readonly BenchRecord[]): string {
  const timed = records.filter((r) => r.rounds && !r.emulated);
  if (timed.length === 0) return '';
  const told = timed.filter((r) => r.between_runs);
  if (told.length === 0) return ' Both intervals include how far a figure was measured to move between runs on a shared host (src/stats/rerun-spread.ts).';
  const known = told.filter((r) => r.between_runs!.speed !== null);
  const unknown = told.length - known.length;
  const notes: string[] = [];
  if (known.length) {
    const sds = known.map((r) => r.between_runs!.speed!);
    const runs = known.map((r) => r.between_runs!.runs);
    const which = unknown ? `${known.length} configuration${known.length > 1 ? 's' : ''}: ` : '';
    notes.push(`Images/s intervals include the between-run spread on this machine: ${which}±${range(sds, percent)} (sd, from ${range(runs, String)} runs).`);
  }
  if (unknown) {
    const whose = known.length ? `The images/s intervals of the other ${unknown}` : 'Images/s intervals';
    notes.push(
      `${whose} are this run's own rounds': reruns on a shared host may move more. To measure how much, bench the same configurations ` +
        "3 times: levit keeps each run's figures (in its cache) and from then on includes this machine's spread between runs.",
    );
  }
  const [one, more] = [rerunSpread('speedUp', 1), rerunSpread('speedUp', 2)].map((sd) => `±${Math.round((Math.exp(zOf(0.95) * sd) - 1) * 100)}%`);
  notes.push(
    `Speed-ups' intervals include how far such a ratio moved between runs on levit's shared VM (${one} on one thread, ${more} on more; ` +
      "src/stats/rerun-spread.ts), or this machine's own where larger.",
  );
  return ` ${notes.join(' ')}`;
}

function inRounds(s: Schedule): string {
  const groups = s.groups > 1 ? ` in ${s.groups} groups (memory)` : '';
  const memory = `peak memory ${bytes(s.peak_rss_bytes)} of a ${bytes(s.memory_budget_bytes)} budget`;
  return `measured in ${s.rounds} interleaved rounds${groups} (every configuration once a round, in random order; ${memory})`;
}

/**
 * How the figures were measured: interleaved rounds (schema 3) or one configuration after another
 * (older files); for levit report, each file's own run.
 */
function roundsNote(source: Source): string {
  const spread = betweenRunsNote(resultsOf(source).records);
  if (!isMerged(source)) {
    const s = source.schedule;
    return s ? `${capital(inRounds(s))}. ${capital(ROUNDS_FIGURES)}${spread}` : `${capital(SERIAL_FIGURES)} (${SERIAL}).`;
  }
  const each = source.machines.map((m) => `${m.label}: ${m.schedule ? inRounds(m.schedule) : SERIAL}.`).join(' ');
  const rounds = source.machines.filter((m) => m.schedule).length;
  if (rounds === source.machines.length) return `${each} ${capital(ROUNDS_FIGURES)}${spread}`;
  if (rounds === 0) return `${each} ${capital(SERIAL_FIGURES)}.`;
  return `${each} In rounds: ${ROUNDS_FIGURES}${spread} One after another: ${SERIAL_FIGURES}.`;
}

/** Warnings and an interrupted run, of the one file or of each file (levit report, by label). */
function runNotes(source: Source): string[] {
  const runs = isMerged(source) ? source.machines : [{ ...source, label: undefined }];
  return runs.flatMap((r) => {
    const of = r.label === undefined ? '' : ` (${r.label})`;
    return [
      ...(r.warnings ?? []).map((w) => `Warning${of}: ${w}.`),
      ...(r.interrupted ? [`Interrupted${of}: these records hold the rounds finished before Ctrl-C.`] : []),
    ];
  });
}

const latencyNote = (records: readonly BenchRecord[]) => (records.some((r) => r.batch === 1) ? ' Latency (batch 1): mean ± σ of the batch time.' : '');

/** Several machines' results (levit report) carry no single system to quote the evidence of. */
function emulationNote(results: BenchResults, merged: boolean): string[] {
  if (!results.records.some((r) => r.emulated)) return [];
  const how = merged ? undefined : results.system.emulation?.evidence.join('; ');
  return [`Emulated${how ? ` (${how})` : ''}: times marked emulated are ${NOT_A_SPEED}; --record and --save-baseline refuse them.`];
}

function footer(source: Source): string {
  const results = resultsOf(source);
  const merged = isMerged(source);
  const check = results.machine_check;
  const machine = merged
    ? `Machines: ${machinesLegend(source)}.`
    : `Machine: ${machineId(results.system)}; ${results.system.cpu.flags.join(' ') || 'no SIMD flags reported'}` +
      `${check ? `; machine check ${check.matmul_gflops_1thread.toFixed(1)} GFLOP/s (float32 MatMul, 1 thread)` : ''}.`;
  const order = merged ? 'in mN vs …, the columns of file mN in the order shown, separated by /' : 'columns in the order shown, separated by /';
  return [
    ...runNotes(source),
    `${weightsNote(results.records)}${roundsNote(source)}${latencyNote(results.records)}`,
    "Speed-up: against the model of that family with the nearest published top-1 at or above LeViT's, same column" +
      `${results.records.length ? ` (${order})` : ''}, with its 95% interval.` +
      unmatchedNote(matchedRivals(results.records).unmatched),
    ...(results.records.some((r) => r.precision !== 'fp32') ? ['vs fp32: each reduced precision against float32 in the same backend, threads and batch.'] : []),
    ...(results.records.some((r) => r.token_fusion)
      ? [
          'Rows with a token fusion setting (e.g. mctf:16): the model with training-free token fusion, its FLOPs as levit counts them; ' +
            "vs plain: its speed-up over the plain model in the same backend, threads and batch. (top-1) is the plain model's published figure: " +
            'fusion changes accuracy, which levit eval --token-fusion measures.',
        ]
      : []),
    machine,
    ...emulationNote(results, merged),
  ].join('\n');
}

/** The paper-style comparison table for a terminal: levit bench's results, or levit report's files side by side. */
export function renderTable(source: Source): string {
  const { columns, latencyColumns, rivals, rows: body, extras: extra } = rows(source);
  // On a narrow terminal the speed-up columns go first, then params, FLOPs, latency and top-1; images/s always stay.
  const t = fitTable(
    [
      { header: 'model', nowrap: true },
      { header: 'top-1', align: 'right', drop: 6 },
      { header: 'params', align: 'right', drop: 3 },
      { header: 'FLOPs', align: 'right', drop: 4 },
      ...columns.map((c): FitColumn => ({ header: `${c.key}\nimages/s`, align: 'right' })),
      ...latencyColumns.map((c): FitColumn => ({ header: `${c.key}\nlatency`, align: 'right', drop: 5 })),
      ...rivals.map((f): FitColumn => ({ header: labelled(f.label, rivalHead(f.family)), drop: 1, min: 16 })),
      ...extra.map((e): FitColumn => ({ header: labelled(e.label, e.kind), drop: 2 })),
    ],
    { more: '--markdown and --json have every column' },
  );
  for (const r of body) t.push([r.model, r.top1, r.params, r.flops, ...r.ips, ...r.latency, ...r.vs, ...r.extras]);
  return `${t.toString()}\n${wrapText(footer(source))}`;
}

export function renderMarkdown(source: Source): string {
  const { columns, latencyColumns, rivals, rows: body, extras } = rows(source);
  const numeric = 4 + columns.length + latencyColumns.length;
  const head = [
    'model',
    'top-1',
    'params',
    'FLOPs',
    ...columns.map((c) => `${c.key} img/s`),
    ...latencyColumns.map((c) => `${c.key} latency`),
    ...rivals.map((f) => labelled(f.label, rivalHead(f.family))),
    ...extras.map((e) => labelled(e.label, e.kind)),
  ];
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 || i >= numeric ? ' --- ' : ' ---: ')).join('|')}|`,
    ...body.map((r) => `| ${[r.model, r.top1, r.params, r.flops, ...r.ips, ...r.latency, ...r.vs, ...r.extras].join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n\n${footer(source).split('\n').join('  \n')}\n`;
}

/** One configuration in two short lines (a terminal's 80 columns): its figure with its interval, then its batches. */
export function renderRecordLine(r: BenchRecord): string {
  const l = r.latency_ms;
  const [low, high] = ipsInterval(r);
  const share = r.matmul_share ? `, ${(r.matmul_share.value * 100).toFixed(0)}% of the MatMul's GFLOP/s` : '';
  const head = `${rowKey(r)} ${columnKey(r)}: ${r.images_per_second.toFixed(1)} images/s [${low.toFixed(1)}, ${high.toFixed(1)}]${share}`;
  const rounds = r.rounds ? `${new Set(r.rounds).size} rounds × ${r.slice_batches}` : `${r.iterations}`;
  const range = `range (min … max) ${l.min.toFixed(2)} … ${l.max.toFixed(2)} ms`;
  const time = `  time (mean ± σ) ${meanSigma(r)}, ${range}; ${rounds} batches; RSS ${bytes(r.peak_rss_bytes)}`;
  return `${head}${r.emulated ? `; emulated: ${NOT_A_SPEED}` : ''}\n${time}`;
}
