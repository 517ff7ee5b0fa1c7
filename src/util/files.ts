import { closeSync, constants, existsSync, fstatSync, mkdirSync, openSync, readFileSync, statSync, type Stats } from 'node:fs';
import { dirname, resolve } from 'node:path';
import { ExitCode, LevitError } from '../core/errors.js';

/** What a non-regular file is, for messages ("a FIFO", "a character device"). */
export function describeFileType(st: Stats): string {
  if (st.isDirectory()) return 'a directory';
  if (st.isFIFO()) return 'a FIFO (named pipe)';
  if (st.isCharacterDevice()) return 'a character device';
  if (st.isBlockDevice()) return 'a block device';
  if (st.isSocket()) return 'a socket';
  return 'not a regular file';
}

/**
 * Opens a regular file for reading, or throws levit's error for it: not found (exit 4), a
 * directory, device or FIFO (exit 3), unreadable (exit 3). Opening is non-blocking, so a FIFO
 * cannot hang us, and a device such as /dev/zero is refused before a byte is read.
 */
export function openRegularFile(file: string, what: string): number {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw unreadable(file, what, e as NodeJS.ErrnoException);
  }
  const st = fstatSync(fd);
  if (!st.isFile()) {
    closeSync(fd);
    throw new LevitError(`${what} ${file} is ${describeFileType(st)}, not a regular file`, ExitCode.badInput, 'Pass the path of a regular file.');
  }
  return fd;
}

/** Checks that `file` is a regular file that can be read (see openRegularFile), before work that needs it. */
export function checkRegularFile(file: string, what: string): void {
  closeSync(openRegularFile(file, what));
}

/** Reads a whole regular file (see openRegularFile): inputs must be regular files. */
export function readRegularFile(file: string, what: string): Buffer {
  const fd = openRegularFile(file, what);
  try {
    return readFileSync(fd);
  } catch (e) {
    throw unreadable(file, what, e as NodeJS.ErrnoException);
  } finally {
    closeSync(fd);
  }
}

function unreadable(file: string, what: string, e: NodeJS.ErrnoException): LevitError {
  if (e.code === 'ENOENT') return new LevitError(`cannot read ${what} ${file}: no such file`, ExitCode.notFound);
  if (e.code === 'EISDIR') return new LevitError(`${what} ${file} is a directory, not a regular file`, ExitCode.badInput);
  const reason = e.code === 'EACCES' ? 'permission denied' : e.code === 'ELOOP' ? 'a symbolic link loop' : e.message;
  return new LevitError(`cannot read ${what} ${file}: ${reason}`, ExitCode.badInput);
}

/** What a failed write's error code means, in words; null for codes that are not about the disk. */
const WRITE_FAILURES: Record<string, string> = {
  ENOSPC: 'the disk is full',
  EDQUOT: 'the disk quota is exhausted',
  EROFS: 'the file system is read-only',
  EACCES: 'permission denied',
  EPERM: 'permission denied',
  EISDIR: 'it is a directory',
  ENOTDIR: 'a parent of it is not a directory',
  EEXIST: 'a file stands where its folder should be',
  ENOENT: 'no folder can be made there',
};

export function writeFailureReason(e: NodeJS.ErrnoException): string | null {
  const words = WRITE_FAILURES[e.code ?? ''];
  return words ? `${words} (${e.code})` : null;
}

/** A failed write as levit's own error: what could not be written and why, in words. */
export function writeError(file: string, e: unknown): LevitError {
  if (e instanceof LevitError) return e;
  const reason = writeFailureReason(e as NodeJS.ErrnoException) ?? (e as Error).message;
  return new LevitError(`cannot write ${file}: ${reason}`, ExitCode.failure, 'Free space, or choose a writable location, and run again.');
}

/** Whether a process of this id is running (a lock or temporary file of a dead one is stale). */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * mkdir -p, one folder at a time from the nearest existing ancestor down: Node's recursive mkdir
 * never returns under /proc (it retries ENOENT forever). Failures are levit's errors, in words,
 * with `hint` (where the folder comes from, e.g. LEVIT_CACHE_DIR).
 */
export function makeDirs(dir: string, hint?: string): void {
  const missing: string[] = [];
  let d = resolve(dir);
  for (; !existsSync(d); d = dirname(d)) {
    missing.unshift(d);
    if (dirname(d) === d) break;
  }
  if (existsSync(d) && !statSync(d).isDirectory()) {
    const message = `cannot create the folder ${resolve(dir)}: a file stands where its folder should be (${d})`;
    throw new LevitError(message, ExitCode.failure, hint ?? 'Move that file, or choose another location.');
  }
  for (const m of missing) {
    try {
      mkdirSync(m);
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') continue; // made meanwhile by another process
      const reason = writeFailureReason(e as NodeJS.ErrnoException) ?? (e as Error).message;
      throw new LevitError(`cannot create the folder ${m}: ${reason}`, ExitCode.failure, hint ?? 'Choose a writable location and run again.');
    }
  }
}

/**
 * A folder, as the command needs: a missing path is not found (with `notFoundHint`); a file (or
 * anything else) is a usage error, with what the command takes instead.
 */
export function checkFolder(root: string, notFolderHint: string, notFoundHint?: string): void {
  if (!existsSync(root)) throw new LevitError(`${root}: no such folder`, ExitCode.notFound, notFoundHint);
  const stat = statSync(root);
  if (!stat.isDirectory()) throw new LevitError(`${root} is ${stat.isFile() ? 'a file, ' : ''}not a folder`, ExitCode.usage, notFolderHint);
}
