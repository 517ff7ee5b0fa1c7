import { closeSync, constants, fstatSync, openSync, readFileSync, type Stats } from 'node:fs';
import { ExitCode, LevitError } from './errors.js';

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
 * Reads a whole regular file. Opening is non-blocking, so a FIFO cannot hang us, and a device
 * such as /dev/zero is refused before a byte is read: inputs must be regular files.
 */
export function readRegularFile(file: string, what: string): Buffer {
  let fd: number;
  try {
    fd = openSync(file, constants.O_RDONLY | constants.O_NONBLOCK);
  } catch (e) {
    throw unreadable(file, what, e as NodeJS.ErrnoException);
  }
  try {
    const st = fstatSync(fd);
    if (!st.isFile()) {
      throw new LevitError(`${what} ${file} is ${describeFileType(st)}, not a regular file`, ExitCode.badInput, 'Pass the path of a regular file.');
    }
    return readFileSync(fd);
  } catch (e) {
    if (e instanceof LevitError) throw e;
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
