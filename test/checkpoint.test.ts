import assert from 'node:assert/strict';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { readCheckpoint } from '../src/checkpoint/index.js';
import { formatShape } from '../src/core/tensor.js';
import { getCard, buildGraph } from '../src/models/registry.js';
import { CheckpointWeights } from '../src/models/weights.js';
import { CheckpointMismatchError, CorruptFileError, ExitCode } from '../src/core/errors.js';
import { PickleWriter } from './helpers/pickle-writer.js';
import { RecordingWeights } from './helpers/recording-weights.js';
import { golden, needsShared, runCli, tempDir } from './helpers/shared.js';
import { torchSave, torchSaveBuffer, zipStored } from './helpers/torch-save.js';

const goldenPth = () => golden('levit_128s', 'LeViT-128S-golden.pth');

function officialStateDict(model: string) {
  const rec = new RecordingWeights(1);
  buildGraph(getCard(model), rec);
  return rec.stateDict;
}

test('the golden official checkpoint reads completely', { skip: needsShared }, () => {
  const ckpt = readCheckpoint(goldenPth());
  assert.equal(ckpt.format, 'torch-zip');
  assert.equal(ckpt.weights.size, 336);
  assert.deepEqual(ckpt.weights.get('patch_embed.0.c.weight')?.shape, [16, 3, 3, 3]);
  assert.equal(ckpt.weights.get('blocks.4.attention_bias_idxs')?.dtype, 'int64');
  assert.deepEqual(ckpt.notes, []);
});

test('a truncated checkpoint is reported as such, by the library and by the CLI', { skip: needsShared }, (t) => {
  const dir = tempDir(t);
  const whole = readFileSync(goldenPth());
  const cut = join(dir, 'cut.pth');
  writeFileSync(cut, whole.subarray(0, Math.floor(whole.length / 2)));
  assert.throws(
    () => readCheckpoint(cut),
    (e: Error) => e instanceof CorruptFileError && /truncated/.test(e.message),
  );
  const cli = runCli(['convert', 'levit_128s', '--checkpoint', cut, '--out', join(dir, 'x.onnx')]);
  assert.equal(cli.status, ExitCode.badInput);
  assert.match(cli.stderr, /not a complete zip archive.*truncated/);
  assert.match(cli.stderr, /Hint: Download the checkpoint again/);
});

test('a flipped byte in tensor data is caught by the CRC', (t) => {
  const file = join(tempDir(t), 'flip.pth');
  const buf = torchSaveBuffer(new Map([['w', { dtype: 'float32', shape: [4], data: new Float32Array([1, 2, 3, 4]) }]]));
  buf[buf.indexOf(Buffer.from(new Float32Array([1, 2, 3, 4]).buffer)) + 5] ^= 0xff;
  writeFileSync(file, buf);
  assert.throws(() => readCheckpoint(file), /CRC-32 mismatch/);
});

test('a training checkpoint with argparse args loads, the args reported as inert', (t) => {
  const file = join(tempDir(t), 'train.pth');
  torchSave(file, officialStateDict('levit_128s'), { args: { model: 'LeViT_128S', epochs: 1000 } });
  const ckpt = readCheckpoint(file);
  assert.deepEqual(ckpt.notes, ['kept argparse.Namespace as an inert placeholder (not needed for the weights)']);
  buildGraph(getCard('levit_128s'), new CheckpointWeights(ckpt.weights)); // fits: no throw
});

test('bare state_dicts and ones under state_dict load alike', (t) => {
  const dir = tempDir(t);
  const sd = new Map([['a', { dtype: 'float32' as const, shape: [2], data: new Float32Array([1, 2]) }]]);
  for (const key of [null, 'state_dict']) {
    const file = join(dir, `${key}.pth`);
    torchSave(file, sd, { key, archive: 'some_name' });
    assert.deepEqual(Array.from(readCheckpoint(file).weights.get('a')!.data as Float32Array), [1, 2]);
  }
});

test('a checkpoint that does not fit names every tensor and both shapes', (t) => {
  const sd = officialStateDict('levit_128s');
  sd.delete('blocks.0.m.qkv.c.weight');
  sd.set('head.l.weight', { dtype: 'float32', shape: [10, 384], data: new Float32Array(3840) });
  sd.set('extra.weight', { dtype: 'float32', shape: [3], data: new Float32Array(3) });
  const file = join(tempDir(t), 'wrong.pth');
  torchSave(file, sd);
  const weights = new CheckpointWeights(readCheckpoint(file).weights);
  assert.throws(
    () => buildGraph(getCard('levit_128s'), weights),
    (e: Error) => {
      assert.ok(e instanceof CheckpointMismatchError);
      assert.deepEqual(e.problems, [
        `missing tensor blocks.0.m.qkv.c.weight ${formatShape([256, 128])}`,
        'head.l.weight: checkpoint has shape [10, 384], model expects [1000, 384]',
        'unexpected tensor extra.weight [3]',
      ]);
      return true;
    },
  );
});

test('a LeViT-256 checkpoint loaded as LeViT-128S is refused, not half-loaded', (t) => {
  const file = join(tempDir(t), '256.pth');
  torchSave(file, officialStateDict('levit_256'));
  const cli = runCli(['convert', 'levit_128s', '--checkpoint', file, '--out', join(tempDir(t), 'x.onnx'), '--json']);
  assert.equal(cli.status, ExitCode.badInput);
  const err = JSON.parse(cli.stdout).error;
  assert.match(err.message, /checkpoint does not fit levit_128s/);
  assert.match(err.message, /patch_embed.0.c.weight: checkpoint has shape \[32, 3, 3, 3\], model expects \[16, 3, 3, 3\]/);
});

test('attention-bias indices that disagree with the official layout are refused', (t) => {
  const sd = officialStateDict('levit_128s');
  const idx = sd.get('blocks.0.m.attention_bias_idxs')!.data as BigInt64Array;
  idx[1] = idx[0]; // point 1's offset is (0, 1), not (0, 0)
  const file = join(tempDir(t), 'idx.pth');
  torchSave(file, sd);
  assert.throws(() => buildGraph(getCard('levit_128s'), new CheckpointWeights(readCheckpoint(file).weights)), /indices differ from the official layout/);
});

test('crafted storages cannot read past their bytes', (t) => {
  const dir = tempDir(t);
  const tensorPickle = (numel: number, shape: number[]) => {
    const p = new PickleWriter().proto().global('collections', 'OrderedDict').emptyTuple().reduce().mark();
    p.str('w').global('torch._utils', '_rebuild_tensor_v2').mark();
    p.mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(numel).tuple().binpersid();
    p.int(0).mark();
    for (const d of shape) p.int(d);
    p.tuple().mark();
    for (const [i] of shape.entries()) p.int(shape.slice(i + 1).reduce((a, b) => a * b, 1));
    p.tuple().bool(false).emptyTuple().tuple().reduce().setitems().stop();
    return p.toBuffer();
  };
  const write = (name: string, pkl: Buffer) => {
    const file = join(dir, name);
    writeFileSync(
      file,
      zipStored([
        ['a/data.pkl', pkl],
        ['a/data/0', Buffer.alloc(16)],
      ]),
    );
    return file;
  };
  assert.throws(() => readCheckpoint(write('numel.pth', tensorPickle(1e12, [4]))), /declares 1000000000000 elements but holds 4/);
  assert.throws(() => readCheckpoint(write('shape.pth', tensorPickle(4, [1000, 1000]))), /shape \[1000, 1000\] has more elements than its storage's 4/);
  assert.equal(readCheckpoint(write('ok.pth', tensorPickle(4, [2, 2]))).weights.get('w')?.data.length, 4);
});

test('a file that is no checkpoint at all gets a clear error', (t) => {
  const file = join(tempDir(t), 'notes.txt');
  writeFileSync(file, 'hello');
  assert.throws(() => readCheckpoint(file), /is not a checkpoint format levit reads/);
});
