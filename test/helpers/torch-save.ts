import { writeFileSync } from 'node:fs';
import { crc32, deflateRawSync } from 'node:zlib';
import type { Tensor } from '../../src/core/tensor.js';
import { PickleWriter } from './pickle-writer.js';

const STORAGE: Record<string, string> = { float32: 'FloatStorage', int64: 'LongStorage', int32: 'IntStorage', uint8: 'ByteStorage', bool: 'BoolStorage' };

export interface SaveOptions {
  /** Wrap as {'model': state_dict} (the official LeViT release), or save the bare state_dict. */
  key?: string | null;
  /** A training checkpoint's extras: an argparse.Namespace of these values beside the model. */
  args?: Record<string, string | number>;
  /** Archive folder name inside the zip (torch uses the file's base name). */
  archive?: string;
}

/** What torch.save(obj, f) writes with the zip serialization, for a dict of tensors. */
export function torchSaveBuffer(stateDict: ReadonlyMap<string, Tensor>, options: SaveOptions = {}): Buffer {
  const key = options.key === undefined ? 'model' : options.key;
  const p = new PickleWriter().proto(2);
  const storages: Buffer[] = [];
  if (key !== null) p.emptyDict().str(key);
  p.global('collections', 'OrderedDict').emptyTuple().reduce().mark();
  for (const [name, t] of stateDict) {
    const strides = t.shape.map((_, d) => t.shape.slice(d + 1).reduce((a, b) => a * b, 1));
    p.str(name).global('torch._utils', '_rebuild_tensor_v2').mark();
    p.mark().str('storage').global('torch', STORAGE[t.dtype]).str(String(storages.length)).str('cpu').int(t.data.length).tuple().binpersid();
    p.int(0).mark();
    for (const d of t.shape) p.int(d);
    p.tuple().mark();
    for (const s of strides) p.int(s);
    p.tuple().bool(false).global('collections', 'OrderedDict').emptyTuple().reduce().tuple().reduce();
    storages.push(Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength));
  }
  p.setitems();
  if (key !== null) {
    p.setitem();
    if (options.args) {
      p.str('args').global('argparse', 'Namespace').emptyTuple().newobj().emptyDict().mark();
      for (const [k, v] of Object.entries(options.args)) {
        if (typeof v === 'number') p.str(k).int(v);
        else p.str(k).str(v);
      }
      p.setitems().build().setitem();
    }
  }
  p.stop();
  const dir = options.archive ?? 'archive';
  const entries: [string, Buffer][] = [[`${dir}/data.pkl`, p.toBuffer()]];
  storages.forEach((s, i) => entries.push([`${dir}/data/${i}`, s]));
  entries.push([`${dir}/version`, Buffer.from('3\n')]);
  return zipStored(entries);
}

export function torchSave(file: string, stateDict: ReadonlyMap<string, Tensor>, options: SaveOptions = {}): void {
  writeFileSync(file, torchSaveBuffer(stateDict, options));
}

/**
 * A zip archive with every member stored uncompressed, as PyTorch writes it, or deflated
 * (`deflate`), as a crafted file may be.
 */
export function zipStored(entries: [string, Buffer][], { deflate = false } = {}): Buffer {
  const locals: Buffer[] = [];
  const centrals: Buffer[] = [];
  let offset = 0;
  for (const [name, data] of entries) {
    const n = Buffer.from(name, 'utf8');
    const crc = crc32(data);
    const body = deflate ? deflateRawSync(data) : data;
    const local = Buffer.alloc(30);
    local.writeUInt32LE(0x04034b50, 0);
    local.writeUInt16LE(20, 4);
    local.writeUInt16LE(deflate ? 8 : 0, 8);
    local.writeUInt32LE(crc, 14);
    local.writeUInt32LE(body.length, 18);
    local.writeUInt32LE(data.length, 22);
    local.writeUInt16LE(n.length, 26);
    const central = Buffer.alloc(46);
    central.writeUInt32LE(0x02014b50, 0);
    central.writeUInt16LE(20, 4);
    central.writeUInt16LE(20, 6);
    central.writeUInt16LE(deflate ? 8 : 0, 10);
    central.writeUInt32LE(crc, 16);
    central.writeUInt32LE(body.length, 20);
    central.writeUInt32LE(data.length, 24);
    central.writeUInt16LE(n.length, 28);
    central.writeUInt32LE(offset, 42);
    locals.push(local, n, body);
    centrals.push(central, n);
    offset += 30 + n.length + body.length;
  }
  const dirSize = centrals.reduce((s, b) => s + b.length, 0);
  const end = Buffer.alloc(22);
  end.writeUInt32LE(0x06054b50, 0);
  end.writeUInt16LE(entries.length, 8);
  end.writeUInt16LE(entries.length, 10);
  end.writeUInt32LE(dirSize, 12);
  end.writeUInt32LE(offset, 16);
  return Buffer.concat([...locals, ...centrals, end]);
}
