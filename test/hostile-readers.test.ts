import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { crc32, createDeflateRaw } from 'node:zlib';
import { readCheckpoint, readCheckpointBytes } from '../src/checkpoint/index.js';
import { ZipArchive } from '../src/checkpoint/zip.js';
import { floatTensor } from '../src/core/tensor.js';
import { CorruptFileError, ExitCode, LevitError } from '../src/core/errors.js';
import { readNpy } from '../src/util/npy.js';
import { PickleWriter } from './helpers/pickle-writer.js';
import { readInChild } from './helpers/rss-probe.js';
import { safetensorsBuffer } from './helpers/safetensors-save.js';
import { golden, needsShared, tempDir } from './helpers/shared.js';
import { torchSaveBuffer, zipStored } from './helpers/torch-save.js';

const MiB = 1024 * 1024;

/** A one-tensor state_dict pickle whose storage, shape and stride are whatever the test says. */
function tensorPickle(o: { numel: number; shape: number[]; stride: number[] }): Buffer {
  const p = new PickleWriter().proto().global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  p.str('w').global('torch._utils', '_rebuild_tensor_v2').mark();
  p.mark().str('storage').global('torch', 'FloatStorage').str('0').str('cpu').int(o.numel).tuple().binpersid();
  p.int(0).mark();
  for (const d of o.shape) p.int(d);
  p.tuple().mark();
  for (const s of o.stride) p.int(s);
  p.tuple().bool(false).emptyTuple().tuple().reduce().setitems().stop();
  return p.toBuffer();
}

/** `bytes` zeros, deflated without ever holding them all (a zip bomb's member). */
async function deflatedZeros(bytes: number): Promise<Buffer> {
  const out: Buffer[] = [];
  const z = createDeflateRaw({ level: 1 });
  z.on('data', (c: Buffer) => out.push(c));
  const chunk = Buffer.alloc(MiB);
  for (let done = 0; done < bytes; done += MiB) if (!z.write(chunk)) await new Promise((r) => z.once('drain', r));
  await new Promise((r) => z.end(r));
  return Buffer.concat(out);
}

/** `others` stored, then one member of `size` zeros, deflated: declared and real size agree, so only a size check stops it. */
async function zipWithBomb(name: string, size: number, others: [string, Buffer][]): Promise<Buffer> {
  let crc = 0;
  const chunk = Buffer.alloc(MiB);
  for (let done = 0; done < size; done += MiB) crc = crc32(chunk, crc);
  const body = await deflatedZeros(size);
  return zipWithMember(others, name, body, size, crc);
}

/** Appends a deflated member to a stored archive, moving the central directory after it. */
function zipWithMember(others: [string, Buffer][], name: string, body: Buffer, size: number, crc: number): Buffer {
  const base = zipStored(others);
  const eocd = base.length - 22;
  const dirOffset = base.readUInt32LE(eocd + 16);
  const dirSize = base.readUInt32LE(eocd + 12);
  const n = Buffer.from(name);
  const local = Buffer.alloc(30);
  local.writeUInt32LE(0x04034b50, 0);
  local.writeUInt16LE(20, 4);
  local.writeUInt16LE(8, 8);
  local.writeUInt32LE(crc, 14);
  local.writeUInt32LE(body.length, 18);
  local.writeUInt32LE(size, 22);
  local.writeUInt16LE(n.length, 26);
  const central = Buffer.alloc(46);
  central.writeUInt32LE(0x02014b50, 0);
  central.writeUInt16LE(20, 4);
  central.writeUInt16LE(20, 6);
  central.writeUInt16LE(8, 10);
  central.writeUInt32LE(crc, 16);
  central.writeUInt32LE(body.length, 20);
  central.writeUInt32LE(size, 24);
  central.writeUInt16LE(n.length, 28);
  central.writeUInt32LE(dirOffset, 42);
  const newDirOffset = dirOffset + 30 + n.length + body.length;
  const end = Buffer.from(base.subarray(eocd));
  end.writeUInt16LE(others.length + 1, 8);
  end.writeUInt16LE(others.length + 1, 10);
  end.writeUInt32LE(dirSize + 46 + n.length, 12);
  end.writeUInt32LE(newDirOffset, 16);
  return Buffer.concat([base.subarray(0, dirOffset), local, n, body, base.subarray(dirOffset, dirOffset + dirSize), central, n, end]);
}

const badInput = (e: unknown) => e instanceof LevitError && e.exitCode === ExitCode.badInput;

test('crafted pickles, zip bombs and stride-0 views are refused within a bounded peak memory', { skip: needsShared }, async (t) => {
  const dir = tempDir(t);
  const legit = readInChild(golden('levit_128s', 'LeViT-128S-golden.pth'));
  assert.equal(legit.error, null);
  const write = (name: string, data: Buffer) => {
    writeFileSync(join(dir, name), data);
    return join(dir, name);
  };
  const dictFlood = Buffer.concat([Buffer.from([0x80, 2, 0x28]), Buffer.alloc(4_000_000, 0x7d), Buffer.from([0x6c, 0x2e])]);
  const dupFlood = Buffer.concat([Buffer.from([0x80, 2, 0x5d]), Buffer.alloc(40_000_000, 0x32), Buffer.from([0x2e])]);
  const cases: [string, Buffer, RegExp][] = [
    ['dicts.pth', zipStored([['a/data.pkl', dictFlood]], { deflate: true }), /builds more than 250000 values/],
    ['dups.pth', zipStored([['a/data.pkl', dupFlood]], { deflate: true }), /builds more than 250000 values/],
    ['pkl-bomb.pth', await zipWithBomb('a/data.pkl', 256 * MiB, []), /member a\/data.pkl declares 268435456 bytes where at most 67108864/],
    [
      'storage-bomb.pth',
      await zipWithBomb('a/data/0', 256 * MiB, [['a/data.pkl', tensorPickle({ numel: 10, shape: [10], stride: [1] })]]),
      /member a\/data\/0 declares 268435456 bytes where at most 40 can be used/,
    ],
    [
      'stride0.pth',
      zipStored([
        ['a/data.pkl', tensorPickle({ numel: 1, shape: [65536, 65536], stride: [0, 0] })],
        ['a/data/0', Buffer.alloc(4)],
      ]),
      /shape \[65536, 65536\] has more elements than its storage's 1/,
    ],
  ];
  for (const [name, data, message] of cases) {
    assert.ok(data.length < 2 * MiB, `${name} is small (${data.length} bytes)`);
    const r = readInChild(write(name, data));
    assert.equal(r.status, 0, `${name} crashed the reader: ${r.error?.message}`);
    assert.equal(r.error?.name, 'CorruptFileError', `${name}: ${JSON.stringify(r.error)}`);
    assert.equal(r.error?.exitCode, ExitCode.badInput);
    assert.match(r.error!.message, message);
    assert.ok(r.peakRss < 2 * legit.peakRss, `${name}: peak ${r.peakRss} bytes, over twice a real checkpoint's ${legit.peakRss}`);
    const mib = (bytes: number) => `${(bytes / MiB).toFixed(0)} MiB`;
    console.log(`# ${name} (${data.length} bytes): refused, peak RSS ${mib(r.peakRss)} (golden LeViT-128S read: ${mib(legit.peakRss)})`);
  }
});

test('a checkpoint must be a regular file: /dev/zero and a FIFO are refused at once', (t) => {
  assert.throws(
    () => readCheckpoint('/dev/zero'),
    (e: Error) => badInput(e) && /is a character device, not a regular file/.test(e.message),
  );
  const fifo = join(tempDir(t), 'pipe.pth');
  assert.equal(spawnSync('mkfifo', [fifo]).status, 0);
  assert.throws(
    () => readCheckpoint(fifo),
    (e: Error) => badInput(e) && /is a FIFO \(named pipe\), not a regular file/.test(e.message),
  );
  assert.throws(
    () => readCheckpoint(tempDir(t)),
    (e: Error) => badInput(e) && /is a directory/.test(e.message),
  );
  assert.throws(
    () => readCheckpoint(join(tempDir(t), 'none.pth')),
    (e: Error) => e instanceof LevitError && e.exitCode === ExitCode.notFound,
  );
});

// eslint-disable-next-line @typescript-eslint/no-explicit-any -- a header broken on purpose takes any shape
type Header = Record<string, any>;

function safetensorsWith(edit: (header: Header) => void, extra = 0): Buffer {
  const good = safetensorsBuffer(
    new Map([
      ['a', { dtype: 'float32', shape: [2], data: new Float32Array([1, 2]) }],
      ['b', { dtype: 'float32', shape: [2], data: new Float32Array([3, 4]) }],
    ]),
  );
  const n = Number(good.readBigUInt64LE(0));
  const header = JSON.parse(good.toString('utf8', 8, 8 + n));
  edit(header);
  const json = Buffer.from(JSON.stringify(header));
  const length = Buffer.alloc(8);
  length.writeBigUInt64LE(BigInt(json.length));
  return Buffer.concat([length, json, good.subarray(8 + n), Buffer.alloc(extra)]);
}

test('safetensors headers are validated as the reference implementation does', (t) => {
  const dir = tempDir(t);
  const read = (data: Buffer) => {
    const file = join(dir, 'x.safetensors');
    writeFileSync(file, data);
    return readCheckpoint(file);
  };
  assert.deepEqual([...read(safetensorsWith(() => {})).weights.keys()], ['a', 'b']);
  for (const dtype of ['__proto__', 'toString', 'constructor', 'hasOwnProperty']) {
    assert.throws(
      () => read(safetensorsWith((h) => (h.a.dtype = dtype))),
      (e: Error) => badInput(e) && /unsupported dtype/.test(e.message),
      dtype,
    );
  }
  const refused: [string, (h: Header) => void, RegExp, number?][] = [
    ['offsets not an array', (h) => (h.a.data_offsets = 8), /are not two increasing integers/],
    ['offsets a string', (h) => (h.a.data_offsets = '0,8'), /are not two increasing integers/],
    ['three offsets', (h) => (h.a.data_offsets = [0, 8, 9]), /are not two increasing integers/],
    ['overlapping', (h) => (h.b.data_offsets = [0, 8]), /overlapping or gapped/],
    ['a gap', (h) => ((h.b.data_offsets = [12, 20]), (h.a.data_offsets = [0, 8])), /overlapping or gapped|truncated/],
    ['trailing data', () => {}, /trailing data/, 4],
    ['entry not an object', (h) => (h.a = [1, 2]), /is not an object/],
    ['metadata not strings', (h) => (h.__metadata__ = { format: 1 }), /__metadata__ is not a map of strings/],
  ];
  for (const [what, edit, message, extra] of refused) {
    assert.throws(
      () => read(safetensorsWith(edit, extra)),
      (e: Error) => badInput(e) && message.test(e.message),
      what,
    );
  }
  const header = Buffer.alloc(16);
  header.writeBigUInt64LE(2n ** 40n);
  header[8] = 0x7b;
  assert.throws(
    () => read(header),
    (e: Error) => badInput(e),
  );
});

test('.npy shapes must be non-negative integers', (t) => {
  const dir = tempDir(t);
  const npy = (shape: string, values: number) => {
    let h = `{'descr': '<f4', 'fortran_order': False, 'shape': (${shape}), }`;
    h += ' '.repeat(63 - ((10 + h.length) % 64)) + '\n';
    const pre = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59, 1, 0, 0, 0]);
    pre.writeUInt16LE(h.length, 8);
    const file = join(dir, 'x.npy');
    writeFileSync(file, Buffer.concat([pre, Buffer.from(h, 'latin1'), Buffer.alloc(values * 4)]));
    return file;
  };
  assert.deepEqual(readNpy(npy('2, 3', 6)).shape, [2, 3]);
  for (const shape of ['1.5, 3, 2, 2', '-1, 3', '1e3, 2', '0x10,', 'None,']) {
    assert.throws(
      () => readNpy(npy(shape, 18)),
      (e: Error) => e instanceof CorruptFileError && /not a tuple of non-negative integers/.test(e.message),
      shape,
    );
  }
  assert.throws(
    () => readNpy(npy('99999999999, 99999999999', 4)),
    (e: Error) => e instanceof CorruptFileError && /truncated/.test(e.message),
  );
});

test('a legacy checkpoint whose storage key list is None is refused by name', (t) => {
  const magic = Buffer.from([0x80, 2, 0x8a, 10, 0x6c, 0xfc, 0x9c, 0x46, 0xf9, 0x20, 0x6a, 0xa8, 0x50, 0x19, 0x2e]);
  const protocol = new PickleWriter().proto().int(1001).stop().toBuffer();
  const sysInfo = new PickleWriter().proto().emptyDict().stop().toBuffer();
  const main = new PickleWriter().proto().emptyDict().stop().toBuffer();
  const keys = new PickleWriter().proto().op(0x4e).stop().toBuffer();
  const file = join(tempDir(t), 'legacy.pth');
  writeFileSync(file, Buffer.concat([magic, protocol, sysInfo, main, keys]));
  assert.throws(
    () => readCheckpoint(file),
    (e: Error) => badInput(e) && /storage key list is missing/.test(e.message),
  );
});

test('a checkpoint zip holding a member twice (the second copy all zeros) is refused, not read either way', () => {
  const good = torchSaveBuffer(new Map([['w', floatTensor([4], new Float32Array([1, 2, 3, 4]))]]), { key: null });
  const members = new ZipArchive(good, 'good.pth').entries;
  const storage = [...members.keys()].find((n) => n.endsWith('/data/0'))!;
  const entries: [string, Buffer][] = [...members.keys()].map((n) => [n, new ZipArchive(good, 'g').read(n, 1 << 20)]);
  const twice = zipStored([...entries, [storage, Buffer.alloc(16)]]);
  assert.throws(
    () => readCheckpointBytes(twice, 'twice.pth'),
    (e: Error) => e instanceof CorruptFileError && e.exitCode === ExitCode.badInput && /zip member .*\/data\/0 appears twice/.test(e.message),
  );
});
