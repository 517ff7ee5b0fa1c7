import { existsSync, readFileSync } from 'node:fs';
import { homedir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

/** The package root (where package.json and zoo/ live), from the compiled or source tree alike. */
export const packageRoot: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, 'package.json'))) {
    const up = dirname(dir);
    if (up === dir) throw new Error('levit: cannot find its package root');
    dir = up;
  }
  return dir;
})();

export const zooDir = join(packageRoot, 'zoo');

/** Downloads and built artifacts: LEVIT_CACHE_DIR, default ~/.cache/levit. */
export function cacheDir(): string {
  return resolve(process.env.LEVIT_CACHE_DIR || join(homedir(), '.cache', 'levit'));
}

/** What to do when the cache cannot be written, for errors about it. */
export const CACHE_HINT =
  'The cache (checkpoints and converted models) must be writable: set LEVIT_CACHE_DIR to a writable folder, or pass --checkpoint PATH and --out FILE.';

export const packageVersion: string = JSON.parse(readFileSync(join(packageRoot, 'package.json'), 'utf8')).version;
