import { CorruptFileError } from '../core/errors.js';
import { type StorageKind, storageKinds, tensorFromStorage } from './storage.js';
import { type WeightsMap, numel } from '../core/tensor.js';

const DTYPES: ReadonlyMap<string, string> = new Map([
  ['F32', 'FloatStorage'],
  ['F64', 'DoubleStorage'],
  ['F16', 'HalfStorage'],
  ['BF16', 'BFloat16Storage'],
  ['I64', 'LongStorage'],
  ['I32', 'IntStorage'],
  ['I16', 'ShortStorage'],
  ['I8', 'CharStorage'],
  ['U8', 'ByteStorage'],
  ['BOOL', 'BoolStorage'],
]);
/** The reference implementation's bound on the JSON header. */
const MAX_HEADER_BYTES = 100_000_000;

/** The first 8 bytes are a little-endian header length that a JSON object follows. */
export function isSafetensors(buf: Buffer): boolean {
  if (buf.length < 10) return false;
  const n = buf.readBigUInt64LE(0);
  return n > 1n && n <= BigInt(buf.length - 8) && buf[8] === 0x7b;
}

interface Entry {
  name: string;
  kind: StorageKind;
  shape: number[];
  begin: number;
  end: number;
}

const isPlainObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** Validates one header entry as the reference implementation does: known dtype, integer shape, two integer offsets. */
function parseEntry(name: string, raw: unknown, fail: (why: string) => Error): Entry {
  if (!isPlainObject(raw)) throw fail('is not an object');
  const { dtype, shape, data_offsets: offsets } = raw;
  const kindName = typeof dtype === 'string' ? DTYPES.get(dtype) : undefined;
  if (!kindName) throw fail(`unsupported dtype ${JSON.stringify(dtype) ?? String(dtype)}`);
  if (!Array.isArray(shape) || !shape.every((d) => Number.isSafeInteger(d) && d >= 0)) throw fail('invalid shape');
  if (!Array.isArray(offsets) || offsets.length !== 2 || !offsets.every((o) => Number.isSafeInteger(o) && o >= 0) || offsets[1] < offsets[0]) {
    throw fail(`data_offsets ${JSON.stringify(offsets)} are not two increasing integers`);
  }
  return { name, kind: storageKinds.get(kindName)!, shape: shape as number[], begin: offsets[0], end: offsets[1] };
}

/** Reads a .safetensors file: a JSON header of tensor locations, then the raw data. */
export function readSafetensors(buf: Buffer, file: string): WeightsMap {
  const headerLength = Number(buf.readBigUInt64LE(0));
  if (headerLength > MAX_HEADER_BYTES || 8 + headerLength > buf.length) {
    throw new CorruptFileError(file, `declares a safetensors header of ${headerLength} bytes (truncated or crafted)`);
  }
  let header: unknown;
  try {
    header = JSON.parse(buf.toString('utf8', 8, 8 + headerLength));
  } catch (e) {
    throw new CorruptFileError(file, `has an unreadable safetensors header: ${(e as Error).message}`);
  }
  if (!isPlainObject(header)) throw new CorruptFileError(file, 'has a safetensors header that is not a JSON object');
  const dataStart = 8 + headerLength;
  const entries: Entry[] = [];
  for (const [name, raw] of Object.entries(header)) {
    if (name === '__metadata__') {
      if (!isPlainObject(raw) || !Object.values(raw).every((v) => typeof v === 'string')) {
        throw new CorruptFileError(file, '__metadata__ is not a map of strings');
      }
      continue;
    }
    const fail = (why: string) => new CorruptFileError(file, `tensor ${name}: ${why}`);
    const e = parseEntry(name, raw, fail);
    const count = numel(e.shape);
    if (e.end - e.begin !== count * e.kind.itemSize) {
      throw fail(`holds ${e.end - e.begin} bytes, shape [${e.shape.join(', ')}] needs ${count * e.kind.itemSize}`);
    }
    entries.push(e);
  }
  // As the reference does: the tensors' data lie end to end, without gaps or overlaps, and fill the file.
  entries.sort((a, b) => a.begin - b.begin || a.end - b.end);
  let expected = 0;
  for (const e of entries) {
    if (e.begin !== expected) {
      throw new CorruptFileError(file, `tensor ${e.name}: data start at ${e.begin}, expected ${expected} (overlapping or gapped tensors)`);
    }
    expected = e.end;
  }
  if (dataStart + expected !== buf.length) {
    throw new CorruptFileError(file, `tensor data end at byte ${dataStart + expected} but the file has ${buf.length} (truncated or trailing data)`);
  }
  const weights: WeightsMap = new Map();
  for (const e of entries) {
    const count = numel(e.shape);
    const strides = e.shape.map((_, d) => numel(e.shape.slice(d + 1)));
    weights.set(e.name, tensorFromStorage({ kind: e.kind, bytes: buf.subarray(dataStart + e.begin, dataStart + e.end), numel: count }, 0, e.shape, strides));
  }
  return weights;
}
