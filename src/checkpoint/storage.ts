import { numel, type DType, type Tensor, type TensorData } from '../core/tensor.js';

/** A PyTorch storage element type: how it is stored on disk and what it loads as. */
export interface StorageKind {
  readonly torchName: string;
  readonly itemSize: number;
  readonly loadsAs: DType;
  /** Reads element i of a little-endian byte buffer. */
  readonly read: (buf: Buffer, i: number) => number | bigint;
}

const halfToFloat = (h: number): number => {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >> 10) & 0x1f;
  const frac = h & 0x3ff;
  if (exp === 0) return sign * frac * 2 ** -24;
  if (exp === 31) return frac ? Number.NaN : sign * Number.POSITIVE_INFINITY;
  return sign * (1 + frac / 1024) * 2 ** (exp - 15);
};
const bf16View = new DataView(new ArrayBuffer(4));
const bf16ToFloat = (b: number): number => {
  bf16View.setUint32(0, b << 16);
  return bf16View.getFloat32(0);
};

const kinds: StorageKind[] = [
  { torchName: 'FloatStorage', itemSize: 4, loadsAs: 'float32', read: (b, i) => b.readFloatLE(i * 4) },
  { torchName: 'DoubleStorage', itemSize: 8, loadsAs: 'float32', read: (b, i) => b.readDoubleLE(i * 8) },
  { torchName: 'HalfStorage', itemSize: 2, loadsAs: 'float32', read: (b, i) => halfToFloat(b.readUInt16LE(i * 2)) },
  { torchName: 'BFloat16Storage', itemSize: 2, loadsAs: 'float32', read: (b, i) => bf16ToFloat(b.readUInt16LE(i * 2)) },
  { torchName: 'LongStorage', itemSize: 8, loadsAs: 'int64', read: (b, i) => b.readBigInt64LE(i * 8) },
  { torchName: 'IntStorage', itemSize: 4, loadsAs: 'int32', read: (b, i) => b.readInt32LE(i * 4) },
  { torchName: 'ShortStorage', itemSize: 2, loadsAs: 'int32', read: (b, i) => b.readInt16LE(i * 2) },
  { torchName: 'CharStorage', itemSize: 1, loadsAs: 'int32', read: (b, i) => b.readInt8(i) },
  { torchName: 'ByteStorage', itemSize: 1, loadsAs: 'uint8', read: (b, i) => b[i] },
  { torchName: 'BoolStorage', itemSize: 1, loadsAs: 'bool', read: (b, i) => b[i] },
];
export const storageKinds: ReadonlyMap<string, StorageKind> = new Map(kinds.map((k) => [k.torchName, k]));

/** Raw storage bytes with their element type. */
export interface Storage {
  readonly kind: StorageKind;
  readonly bytes: Buffer;
  readonly numel: number;
}

function allocate(dtype: DType, n: number): TensorData[DType] {
  switch (dtype) {
    case 'float32':
      return new Float32Array(n);
    case 'int64':
      return new BigInt64Array(n);
    case 'int32':
      return new Int32Array(n);
    case 'uint8':
    case 'bool':
      return new Uint8Array(n);
  }
}

/**
 * Materialises a strided view of a storage as a dense tensor, after checking that every
 * element it addresses lies inside the storage (a crafted file cannot read out of bounds).
 */
export function tensorFromStorage(storage: Storage, offset: number, shape: readonly number[], stride: readonly number[]): Tensor {
  if (shape.length !== stride.length) throw new Error(`shape ${shape.length}-d but stride ${stride.length}-d`);
  if (![offset, ...shape, ...stride].every((v) => Number.isSafeInteger(v) && v >= 0)) {
    throw new Error('tensor offset, shape or stride is negative or not an integer');
  }
  const n = numel(shape);
  let last = offset;
  for (let d = 0; d < shape.length; d++) last += shape[d] > 0 ? (shape[d] - 1) * stride[d] : 0;
  if (n > 0 && last >= storage.numel) {
    throw new Error(`tensor of shape [${shape.join(', ')}] reaches element ${last} of a storage of ${storage.numel}`);
  }
  const { kind, bytes } = storage;
  const out = allocate(kind.loadsAs, n);
  const contiguous = stride.every((s, d) => shape[d] === 1 || s === numel(shape.slice(d + 1)));
  if (contiguous && kind.torchName === 'FloatStorage') {
    const src = new Float32Array(n);
    new Uint8Array(src.buffer).set(bytes.subarray(offset * 4, (offset + n) * 4));
    return { dtype: 'float32', shape: [...shape], data: src };
  }
  const index = new Array<number>(shape.length).fill(0);
  let src = offset;
  for (let i = 0; i < n; i++) {
    (out as { [k: number]: number | bigint })[i] = kind.read(bytes, src);
    for (let d = shape.length - 1; d >= 0; d--) {
      index[d]++;
      src += stride[d];
      if (index[d] < shape[d]) break;
      src -= stride[d] * shape[d];
      index[d] = 0;
    }
  }
  return { dtype: kind.loadsAs, shape: [...shape], data: out } as Tensor;
}
