import { type WriteStream, createWriteStream, existsSync, mkdirSync, readdirSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
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

export interface DirFile {
  name: string;
  data: Uint8Array | string;
}

/** How a folder is laid out: one index file read first, naming the others (parts), whose names are unique to their bytes. */
export interface DirLayout {
  /** The file readers open first (TF.js: model.json); replaced by one rename. */
  index: string;
  /** Whether a name is one of this writer's parts (TF.js shards): those the new index does not name are removed after it. */
  isPart: (name: string) => boolean;
}

/**
 * Writes a folder so that any reader (levit's, a stock tf.loadGraphModel, a file browser) finds
 * the old contents or the new ones whole, even after a kill at any point:
 * - a new folder is written under a temporary name, then renamed into place;
 * - an existing folder is updated in place: the parts (named by their bytes, so never overwritten)
 *   are added beside the old ones, then the index is replaced by one rename, then the parts it
 *   no longer names are removed (a kill before that leaves unused files, which the next write removes);
 * - a file standing where the folder goes (convert --force) is swapped out with two renames; a kill
 *   between them leaves the file as `*.partial.old`, which recoverAtomic (the next write, levit's readers) puts back.
 */
export function writeDirAtomic(path: string, files: DirFile[], layout: DirLayout): void {
  try {
    makeDirs(dirname(path));
    recoverAtomic(path);
    if (existsSync(path) && statSync(path).isDirectory()) updateDir(path, files, layout);
    else swapDir(path, files);
  } catch (e) {
    throw writeError(path, e);
  }
}

function updateDir(path: string, files: DirFile[], layout: DirLayout): void {
  const index = files.find((f) => f.name === layout.index);
  if (!index) throw new Error(`writeDirAtomic: no ${layout.index} among the files`);
  for (const name of readdirSync(path)) {
    const base = name.replace(/\.\d+(?:\.\d+)?\.partial(?:\.old)?$/, '');
    if (base !== name) recoverAtomic(join(path, base)); // temporaries of a killed update
  }
  const parts = files.filter((f) => f !== index);
  for (const f of parts) if (!existsSync(join(path, f.name))) writeFileAtomic(join(path, f.name), f.data);
  writeFileAtomic(join(path, index.name), index.data);
  const kept = new Set(parts.map((f) => f.name));
  for (const name of readdirSync(path)) if (layout.isPart(name) && !kept.has(name)) rmSync(join(path, name), { force: true });
}

function swapDir(path: string, files: DirFile[]): void {
  const tmp = tempName(path);
  const old = `${tmp}.old`;
  try {
    mkdirSync(tmp);
    for (const f of files) writeFileSync(join(tmp, f.name), f.data);
    if (existsSync(path)) renameSync(path, old);
    renameSync(tmp, path);
  } catch (e) {
    discard(tmp);
    if (existsSync(old) && !existsSync(path)) renameSync(old, path);
    throw e;
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
