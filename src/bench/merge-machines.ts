import { columnsOf } from './speedups.js';
import type { BenchResults } from './results.js';

export interface MergedReport {
  /** All records, each configuration prefixed with its machine's label (m1, m2, ...). */
  merged: BenchResults;
  machines: { label: string; id: string; calibration_gflops: number | null; arch: string; files: string[] }[];
}

/** Puts results from several machines side by side: one column per machine and configuration. */
export function mergeResults(files: { file: string; results: BenchResults }[]): MergedReport {
  const machines: MergedReport['machines'] = [];
  const records = files.flatMap(({ file, results }) => {
    let m = machines.find((x) => x.id === results.system.id);
    if (!m) {
      m = {
        label: `m${machines.length + 1}`,
        id: results.system.id,
        calibration_gflops: results.calibration?.matmul_gflops_1thread ?? null,
        arch: results.system.os.arch,
        files: [],
      };
      machines.push(m);
    }
    m.files.push(file);
    const label = m.label;
    return results.records.map((r) => ({ ...r, backend: `${label} ${r.backend}` }));
  });
  return { merged: { ...files[0].results, records }, machines };
}

export function machinesLegend(report: MergedReport): string {
  return report.machines
    .map((m) => `${m.label} = ${m.id}${m.calibration_gflops ? ` (calibration ${m.calibration_gflops.toFixed(1)} GFLOP/s)` : ''}`)
    .join('; ');
}

/** For the plot: each machine's first configuration. */
export function firstColumnPerMachine(report: MergedReport) {
  const cols = columnsOf(report.merged.records);
  return report.machines.map((m) => cols.find((c) => c.backend.startsWith(`${m.label} `))!).filter(Boolean);
}
