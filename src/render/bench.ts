import { bytes, millions, table } from './format.js';
import { type Column, columnKey, columnsOf, rivalFamilies, speedUps } from '../bench/speedups.js';
import type { BenchRecord, BenchResults } from '../bench/results.js';
import { familyOf } from '../models/families.js';

const rivalHead = (family: string) => `vs ${familyOf(family)?.label ?? family}`;

interface Row {
  model: string;
  top1: string;
  params: string;
  flops: string;
  ips: string[];
  vs: string[];
}

function rows(results: BenchResults): { columns: Column[]; rivals: string[]; rows: Row[] } {
  const columns = columnsOf(results.records);
  const rivals = rivalFamilies(results.records);
  const models = [...new Set(results.records.map((r) => r.model))];
  const ups = rivals.map((f) => speedUps(results.records, f));
  const body = models.map((model) => {
    const first = results.records.find((r) => r.model === model)!;
    const cell = (c: Column) => results.records.find((r) => r.model === model && columnKey(r) === c.key);
    return {
      model,
      top1: first.published_top1?.toFixed(1) ?? '-',
      params: millions(first.params, 1),
      flops: millions(first.flops, 0),
      ips: columns.map((c) => {
        const r = cell(c);
        return r ? `${r.images_per_second.toFixed(1)} ±${(r.spread.relative_iqr * 50).toFixed(0)}%` : '-';
      }),
      vs: ups.map((list) => {
        const mine = list.filter((u) => u.model === model);
        return mine.length ? `${mine.map((u) => `${u.speedup.toFixed(1)}×`).join(' / ')} (${mine[0].against})` : '';
      }),
    };
  });
  return { columns, rivals, rows: body };
}

const weightsNote = (records: readonly BenchRecord[]) =>
  records.some((r) => r.weights_kind === 'synthetic') ? 'Weights: synthetic (untrained); speed does not depend on weight values. ' : '';

function footer(results: BenchResults, machines?: string): string {
  const cal = results.calibration;
  const machine = machines ?? `Machine: ${results.system.id}; ${results.system.cpu.flags.join(' ') || 'no SIMD flags reported'}${cal ? `; calibration ${cal.matmul_gflops_1thread.toFixed(1)} GFLOP/s (float32 MatMul, 1 thread)` : ''}.`;
  return [
    `${weightsNote(results.records)}Images/s from the median batch time; ± is half the relative interquartile range.`,
    `Speed-up: against the model of that family with the nearest published top-1 at or above LeViT's, same column${results.records.length ? ' (columns in the order shown, separated by /)' : ''}.`,
    machine,
  ].join('\n');
}

/** The paper-style comparison table for a terminal. */
export function renderTable(results: BenchResults, machines?: string): string {
  const { columns, rivals, rows: body } = rows(results);
  const t = table(
    ['model', 'top-1', 'params', 'FLOPs', ...columns.map((c) => `${c.key}\nimages/s`), ...rivals.map(rivalHead)],
    ['left', 'right', 'right', 'right', ...columns.map(() => 'right' as const), ...rivals.map(() => 'left' as const)],
  );
  for (const r of body) t.push([r.model, r.top1, r.params, r.flops, ...r.ips, ...r.vs]);
  return `${t.toString()}\n${footer(results, machines)}`;
}

export function renderMarkdown(results: BenchResults, machines?: string): string {
  const { columns, rivals, rows: body } = rows(results);
  const head = ['model', 'top-1', 'params', 'FLOPs', ...columns.map((c) => `${c.key} img/s`), ...rivals.map(rivalHead)];
  const lines = [
    `| ${head.join(' | ')} |`,
    `|${head.map((_, i) => (i === 0 || i >= head.length - rivals.length ? ' --- ' : ' ---: ')).join('|')}|`,
    ...body.map((r) => `| ${[r.model, r.top1, r.params, r.flops, ...r.ips, ...r.vs].join(' | ')} |`),
  ];
  return `${lines.join('\n')}\n\n${footer(results, machines).split('\n').join('  \n')}\n`;
}

/** One line per configuration, as it finishes. */
export function renderRecordLine(r: BenchRecord): string {
  return `${r.model.padEnd(22)} ${columnKey(r).padEnd(18)} ${r.images_per_second.toFixed(1).padStart(8)} images/s  median ${r.latency_ms.median.toFixed(1)} ms  p90 ${r.latency_ms.p90.toFixed(1)} ms  (${r.iterations} runs, IQR ±${(r.spread.relative_iqr * 50).toFixed(1)}%, RSS ${bytes(r.peak_rss_bytes)})`;
}
