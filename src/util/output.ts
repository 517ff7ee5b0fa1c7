import { accessSync, constants, existsSync, statSync } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ExitCode, LevitError } from '../core/errors.js';

export type OutputKind = 'file' | 'directory';

/**
 * Checks an output path before any work starts, so that a long run never ends in EISDIR: the
 * nearest existing folder above it must be writable, and an existing entry of another kind
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
  try {
    accessSync(parent, constants.W_OK);
  } catch {
    throw new LevitError(`--${flag} ${path}: cannot write in ${parent}`, ExitCode.usage, 'Name a path in a folder you can write to.');
  }
}
