import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { recoverAtomic, writeDirAtomic, writeFileAtomic } from '../src/util/atomic.js';
import { ExitCode, LevitError } from '../src/core/errors.js';
import { TFJS_LAYOUT } from '../src/tfjs/export.js';
import { packageRoot } from '../src/util/paths.js';
import { folderNames, readTfjsFolder, tfjsFiles } from './helpers/tfjs-folder.js';
import { tempDir } from './helpers/shared.js';

/** The id of a process that has ended: what a SIGKILLed writer leaves in its temporary names. */
const deadPid = () => spawnSync(process.execPath, ['-e', '0']).pid!;

test('a folder swap killed between its renames is recovered: the previous model comes back', (t) => {
  const dir = tempDir(t);
  const model = join(dir, 'model');
  const old = `${model}.${deadPid()}.1700000000000.partial.old`;
  mkdirSync(old);
  writeFileSync(join(old, 'model.json'), '{"v":1}');
  recoverAtomic(model);
  assert.equal(readFileSync(join(model, 'model.json'), 'utf8'), '{"v":1}');
  assert.deepEqual(readdirSync(dir), ['model']);
  writeDirAtomic(model, [{ name: 'model.json', data: '{"v":2}' }], TFJS_LAYOUT);
  assert.equal(readFileSync(join(model, 'model.json'), 'utf8'), '{"v":2}');
  assert.deepEqual(readdirSync(dir), ['model']);
});

test("stale .partial files of killed writers are removed by the next write; a live writer's are left alone", (t) => {
  const dir = tempDir(t);
  const target = join(dir, 'm.onnx');
  const stale = `${target}.${deadPid()}.1700000000000.partial`;
  const live = `${target}.1.1700000000000.partial`; // pid 1 is alive
  writeFileSync(stale, Buffer.alloc(1024));
  writeFileSync(live, 'x');
  writeFileAtomic(target, 'new');
  assert.ok(!existsSync(stale));
  assert.ok(existsSync(live));
  assert.equal(readFileSync(target, 'utf8'), 'new');
});

test('a write that fails says why in words, and leaves nothing behind', (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'file'), '');
  const inWords = /cannot create the folder .*file: a file stands where its folder should be/;
  assert.throws(
    () => writeFileAtomic(join(dir, 'file', 'out.onnx'), 'x'),
    (e: Error) => e instanceof LevitError && e.exitCode === ExitCode.failure && inWords.test(e.message),
  );
  assert.throws(
    () => writeDirAtomic('/proc/levit-model', [{ name: 'model.json', data: 'b' }], TFJS_LAYOUT),
    (e: Error) => e instanceof LevitError && /cannot write \/proc\/levit-model/.test(e.message),
  );
  assert.deepEqual(readdirSync(dir), ['file']);
});

/** Writes version `v` into `dir` in a child killed (SIGKILL) at its `killAt`-th file-system change; whether it finished. */
function writeKilledAt(dir: string, v: number, killAt: number): boolean {
  const r = spawnSync(process.execPath, [join(packageRoot, 'dist', 'test', 'helpers', 'kill-during-write.js'), dir, String(v), String(killAt)]);
  if (r.signal !== 'SIGKILL' && r.status !== 0) throw new Error(r.stderr.toString());
  return r.signal !== 'SIGKILL';
}

test('a TF.js folder update killed (SIGKILL) at any point leaves any reader a whole model, old or new, with no repair', (t) => {
  const dir = join(tempDir(t), 'model_tfjs');
  let points = 0;
  for (let k = 1; ; k++) {
    rmSync(dir, { recursive: true, force: true });
    writeDirAtomic(dir, tfjsFiles(1), TFJS_LAYOUT);
    const finished = writeKilledAt(dir, 2, k);
    const seen = readTfjsFolder(dir); // a plain reader: model.json, then the shards it names
    assert.ok(seen === 1 || seen === 2, `killed at change ${k}: ${seen}`);
    if (finished) {
      assert.equal(seen, 2);
      assert.deepEqual(
        folderNames(dir),
        tfjsFiles(2)
          .map((f) => f.name)
          .sort(),
        'the old shards are gone',
      );
      break;
    }
    points++;
    // The next write removes what the killed one left.
    writeDirAtomic(dir, tfjsFiles(3), TFJS_LAYOUT);
    assert.equal(readTfjsFolder(dir), 3);
    assert.deepEqual(
      folderNames(dir),
      tfjsFiles(3)
        .map((f) => f.name)
        .sort(),
      `after a kill at change ${k}`,
    );
  }
  assert.ok(points >= 4, `${points} kill points tried`);
});

test('a new TF.js folder killed at any point is absent or whole, never half', (t) => {
  const parent = tempDir(t);
  const dir = join(parent, 'model_tfjs');
  for (let k = 1; ; k++) {
    rmSync(dir, { recursive: true, force: true });
    const finished = writeKilledAt(dir, 1, k);
    const seen = readTfjsFolder(dir);
    assert.ok(seen === 1 || (seen === null && !existsSync(dir)), `killed at change ${k}: ${seen} ${folderNames(dir)}`);
    if (finished) break;
  }
});
