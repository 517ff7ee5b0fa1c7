import type { BenchRecord } from './types.js';

/** The keys that name a record: its configuration, its column and its row in the tables. */

/** The identity of a configuration: records with the same key are the same benchmark. */
export const recordKey = (r: Pick<BenchRecord, 'model' | 'backend' | 'threads' | 'batch' | 'resolution' | 'precision' | 'precision_key' | 'token_fusion'>) =>
  `${r.model} ${r.backend} ${r.threads}t b${r.batch} ${r.resolution}px ${r.precision_key ?? r.precision}${r.token_fusion ? ` ${r.token_fusion}` : ''}`;

/** One measured configuration, the columns of the paper-style table. */
export interface Column {
  key: string;
  backend: string;
  threads: number;
  batch: number;
}

/** Float32 columns keep their plain name; other precisions are named ("ort-cpu 1t b16 int8"). */
export const columnKey = (r: Pick<BenchRecord, 'backend' | 'threads' | 'batch'> & { precision?: BenchRecord['precision'] }) =>
  `${r.backend} ${r.threads}t b${r.batch}${r.precision && r.precision !== 'fp32' ? ` ${r.precision}` : ''}`;

/** A row of the tables: the model, and its token fusion setting when it has one ("deit_small_patch16_224 mctf:16"). */
export const rowKey = (r: Pick<BenchRecord, 'model' | 'token_fusion'>) => (r.token_fusion ? `${r.model} ${r.token_fusion}` : r.model);

export function columnsOf(records: readonly BenchRecord[]): Column[] {
  const seen = new Map<string, Column>();
  for (const r of records) {
    const key = columnKey(r);
    if (!seen.has(key)) seen.set(key, { key, backend: r.backend, threads: r.threads, batch: r.batch });
  }
  return [...seen.values()];
}
