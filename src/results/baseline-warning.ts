import type { Calibration } from './types.js';

/** A machine under this share of its baseline's calibration is busy (or throttled). */
export const BUSY_SHARE = 0.8;

const gflops = (c: Calibration) => c.matmul_gflops_1thread;

/** A warning when this run's machine is far slower than when its baseline was taken, or null. */
export function baselineWarning(current: Calibration, baseline: Calibration | null, baselineFile: string): string | null {
  if (!baseline || gflops(current) >= BUSY_SHARE * gflops(baseline)) return null;
  return (
    `this machine calibrates at ${gflops(current).toFixed(1)} GFLOP/s, ${Math.round((1 - gflops(current) / gflops(baseline)) * 100)}% below ` +
    `its baseline's ${gflops(baseline).toFixed(1)} (${baselineFile}): it is busy or throttled, and these timings are not its usual ones`
  );
}
