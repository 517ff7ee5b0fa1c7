import { columnsOf } from './keys.js';
import type { BenchResults, Schedule } from './types.js';
import { machineId } from './machine-id.js';

export interface MergedReport {
  /**
   * All records, each configuration prefixed with its run's label (m1, m2, ...), under the first
   * file's header; what differs by file (schedule, warnings, interrupted) is in machines instead.
   */
  merged: BenchResults;
  /** One entry per results file: two runs of one machine stay two columns, never mixed. */
  machines: {
    label: string;
    id: string;
    machine_check_gflops: number | null;
    arch: string;
    files: string[];
    /** How that file's rounds ran (absent: timed one configuration after another). */
    schedule?: Schedule;
    warnings?: string[];
    interrupted?: boolean;
  }[];
}

/** Puts results from several machines (or runs) side by side: one column per file and configuration. */
export function mergeResults(files: { file: string; results: BenchResults }[]): MergedReport {
  const machines: MergedReport['machines'] = [];
  const records = files.flatMap(({ file, results }) => {
    const label = `m${machines.length + 1}`;
    machines.push({
      label,
      id: machineId(results.system),
      machine_check_gflops: results.machine_check?.matmul_gflops_1thread ?? null,
      arch: results.system.os.arch,
      files: [file],
      schedule: results.schedule,
      warnings: results.warnings,
      interrupted: results.interrupted,
    });
    return results.records.map((r) => ({ ...r, backend: `${label} ${r.backend}` }));
  });
  const merged = { ...files[0].results, schedule: undefined, warnings: undefined, interrupted: undefined, records };
  return { merged, machines };
}

const sameMachineTwice = (report: MergedReport, id: string) => report.machines.filter((m) => m.id === id).length > 1;

export function machinesLegend(report: MergedReport): string {
  return report.machines
    .map((m) => {
      const check = m.machine_check_gflops ? ` (machine check ${m.machine_check_gflops.toFixed(1)} GFLOP/s)` : '';
      return `${m.label} = ${m.id}${check}${sameMachineTwice(report, m.id) ? ` [${m.files[0]}]` : ''}`;
    })
    .join('; ');
}

/** For the plot: each machine's first configuration. */
export function firstColumnPerMachine(report: MergedReport) {
  const cols = columnsOf(report.merged.records);
  return report.machines.map((m) => cols.find((c) => c.backend.startsWith(`${m.label} `))!).filter(Boolean);
}
