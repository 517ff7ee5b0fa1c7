import { type FloatTensor, numel } from '../core/tensor.js';
import { CorruptFileError } from '../core/errors.js';
import { writeFileAtomic } from './atomic.js';
import { readRegularFile } from './files.js';

const MAGIC = Buffer.from([0x93, 0x4e, 0x55, 0x4d, 0x50, 0x59]);

/** Reads a NumPy .npy array of floats (f4 or f8, either byte order) as float32. */
export function readNpy(file: string): FloatTensor {
  return parseNpy(readRegularFile(file, 'array'), file);
}

/** Parses .npy bytes already in memory; `file` names them in messages. */
export function parseNpy(buf: Buffer, file: string): FloatTensor {
  if (buf.length < 10 || !buf.subarray(0, 6).equals(MAGIC)) throw new CorruptFileError(file, 'is not a .npy file');
  const major = buf[6];
  if (major < 1 || major > 3 || buf.length < 12) throw new CorruptFileError(file, `is a .npy file of unknown version ${major} or truncated`);
  const headerLength = major === 1 ? buf.readUInt16LE(8) : buf.readUInt32LE(8);
  const start = (major === 1 ? 10 : 12) + headerLength;
  if (start > buf.length) throw new CorruptFileError(file, 'is truncated inside its .npy header');
  const header = buf.toString('latin1', major === 1 ? 10 : 12, start);
  const descr = /'descr':\s*'([<>|=]?)([a-z])(\d+)'/.exec(header);
  const shapeText = /'shape':\s*\(([^)]*)\)/.exec(header);
  if (!descr || !shapeText) throw new CorruptFileError(file, 'has an unreadable .npy header');
  if (/'fortran_order':\s*True/.test(header)) throw new CorruptFileError(file, 'is in Fortran order; save it C-contiguous');
  const dims = shapeText[1]
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  if (!dims.every((d) => /^\d{1,15}$/.test(d))) {
    throw new CorruptFileError(file, `has a shape (${shapeText[1]}) that is not a tuple of non-negative integers`);
  }
  const shape = dims.map(Number);
  const [, order, kind, sizeText] = descr;
  const size = Number(sizeText);
  if (kind !== 'f' || (size !== 4 && size !== 8)) {
    throw new CorruptFileError(file, `holds ${kind}${size} values; levit reads float32 or float64 arrays`);
  }
  const n = numel(shape);
  if (!Number.isSafeInteger(n) || buf.length < start + n * size) {
    throw new CorruptFileError(file, `is truncated: [${shape.join(', ')}] needs ${n * size} bytes of data`);
  }
  const big = order === '>';
  const data = new Float32Array(n);
  for (let i = 0; i < n; i++) {
    const at = start + i * size;
    data[i] = size === 4 ? (big ? buf.readFloatBE(at) : buf.readFloatLE(at)) : big ? buf.readDoubleBE(at) : buf.readDoubleLE(at);
  }
  return { dtype: 'float32', shape, data };
}

/** Writes a float32 array as .npy (version 1.0, little-endian, C order). */
export function writeNpy(file: string, t: FloatTensor): void {
  const dims = t.shape.length === 1 ? `${t.shape[0]},` : t.shape.join(', ');
  let header = `{'descr': '<f4', 'fortran_order': False, 'shape': (${dims}), }`;
  header += ' '.repeat(63 - ((10 + header.length) % 64)) + '\n';
  const prefix = Buffer.alloc(10);
  MAGIC.copy(prefix);
  prefix[6] = 1;
  prefix.writeUInt16LE(header.length, 8);
  const body = Buffer.from(t.data.buffer, t.data.byteOffset, t.data.byteLength);
  writeFileAtomic(file, Buffer.concat([prefix, Buffer.from(header, 'latin1'), body]));
}
