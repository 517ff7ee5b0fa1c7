import { ExitCode, LevitError } from '../core/errors.js';
import { machineDifference, sameMachine } from './machine-id.js';
import type { BenchResults } from './types.js';

/**
 * One results file from several runs on one machine (e.g. one `levit bench` process per model, so that a model
 * that crashes its process loses only its own records): records and skipped entries in order, the first run's
 * header and the first machine check. Runs from different machines are refused: levit report puts those side by side.
 */
export function concatResults(runs: readonly { file: string; results: BenchResults }[]): BenchResults {
  if (runs.length === 0) throw new LevitError('no results to join', ExitCode.usage);
  const first = runs[0].results;
  const other = runs.find((r) => !sameMachine(r.results.system, first.system));
  if (other) {
    const which = `${other.file} comes from another machine (${machineDifference(other.results.system, first.system)})`;
    throw new LevitError(which, ExitCode.badInput, 'Put machines side by side with levit report instead.');
  }
  const skipped = runs.flatMap((r) => r.results.skipped ?? []);
  // Round ids restart in every run: offset them so that records of different runs never look paired.
  let offset = 0;
  const records = runs.flatMap(({ results }) => {
    const ids = results.records.flatMap((r) => r.rounds ?? []);
    const shifted = results.records.map((r) => (r.rounds ? { ...r, rounds: r.rounds.map((x) => x + offset) } : r));
    offset += ids.reduce((m, x) => Math.max(m, x + 1), 0);
    return shifted;
  });
  return {
    ...first,
    machine_check: runs.find((r) => r.results.machine_check)?.results.machine_check ?? null,
    // One run's round-by-round machine check cannot stand for the others'.
    machine_check_rounds: runs.length === 1 ? first.machine_check_rounds : null,
    records,
    ...(skipped.length ? { skipped } : {}),
  };
}
