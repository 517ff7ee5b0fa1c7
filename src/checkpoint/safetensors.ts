import { CorruptFileError } from '../core/errors.js';
import { storageKinds, tensorFromStorage } from './storage.js';
import { type WeightsMap, numel } from '../core/tensor.js';

const DTYPES: Record<string, string> = {
  F32: 'FloatStorage',
  F64: 'DoubleStorage',
  F16: 'HalfStorage',
  BF16: 'BFloat16Storage',
  I64: 'LongStorage',
  I32: 'IntStorage',
  I16: 'ShortStorage',
  I8: 'CharStorage',
  U8: 'ByteStorage',
  BOOL: 'BoolStorage',
};

/** The first 8 bytes are a little-endian header length that a JSON object follows. */
export function isSafetensors(buf: Buffer): boolean {
  if (buf.length < 10) return false;
  const n = buf.readBigUInt64LE(0);
  return n > 1n && n <= BigInt(buf.length - 8) && buf[8] === 0x7b;
}

interface Entry {
  dtype: string;
  shape: number[];
  data_offsets: [number, number];
}

/** Reads a .safetensors file: a JSON header of tensor locations, then the raw data. */
export function readSafetensors(buf: Buffer, file: string): WeightsMap {
  const headerLength = Number(buf.readBigUInt64LE(0));
  let header: Record<string, unknown>;
  try {
    header = JSON.parse(buf.toString('utf8', 8, 8 + headerLength));
  } catch (e) {
    throw new CorruptFileError(file, `has an unreadable safetensors header: ${(e as Error).message}`);
  }
  const dataStart = 8 + headerLength;
  const weights: WeightsMap = new Map();
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') continue;
    const e = raw as Entry;
    const kindName = DTYPES[e?.dtype];
    const fail = (why: string) => new CorruptFileError(file, `tensor ${name}: ${why}`);
    if (!kindName) throw fail(`unsupported dtype ${String(e?.dtype)}`);
    if (!Array.isArray(e.shape) || !e.shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw fail('invalid shape');
    const [begin, end] = e.data_offsets ?? [];
    const kind = storageKinds.get(kindName)!;
    if (!Number.isSafeInteger(begin) || !Number.isSafeInteger(end) || begin < 0 || end < begin || dataStart + end > buf.length) {
      throw fail(`data [${begin}, ${end}) lies outside the file (truncated?)`);
    }
    const count = numel(e.shape);
    if (end - begin !== count * kind.itemSize) throw fail(`holds ${end - begin} bytes, shape [${e.shape.join(', ')}] needs ${count * kind.itemSize}`);
    const strides = e.shape.map((_, d) => numel(e.shape.slice(d + 1)));
    weights.set(name, tensorFromStorage({ kind, bytes: buf.subarray(dataStart + begin, dataStart + end), numel: count }, 0, e.shape, strides));
  }
  return weights;
}
