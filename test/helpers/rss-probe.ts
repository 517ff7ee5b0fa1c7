import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';

export interface ProbeResult {
  /** Peak resident set of the child, in bytes (process.resourceUsage().maxRSS). */
  peakRss: number;
  /** The error's class name and exit code, or null when the file read fine. */
  error: { name: string; exitCode: number | null; message: string } | null;
  /** The child's exit status: 0 unless it crashed (a V8 abort is 134). */
  status: number;
}

/** Reads `file` with levit's checkpoint reader in a fresh process, and reports its peak memory. */
export function readInChild(file: string, reader: 'checkpoint' | 'npy' = 'checkpoint'): ProbeResult {
  const module = join(packageRoot, 'dist', 'src', reader === 'checkpoint' ? 'checkpoint/index.js' : 'util/npy.js');
  const call = reader === 'checkpoint' ? 'readCheckpoint' : 'readNpy';
  const script = `
    const m = await import(${JSON.stringify(module)});
    let error = null;
    try { m.${call}(${JSON.stringify(file)}); } catch (e) { error = { name: e.name, exitCode: e.exitCode ?? null, message: e.message }; }
    process.stdout.write(JSON.stringify({ peakRss: process.resourceUsage().maxRSS * 1024, error }));`;
  const r = spawnSync(process.execPath, ['--input-type=module', '-e', script], { encoding: 'utf8', timeout: 60_000 });
  if (r.status !== 0) return { peakRss: Number.NaN, error: { name: 'crash', exitCode: null, message: r.stderr.slice(-500) }, status: r.status ?? -1 };
  return { ...JSON.parse(r.stdout), status: 0 };
}
