import assert from 'node:assert/strict';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { PickleError, PyDict, PyObject, unpickle } from '../src/checkpoint/pickle.js';
import { torchGlobals } from '../src/checkpoint/torch.js';
import { PickleWriter, u32 } from './helpers/pickle-writer.js';
import { tempDir } from './helpers/shared.js';

test('a reduce of os.system stays an inert, reported placeholder and runs nothing', (t) => {
  const marker = join(tempDir(t), 'pwned');
  const bytes = new PickleWriter().proto().global('os', 'system').mark().str(`touch ${marker}`).tuple().reduce().stop().toBuffer();
  const { value, unknownGlobals } = unpickle(bytes, 0, { globals: torchGlobals });
  assert.ok(value instanceof PyObject);
  assert.equal(value.cls.qualifiedName, 'os.system');
  assert.deepEqual(value.args, [`touch ${marker}`]);
  assert.deepEqual(unknownGlobals, ['os.system']);
  assert.equal(existsSync(marker), false);
});

test('BUILD state on an unknown class is kept as data, never applied', () => {
  const bytes = new PickleWriter()
    .proto()
    .global('argparse', 'Namespace')
    .emptyTuple()
    .newobj()
    .emptyDict()
    .str('lr')
    .int(5)
    .setitem()
    .build()
    .stop()
    .toBuffer();
  const { value, unknownGlobals } = unpickle(bytes);
  assert.ok(value instanceof PyObject && value.state instanceof PyDict);
  assert.equal(value.state.entries.get('lr'), 5);
  assert.deepEqual(unknownGlobals, ['argparse.Namespace']);
});

test('__proto__ keys stay inside the Map and pollute nothing', () => {
  const bytes = new PickleWriter().proto().emptyDict().str('__proto__').emptyDict().str('polluted').bool(true).setitem().setitem().stop().toBuffer();
  const { value } = unpickle(bytes);
  assert.ok(value instanceof PyDict);
  assert.ok(value.entries.get('__proto__') instanceof PyDict);
  assert.equal(({} as Record<string, unknown>).polluted, undefined);
  assert.equal(Object.prototype.hasOwnProperty.call(Object.prototype, 'polluted'), false);
});

test('unbounded nesting is refused, whether by marks or by containers', () => {
  const marks = new PickleWriter().proto();
  for (let i = 0; i < 100_000; i++) marks.mark();
  assert.throws(() => unpickle(marks.stop().toBuffer()), /more than 1000 open MARKs/);

  const lists = new PickleWriter().proto();
  for (let i = 0; i < 100_000; i++) lists.emptyList();
  for (let i = 0; i < 99_999; i++) lists.append();
  assert.throws(() => unpickle(lists.stop().toBuffer()), /nested deeper than 1000 levels/);

  const selfAppend = new PickleWriter().proto().emptyList().op(0x71, 0);
  for (let i = 0; i < 5000; i++) selfAppend.op(0x68, 0).append();
  assert.throws(() => unpickle(selfAppend.stop().toBuffer()), /nested deeper/);
});

test('a huge declared size is refused before anything is allocated', () => {
  const unicode = new PickleWriter()
    .proto()
    .op(0x58, ...u32(0xfffffff0))
    .stop()
    .toBuffer();
  assert.throws(
    () => unpickle(unicode),
    (e: Error) => e instanceof PickleError && /declares 4294967280 bytes but only 1 remain/.test(e.message),
  );

  const bytes8 = new PickleWriter().proto().op(0x8e, 0, 0, 0, 0, 0, 0, 0, 0x10).stop().toBuffer();
  assert.throws(() => unpickle(bytes8), /declares a length of/);

  const long4 = new PickleWriter()
    .proto()
    .op(0x8b, ...u32(1 << 30))
    .stop()
    .toBuffer();
  assert.throws(() => unpickle(long4), /integer of 1073741824 bytes/);
});

test('truncated and malformed pickles fail with the byte they failed at', () => {
  assert.throws(() => unpickle(new PickleWriter().proto().emptyDict().toBuffer()), /truncated/);
  assert.throws(() => unpickle(new PickleWriter().proto().op(0x68, 7).stop().toBuffer()), /memo entry 7 was never stored \(pickle byte 2\)/);
  assert.throws(() => unpickle(new PickleWriter().proto().op(0xff).stop().toBuffer()), /unsupported pickle opcode 0xff/);
  assert.throws(() => unpickle(new PickleWriter().proto().reduce().stop().toBuffer()), /stack underflow/);
});

test('integers, floats and strings of every width decode like Python', () => {
  const p = new PickleWriter()
    .proto()
    .mark()
    .int(7)
    .int(300)
    .int(70000)
    .op(0x4a, ...u32(-5 >>> 0));
  p.op(0x8a, 9, 0, 0, 0, 0, 0, 0, 0, 0x80, 0xff); // LONG1: -(2**63)
  p.op(0x47, 0x40, 0x09, 0x21, 0xfb, 0x54, 0x44, 0x2d, 0x18); // BINFLOAT pi
  p.op(0x8c, 2, 0xc3, 0xa9).tuple().stop(); // SHORT_BINUNICODE 'é'
  const { value } = unpickle(p.toBuffer());
  assert.deepEqual((value as { items: unknown[] }).items, [7, 300, 70000, -5, -(2n ** 63n), Math.PI, 'é']);
});
