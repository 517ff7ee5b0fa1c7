/**
 * Writes a stand-in TF.js folder (version argv[3]) into argv[2] with writeDirAtomic, and SIGKILLs
 * itself just before its argv[4]-th file-system change: a kill at that exact point.
 */
import fs from 'node:fs';
import { syncBuiltinESMExports } from 'node:module';
import { TFJS_LAYOUT } from '../../src/tfjs/export.js';
import { writeDirAtomic } from '../../src/util/atomic.js';
import { tfjsFiles } from './tfjs-folder.js';

const [dir, version, killAt] = process.argv.slice(2);
let changes = 0;
const mutable = fs as unknown as Record<string, (...a: unknown[]) => unknown>;
for (const name of ['writeFileSync', 'renameSync', 'rmSync', 'mkdirSync', 'unlinkSync', 'rmdirSync']) {
  const original = mutable[name];
  mutable[name] = (...args: unknown[]) => {
    if (++changes === Number(killAt)) process.kill(process.pid, 'SIGKILL');
    return original(...args);
  };
}
syncBuiltinESMExports();
writeDirAtomic(dir, tfjsFiles(Number(version)), TFJS_LAYOUT);
