import { type WriteStream, createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import { makeDirs, pidAlive, writeError } from './files.js';

const tempName = (path: string) => `${path}.${process.pid}.${Date.now()}.partial`;

/** Removes a temporary file or folder if it is there; a path that cannot exist (ENOTDIR) is no error. */
function discard(path: string): void {
  try {
    rmSync(path, { recursive: true, force: true });
  } catch {
    // nothing was created there
  }
}

/** Temporary siblings of `path` that this module made: `<name>.<pid>.<ms>.partial[.old]` (or, from older levit, `<name>.<pid>.partial`), with their pid. */
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
    const m = n.startsWith(prefix) ? /^(\d+)(?:\.\d+)?\.partial(\.old)?$/.exec(n.slice(prefix.length)) : null;
    return m ? [{ file: join(dir, n), pid: Number(m[1]), old: !!m[2] }] : [];
  });
}

/**
 * Repairs what a killed writer left behind: when `path` is missing but the previous version
 * survives as `*.partial.old` (killed between the two renames of a folder swap), it is put
 * back; temporary files and folders of dead processes are removed (and this process's own, unless `ownToo` is false).
 */
export function recoverAtomic(path: string, ownToo = true): void {
  const stale = temporaries(path).filter((t) => !pidAlive(t.pid) || (ownToo && t.pid === process.pid));
  const previous = stale.find((t) => t.old);
  if (previous && !existsSync(path)) renameSync(previous.file, path);
  for (const t of stale) if (t !== previous || existsSync(t.file)) rmSync(t.file, { recursive: true, force: true });
}

/** Writes a file so that readers see the old file or the whole new one, never a part. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  const tmp = tempName(path);
  try {
    makeDirs(dirname(path));
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
    makeDirs(dirname(path));
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

/**
 * A file written line by line under a temporary name (stale temporaries of dead writers are
 * removed first), renamed into place by commit() or removed by discard(). A write that fails
 * (read-only folder, full disk) never throws: it is kept in `error`, in words, and the rest is
 * dropped, so that the work it records can still finish and say so.
 */
export class AtomicLineWriter {
  private readonly tmp: string;
  private stream: WriteStream | undefined;
  error: string | null = null;

  constructor(readonly path: string) {
    this.tmp = `${path}.${process.pid}.partial`;
    try {
      recoverAtomic(path, false);
    } catch {
      // a folder that cannot be listed or cleaned: the write below says why, if it fails
    }
    this.stream = createWriteStream(this.tmp);
    this.stream.on('error', (e) => this.fail(e));
  }

  write(line: string): void {
    this.stream?.write(`${line}\n`);
  }

  /** Ends the file and renames it into place; returns why it could not be written, or null. */
  async commit(): Promise<string | null> {
    const open = this.stream;
    if (open) {
      await new Promise<void>((resolve) =>
        open.end((e?: Error | null) => {
          if (e) this.fail(e);
          resolve();
        }),
      );
      try {
        if (!this.error) renameSync(this.tmp, this.path);
      } catch (e) {
        this.fail(e);
      }
    }
    this.stream = undefined;
    return this.error;
  }

  /** Removes the temporary file: nothing is written. */
  discard(): void {
    this.stream?.destroy();
    this.stream = undefined;
    discard(this.tmp);
  }

  private fail(e: unknown): void {
    this.error ??= writeError(this.path, e).message;
    this.discard();
  }
}
