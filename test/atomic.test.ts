import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { recoverAtomic, writeDirAtomic, writeFileAtomic } from '../src/util/atomic.js';
import { ExitCode, LevitError } from '../src/core/errors.js';
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
  writeDirAtomic(model, [{ name: 'model.json', data: '{"v":2}' }]);
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
  const inWords = /cannot write .*out\.onnx: a file stands where its folder should be \(EEXIST\)/;
  assert.throws(
    () => writeFileAtomic(join(dir, 'file', 'out.onnx'), 'x'),
    (e: Error) => e instanceof LevitError && e.exitCode === ExitCode.failure && inWords.test(e.message),
  );
  assert.throws(
    () => writeDirAtomic('/proc/levit-model', [{ name: 'a', data: 'b' }]),
    (e: Error) => e instanceof LevitError && /cannot write \/proc\/levit-model/.test(e.message),
  );
  assert.deepEqual(readdirSync(dir), ['file']);
});
