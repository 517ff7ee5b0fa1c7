import { spawn, spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { packageRoot } from '../../src/util/paths.js';

export interface CliResult {
  status: number;
  stdout: string;
  stderr: string;
}

/**
 * How to start the levit CLI with this Node: directly, or through the emulator that runs this
 * process (LEVIT_EMULATOR, set by scripts/arm64/node.sh: qemu-user starts no foreign binary itself).
 */
function cliCommand(args: string[]): [string, string[]] {
  const emulator = (process.env.LEVIT_EMULATOR ?? '').split(' ').filter(Boolean);
  const node = [process.execPath, join(packageRoot, 'bin', 'run.js'), ...args];
  return emulator.length ? [emulator[0], [...emulator.slice(1), ...node]] : [node[0], node.slice(1)];
}

export function runCli(args: string[], env: Record<string, string> = {}): CliResult {
  const r = spawnSync(...cliCommand(args), {
    encoding: 'utf8',
    env: { ...process.env, NO_COLOR: '1', ...env },
    maxBuffer: 64 * 1024 * 1024,
  });
  return { status: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** The CLI in a child process without blocking this one (a test server here must answer it). */
export function runCliAsync(args: string[], env: Record<string, string> = {}): Promise<CliResult> {
  return new Promise((resolve) => {
    const child = spawn(...cliCommand(args), { env: { ...process.env, NO_COLOR: '1', ...env } });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('close', (status) => resolve({ status: status ?? -1, stdout, stderr }));
  });
}
