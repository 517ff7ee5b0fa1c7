import type { MachineCheck } from './types.js';

/** A machine whose check runs under this share of its baseline's is busy (or throttled). */
export const BUSY_SHARE = 0.8;

const gflops = (c: MachineCheck) => c.matmul_gflops_1thread;

/** A warning when this run's machine is far slower than when its baseline was taken, or null. */
export function baselineWarning(current: MachineCheck, baseline: MachineCheck | null, baselineFile: string): string | null {
  if (!baseline || gflops(current) >= BUSY_SHARE * gflops(baseline)) return null;
  return (
    `this machine's check runs at ${gflops(current).toFixed(1)} GFLOP/s, ${Math.round((1 - gflops(current) / gflops(baseline)) * 100)}% below ` +
    `its baseline's ${gflops(baseline).toFixed(1)} (${baselineFile}): it is busy or throttled, and these timings are not its usual ones`
  );
}
