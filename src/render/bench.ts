import { bytes, millions } from './format.js';
import { type Column as FitColumn, fitTable, wrapText } from './fit.js';
import { type Column, columnKey, columnsOf, precisionSpeedUps, rivalFamilies, speedUps } from '../bench/speedups.js';
import { NOT_A_SPEED } from '../bench/emulation.js';
import type { BenchRecord, BenchResults } from '../bench/results.js';
import { familyOf } from '../models/families.js';
import { stddev } from '../bench/stats.js';

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
  /** Reduced precisions against float32, same configuration; empty when only float32 was run. */
  vsFp32: string;
}

/** Time in ms as hyperfine prints it: mean ± σ. */
export const meanSigma = (r: BenchRecord) => `${r.latency_ms.mean.toFixed(2)} ± ${stddev(r.times_ms).toFixed(2)} ms`;

function rows(results: BenchResults): { columns: Column[]; latencyColumns: Column[]; rivals: string[]; rows: Row[]; precisions: boolean } {
  const columns = columnsOf(results.records);
  const rivals = rivalFamilies(results.records);
  const latencyColumns = columns.filter((c) => c.batch === 1);
  const precisionUps = precisionSpeedUps(results.records);
  const models = [...new Set(results.records.map((r) => r.model))];
  // Ratios of emulated times say nothing about the hardware either.
  const measured = results.records.filter((r) => !r.emulated);
  const ups = rivals.map((f) => speedUps(measured, f));
  const body = models.map((model) => {
    const first = results.records.find((r) => r.model === model)!;
    const cell = (c: Column) => results.records.find((r) => r.model === model && columnKey(r) === c.key);
    return {
      model: first.weights?.startsWith('external-') ? `${model} (external ONNX)` : model,
      top1: first.published_top1?.toFixed(1) ?? '-',
      params: millions(first.params, 1),
      flops: millions(first.flops, 0),
      ips: columns.map((c) => {
        const r = cell(c);
        return r
          ? `${r.images_per_second.toFixed(1)} ±${(r.spread.relative_iqr * 50).toFixed(0)}%${r.emulated ? ' emulated' : ''}${r.stability?.unstable ? ' !' : ''}`
          : '-';
      }),
      latency: latencyColumns.map((c) => {
        const r = cell(c);
        return r ? meanSigma(r) : '-';
      }),
      vs: ups.map((list) => {
        const mine = list.filter((u) => u.model === model);
        return mine.length ? `${mine.map((u) => `${u.speedup.toFixed(1)}×`).join(' / ')} (${mine[0].against})` : '';
      }),
      vsFp32: precisionUps
        .filter((u) => u.model === model)
        .map((u) => `${u.precision} ${u.speedup.toFixed(2)}×`)
        .join(' / '),
    };
  });
  return { columns, latencyColumns, rivals, rows: body, precisions: results.records.some((r) => r.precision !== 'fp32') };
}

const weightsNote = (records: readonly BenchRecord[]) =>
  records.some((r) => r.weights_kind === 'synthetic') ? 'Weights: synthetic (untrained); speed does not depend on weight values. ' : '';

const latencyNote = (records: readonly BenchRecord[]) => (records.some((r) => r.batch === 1) ? ' Latency (batch 1): mean ± σ of the batch time.' : '');

/** Several machines' results (levit report) carry no single system to quote the evidence of. */
function emulationNote(results: BenchResults, merged: boolean): string[] {
  if (!results.records.some((r) => r.emulated)) return [];
  const how = merged ? undefined : results.system.emulation?.evidence.join('; ');
  return [`Emulated${how ? ` (${how})` : ''}: times marked emulated are ${NOT_A_SPEED}; --record and --save-baseline refuse them.`];
}

function footer(results: BenchResults, machines?: string): string {
  const cal = results.calibration;
  const machine =
    machines ??
    `Machine: ${results.system.id}; ${results.system.cpu.flags.join(' ') || 'no SIMD flags reported'}` +
      `${cal ? `; calibration ${cal.matmul_gflops_1thread.toFixed(1)} GFLOP/s (float32 MatMul, 1 thread)` : ''}.`;
  const flagged = results.records.filter((r) => r.stability?.unstable).length;
  const records = `${flagged} record${flagged > 1 ? 's' : ''}`;
  const busy = `! = taken while the machine was busy or changing speed (${records}; see "stability" in the JSON): not to be trusted.`;
  return [
    ...(results.warnings ?? []).map((w) => `Warning: ${w}.`),
    ...(flagged ? [busy] : []),
    `${weightsNote(results.records)}Images/s from the median batch time; ± is half the relative interquartile range.${latencyNote(results.records)}`,
    "Speed-up: against the model of that family with the nearest published top-1 at or above LeViT's, same column" +
      `${results.records.length ? ' (columns in the order shown, separated by /)' : ''}.`,
    ...(results.records.some((r) => r.precision !== 'fp32') ? ['vs fp32: each reduced precision against float32 in the same backend, threads and batch.'] : []),
    machine,
    ...emulationNote(results, machines !== undefined),
  ].join('\n');
}

/** The paper-style comparison table for a terminal. */
export function renderTable(results: BenchResults, machines?: string): string {
  const { columns, latencyColumns, rivals, rows: body, precisions } = rows(results);
  // On a narrow terminal the speed-up columns go first, then params, FLOPs, latency and top-1; images/s always stay.
  const t = fitTable(
    [
      { header: 'model', nowrap: true },
      { header: 'top-1', align: 'right', drop: 6 },
      { header: 'params', align: 'right', drop: 3 },
      { header: 'FLOPs', align: 'right', drop: 4 },
      ...columns.map((c): FitColumn => ({ header: `${c.key}\nimages/s`, align: 'right' })),
      ...latencyColumns.map((c): FitColumn => ({ header: `${c.key}\nlatency`, align: 'right', drop: 5 })),
      ...rivals.map((f): FitColumn => ({ header: rivalHead(f), drop: 1, min: 16 })),
      ...(precisions ? [{ header: 'vs fp32', drop: 2 }] : []),
    ],
    { more: '--markdown and --json have every column' },
  );
  for (const r of body) t.push([r.model, r.top1, r.params, r.flops, ...r.ips, ...r.latency, ...r.vs, ...(precisions ? [r.vsFp32] : [])]);
  return `${t.toString()}\n${wrapText(footer(results, machines))}`;
}

export function renderMarkdown(results: BenchResults, machines?: string): string {
  const { columns, latencyColumns, rivals, rows: body, precisions } = rows(results);
  const numeric = 4 + columns.length + latencyColumns.length;
  const head = [
    'model',
    'top-1',
    'params',
    'FLOPs',
    ...columns.map((c) => `${c.key} img/s`),
    ...latencyColumns.map((c) => `${c.key} latency`),
    ...rivals.map(rivalHead),
    ...(precisions ? ['vs fp32'] : []),
  ];
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 || i >= numeric ? ' --- ' : ' ---: ')).join('|')}|`,
    ...body.map((r) => `| ${[r.model, r.top1, r.params, r.flops, ...r.ips, ...r.latency, ...r.vs, ...(precisions ? [r.vsFp32] : [])].join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n\n${footer(results, machines).split('\n').join('  \n')}\n`;
}

/** One line per configuration, as it finishes. */
export function renderRecordLine(r: BenchRecord): string {
  const l = r.latency_ms;
  const time = `time (mean ± σ) ${meanSigma(r)}  range (min … max) ${l.min.toFixed(2)} … ${l.max.toFixed(2)} ms`;
  const runs = `${r.iterations} runs, IQR ±${(r.spread.relative_iqr * 50).toFixed(1)}%, RSS ${bytes(r.peak_rss_bytes)}`;
  const rest = `median ${l.median.toFixed(1)} ms  p90 ${l.p90.toFixed(1)} ms  (${runs})`;
  const emulatedTag = r.emulated ? `  emulated: ${NOT_A_SPEED}` : '';
  const busyTag = r.stability?.unstable ? `  BUSY: ${r.stability.unstable}` : '';
  return `${r.model.padEnd(22)} ${columnKey(r).padEnd(18)} ${r.images_per_second.toFixed(1).padStart(8)} images/s  ${time}  ${rest}${emulatedTag}${busyTag}`;
}
