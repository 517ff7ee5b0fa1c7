import { existsSync, mkdirSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dirname } from 'node:path';

/** Writes a file so that readers see the old file or the whole new one, never a part. */
export function writeFileAtomic(path: string, data: Uint8Array | string): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.partial`;
  try {
    writeFileSync(tmp, data);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
}

/** Writes a directory of files under a temporary name, then swaps it into place whole. */
export function writeDirAtomic(path: string, files: { name: string; data: Uint8Array | string }[]): void {
  mkdirSync(dirname(path), { recursive: true });
  const tmp = `${path}.${process.pid}.${Date.now()}.partial`;
  const old = `${tmp}.old`;
  try {
    mkdirSync(tmp);
    for (const f of files) writeFileSync(join(tmp, f.name), f.data);
    if (existsSync(path)) renameSync(path, old);
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { recursive: true, force: true });
    if (existsSync(old) && !existsSync(path)) renameSync(old, path);
    throw e;
  }
  rmSync(old, { recursive: true, force: true });
}
