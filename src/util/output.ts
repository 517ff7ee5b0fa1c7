import { existsSync, statSync, unlinkSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { ExitCode, LevitError } from '../core/errors.js';
import { writeFailureReason } from './files.js';

export type OutputKind = 'file' | 'directory';

/**
 * Checks an output path before any work starts, so that a long run never ends in EISDIR: a file
 * must be creatable in the nearest existing folder above it (tried, not judged from permission
 * bits, which say yes to root in /proc or on a read-only mount), and an existing entry of another kind
 * (a folder where a file goes, a file where a folder goes) is replaced only with --force, and
 * a folder never by a file.
 */
export function preflightOutput(path: string, flag: string, kind: OutputKind, force = false): void {
  const full = resolve(path);
  if (existsSync(full)) {
    const isDir = statSync(full).isDirectory();
    if (kind === 'file' && isDir) {
      throw new LevitError(`--${flag} ${path} is a folder; a file goes there`, ExitCode.usage, 'Name a file (a new one, or one to replace).');
    }
    if (kind === 'directory' && !isDir && !force) {
      throw new LevitError(`--${flag} ${path} is a file; a folder goes there`, ExitCode.usage, 'Name another path, or add --force to replace the file.');
    }
  }
  let parent = dirname(full);
  while (!existsSync(parent)) parent = dirname(parent);
  if (!statSync(parent).isDirectory()) throw new LevitError(`--${flag} ${path}: ${parent} is a file, not a folder`, ExitCode.usage);
  const probe = join(parent, `.levit-write-test-${process.pid}`);
  try {
    writeFileSync(probe, '', { flag: 'wx' });
    unlinkSync(probe);
  } catch (e) {
    const err = e as NodeJS.ErrnoException;
    const reason = err.code === 'ENOENT' ? 'nothing can be created there (ENOENT)' : (writeFailureReason(err) ?? err.message);
    throw new LevitError(`--${flag} ${path}: cannot write in ${parent}: ${reason}`, ExitCode.usage, 'Name a path in a folder you can write to.');
  }
}
