import type { Calibration } from './calibration.js';
import type { Stability } from './results.js';

/** Calibrations around one record that differ by more than this factor mean the machine changed speed. */
export const STABLE_DRIFT = 0.15;
/** A machine under this share of its reference calibration is busy (or throttled). */
export const BUSY_SHARE = 0.8;

const gflops = (c: Calibration) => c.matmul_gflops_1thread;

/**
 * Judges one record from the calibrations just before and just after it, against the run's
 * first calibration: a record is flagged when the two disagree or either is far below it.
 */
export function judgeStability(before: Calibration, after: Calibration, reference: Calibration): Stability {
  const [b, a, ref] = [gflops(before), gflops(after), gflops(reference)];
  let unstable: string | null = null;
  if (Math.abs(Math.log(a / b)) > Math.log(1 + STABLE_DRIFT)) {
    unstable = `the machine's speed moved from ${b.toFixed(1)} to ${a.toFixed(1)} GFLOP/s during the record`;
  } else if (Math.min(a, b) < BUSY_SHARE * ref) {
    unstable = `the machine ran at ${Math.min(a, b).toFixed(1)} GFLOP/s against ${ref.toFixed(1)} at the start of the run`;
  }
  return { gflops_before: b, gflops_after: a, unstable };
}

/** A warning when this run's machine is far slower than when its baseline was taken, or null. */
export function baselineWarning(current: Calibration, baseline: Calibration | null, baselineFile: string): string | null {
  if (!baseline || gflops(current) >= BUSY_SHARE * gflops(baseline)) return null;
  return (
    `this machine calibrates at ${gflops(current).toFixed(1)} GFLOP/s, ${Math.round((1 - gflops(current) / gflops(baseline)) * 100)}% below ` +
    `its baseline's ${gflops(baseline).toFixed(1)} (${baselineFile}): it is busy or throttled, and these timings are not its usual ones`
  );
}
