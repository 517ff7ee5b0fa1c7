import type { BenchRecord } from '../results/types.js';
import type { EvalSummary } from '../eval/run-eval.js';
import type { Preprocessing } from '../models/card.js';

/** One CSV field, quoted when it holds a comma, a quote or a line break (RFC 4180). */
export function csvField(v: string | number | null): string {
  const s = v === null ? '' : String(v);
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s;
}

export function csv(head: readonly string[], rows: readonly (string | number | null)[][]): string {
  return `${[head, ...rows].map((r) => r.map(csvField).join(',')).join('\n')}\n`;
}

const round = (x: number, digits: number) => Number(x.toFixed(digits));

/**
 * Eval results with timm validate.py's columns first (model, top1, top1_err, top5, top5_err, param_count in
 * millions, img_size, crop_pct, interpolation), then levit's own.
 */
export function evalCsv(s: EvalSummary, params: number, p: Preprocessing): string {
  const head = ['model', 'top1', 'top1_err', 'top5', 'top5_err', 'param_count', 'img_size', 'crop_pct', 'interpolation', 'backend', 'images', 'unreadable'];
  const row = [s.model, round(s.top1, 3), round(100 - s.top1, 3), round(s.top5, 3), round(100 - s.top5, 3), round(params / 1e6, 2)];
  return csv(head, [[...row, p.resolution, p.crop_pct, p.interpolation, s.backend, s.evaluated, s.failed]]);
}

/**
 * Bench results with timm benchmark.py's inference columns first (model, infer_samples_per_sec,
 * infer_step_time in ms, infer_batch_size, infer_img_size, param_count in millions), then levit's own.
 */
export function benchCsv(records: readonly BenchRecord[]): string {
  const head = ['model', 'infer_samples_per_sec', 'infer_step_time', 'infer_batch_size', 'infer_img_size', 'param_count', 'backend', 'threads', 'precision'];
  const fusion = records.some((r) => r.token_fusion);
  const rows = records.map((r) => [
    r.model,
    round(r.images_per_second, 2),
    round(r.latency_ms.median, 3),
    r.batch,
    r.resolution,
    round(r.params / 1e6, 2),
    r.backend,
    r.threads,
    r.precision,
  ]);
  // A token_fusion column only when a record has one: files without fusion keep their columns.
  return csv(
    [...head, 'latency_mean_ms', 'latency_min_ms', 'latency_max_ms', ...(fusion ? ['token_fusion', 'flops'] : [])],
    rows.map((row, i) => [...row, ...latency(records[i]), ...(fusion ? [records[i].token_fusion ?? 'none', records[i].flops] : [])]),
  );
}

const latency = (r: BenchRecord) => [round(r.latency_ms.mean, 3), round(r.latency_ms.min, 3), round(r.latency_ms.max, 3)];
