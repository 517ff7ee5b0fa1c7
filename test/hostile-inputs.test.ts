import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { copyFileSync, existsSync, mkdirSync, readdirSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32, deflateSync } from 'node:zlib';
import { floatTensor } from '../src/core/tensor.js';
import { printable } from '../src/cli/escape.js';
import { openDataset } from '../src/eval/dataset.js';
import { evaluate } from '../src/eval/run-eval.js';
import { getCard } from '../src/models/registry.js';
import { checkPixels, decodeRgb, ImageDecodeError, MAX_IMAGE_PIXELS } from '../src/preprocess/decode.js';
import type { InferenceSession } from '../src/runtime/backend.js';
import { writeNpy } from '../src/util/npy.js';
import { golden, needsShared, runCli, tempDir } from './helpers/shared.js';

/** A PNG of only a header (IHDR) and an end: enough for any decoder to read its size. */
function pngHeader(width: number, height: number): Buffer {
  const chunk = (type: string, data: Buffer) => {
    const len = Buffer.alloc(4);
    len.writeUInt32BE(data.length);
    const body = Buffer.concat([Buffer.from(type, 'latin1'), data]);
    const crc = Buffer.alloc(4);
    crc.writeUInt32BE(crc32(body));
    return Buffer.concat([len, body, crc]);
  };
  const ihdr = Buffer.alloc(13);
  ihdr.writeUInt32BE(width, 0);
  ihdr.writeUInt32BE(height, 4);
  ihdr[8] = 8;
  ihdr[9] = 2;
  const signature = Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a]);
  return Buffer.concat([signature, chunk('IHDR', ihdr), chunk('IDAT', deflateSync(Buffer.alloc(64))), chunk('IEND', Buffer.alloc(0))]);
}

const refused = (message: RegExp) => (e: unknown) => e instanceof ImageDecodeError && message.test(e.message);

test('images are limited as Pillow limits them: refused above twice MAX_IMAGE_PIXELS from the header, warned above it', async (t) => {
  assert.equal(MAX_IMAGE_PIXELS, 89_478_485);
  assert.equal(checkPixels(9459, 9459), undefined); // 89,472,681 pixels
  assert.match(checkPixels(9460, 9460)!, /possible decompression bomb/);
  assert.throws(() => checkPixels(13378, 13378), /exceeds the limit of 178956970/);
  const bomb = join(tempDir(t), 'bomb.png');
  writeFileSync(bomb, pngHeader(20_000, 10_000));
  // Refused from the header: the file holds nothing else to decode.
  await assert.rejects(decodeRgb(bomb), refused(/20000x10000 = 200000000 pixels exceeds the limit/));
});

test('only raster formats are decoded: an SVG named .jpg (with an XInclude) is refused before any parser sees it', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'secret.txt'), 'do not read me');
  const svg = join(dir, 'photo.jpg');
  writeFileSync(
    svg,
    '<svg xmlns="http://www.w3.org/2000/svg" xmlns:xi="http://www.w3.org/2001/XInclude" width="64" height="64">' +
      '<text><xi:include href="secret.txt" parse="text"/></text></svg>',
  );
  await assert.rejects(decodeRgb(svg), refused(/not a raster image .* refused, as Pillow refuses it/));
  await assert.rejects(decodeRgb(Buffer.from('%PDF-1.4\n')), refused(/not a raster image/));
});

test('an image that is a FIFO is refused at once, not waited on', async (t) => {
  const fifo = join(tempDir(t), 'pipe.jpg');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  await assert.rejects(decodeRgb(fifo), refused(/is a FIFO \(named pipe\), not a regular file/));
});

test('dangling and looping class-folder symlinks are skipped by name; the rest of the dataset stays', { skip: needsShared }, (t) => {
  const root = join(tempDir(t), 'val');
  mkdirSync(join(root, 'n01440764'), { recursive: true });
  copyFileSync(golden('images', 'chelsea.jpg'), join(root, 'n01440764', 'a.jpg'));
  symlinkSync(join(root, 'nowhere'), join(root, 'n01443537'));
  symlinkSync(join(root, 'n01484850'), join(root, 'n01484850'));
  const ds = openDataset(root);
  assert.equal(ds.samples.length, 1);
  assert.deepEqual(ds.skipped.map((s) => [s.path.split('/').pop(), s.reason]).sort(), [
    ['n01443537', 'a dangling symbolic link'],
    ['n01484850', 'a symbolic link loop'],
  ]);
  // eval says so on stderr, and with --json in its summary (which is all --json prints).
  const r = runCli(['eval', 'levit_128s', root, '--weights', 'synthetic', '--json'], { LEVIT_CACHE_DIR: join(root, '..', 'cache') });
  assert.equal(r.status, 0, r.stderr);
  assert.deepEqual(
    JSON.parse(r.stdout)
      .dataset.skipped.map((s: { path: string }) => s.path.split('/').pop())
      .sort(),
    ['n01443537', 'n01484850'],
  );
});

test('file names reach the terminal escaped', () => {
  assert.equal(printable('a\u001b[2J\u001b]0;pwned\u0007.jpg'), 'a\\x1b[2J\\x1b]0;pwned\\x07.jpg');
  assert.equal(printable('ok \u202egpj.exe'), 'ok \\u202egpj.exe');
  assert.equal(printable('café.JPEG'), 'café.JPEG');
});

/** A stand-in model: the stream handling is what is tested, not the logits. */
const zeros: InferenceSession = {
  backend: 'ort-cpu',
  threads: 1,
  run: async (input) => floatTensor([input.shape[0], 1000]),
  release: async () => {},
};

test('a --predictions-out that cannot be written (full disk) still gives the whole summary', { skip: needsShared }, async (t) => {
  const dir = tempDir(t);
  const root = join(dir, 'val');
  mkdirSync(join(root, 'n01440764'), { recursive: true });
  for (const f of ['chelsea.jpg', 'coffee.jpg']) copyFileSync(golden('images', f), join(root, 'n01440764', f));
  const out = join(dir, 'preds.jsonl');
  symlinkSync('/dev/full', `${out}.${process.pid}.partial`);
  const options = { batch: 2, strict: false, real: false, workers: 1, predictionsOut: out, synthetic: true };
  const s = await evaluate(getCard('levit_128s'), 'ort-cpu', zeros, openDataset(root), options);
  assert.equal(s.evaluated, 2);
  assert.match(s.predictions_error ?? '', /cannot write .*preds\.jsonl: the disk is full \(ENOSPC\)/);
  assert.ok(!existsSync(out));
  assert.deepEqual(readdirSync(dir).sort(), ['val']);
});

test('predict on a .npy holding no images (shape [0, 3, 224, 224]) is refused by name, exit 3', (t) => {
  const dir = tempDir(t);
  const empty = join(dir, 'empty.npy');
  writeNpy(empty, floatTensor([0, 3, 224, 224]));
  const r = runCli(['predict', 'levit_128s', empty, '--weights', 'synthetic'], { LEVIT_CACHE_DIR: dir });
  assert.equal(r.status, 3, r.stderr);
  assert.match(r.stderr, /empty\.npy: holds no images \(shape \[0, 3, 224, 224\]\)/);
  assert.match(r.stderr, /none of the 1 input could be read/);
  assert.doesNotMatch(r.stderr, /TypeError|\n\s+at /);
});
