import { existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { pidAlive, writeError } from './files.js';

const tempName = (path: string) => `${path}.${process.pid}.${Date.now()}.partial`;

/** Removes a temporary file or folder if it is there; a path that cannot exist (ENOTDIR) is no error. */
function discard(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // nothing was created there
  }
}

/** Temporary siblings of `path` that this module made: `<name>.<pid>.<ms>.partial[.old]`, with their pid. */
function temporaries(path: string): { file: string; pid: number; old: boolean }[] {
  const dir = dirname(path);
  const prefix = `${basename(path)}.`;
  let names: string[];
  try {
    names = readdirSync(dir);
  } catch {
    return [];
  }
  return names.flatMap((n) => {
    const m = n.startsWith(prefix) ? /^(\d+)\.\d+\.partial(\.old)?$/.exec(n.slice(prefix.length)) : null;
    return m ? [{ file: join(dir, n), pid: Number(m[1]), old: !!m[2] }] : [];
  });
}

/**
 * Repairs what a killed writer left behind: when `path` is missing but the previous version
 * survives as `*.partial.old` (killed between the two renames of a folder swap), it is put
 * back; temporary files and folders of dead processes are removed.
 */
export function recoverAtomic(path: string): void {
  const stale = temporaries(path).filter((t) => !pidAlive(t.pid) || t.pid === process.pid);
  const previous = stale.find((t) => t.old);
  if (previous && !existsSync(path)) renameSync(previous.file, path);
  for (const t of stale) if (t !== previous || existsSync(t.file)) rmSync(t.file, { recursive: true, force: true });
}

/** Writes a file so that readers see the old file or the whole new one, never a part. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = tempName(path);
  try {
    mkdirSync(dirname(path), { recursive: true });
    recoverAtomic(path);
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    discard(tmp);
    throw writeError(path, e);
  }
}

/**
 * Writes a directory of files under a temporary name, then swaps it into place whole. A kill
 * between the swap's two renames leaves the old folder as `*.partial.old`: recoverAtomic (run
 * by the next write and by readers) puts it back.
 */
export function writeDirAtomic(path: string, files: { name: string; data: Uint8Array | string }[]): void {
  const tmp = tempName(path);
  const old = `${tmp}.old`;
  try {
    mkdirSync(dirname(path), { recursive: true });
    recoverAtomic(path);
    mkdirSync(tmp);
    for (const f of files) writeFileSync(join(tmp, f.name), f.data);
    if (existsSync(path)) renameSync(path, old);
    renameSync(tmp, path);
  } catch (e) {
    discard(tmp);
    if (existsSync(old) && !existsSync(path)) renameSync(old, path);
    throw writeError(path, e);
  }
  rmSync(old, { recursive: true, force: true });
}
