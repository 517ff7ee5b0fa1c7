/** The element types a checkpoint may hold, as the model builders see them after loading. */
export type DType = 'float32' | 'int64' | 'int32' | 'uint8' | 'bool';

export type TensorData = {
  float32: Float32Array;
  int64: BigInt64Array;
  int32: Int32Array;
  uint8: Uint8Array;
  bool: Uint8Array;
};

export interface Tensor<D extends DType = DType> {
  readonly dtype: D;
  readonly shape: readonly number[];
  readonly data: TensorData[D];
}

export type FloatTensor = Tensor<'float32'>;

/** A name -> tensor map, the common currency between checkpoint readers and model builders. */
export type WeightsMap = Map<string, Tensor>;

export function numel(shape: readonly number[]): number {
  let n = 1;
  for (const d of shape) n *= d;
  return n;
}

export function floatTensor(shape: readonly number[], data?: Float32Array): FloatTensor {
  const size = numel(shape);
  if (data && data.length !== size) {
    throw new Error(`tensor data has ${data.length} elements, shape [${shape.join(', ')}] needs ${size}`);
  }
  return { dtype: 'float32', shape: [...shape], data: data ?? new Float32Array(size) };
}

export function formatShape(shape: readonly number[]): string {
  return `[${shape.join(', ')}]`;
}

export function sameShape(a: readonly number[], b: readonly number[]): boolean {
  return a.length === b.length && a.every((d, i) => d === b[i]);
}

export function asFloat(t: Tensor, name: string): FloatTensor {
  if (t.dtype !== 'float32') throw new Error(`${name}: expected a float tensor, found ${t.dtype}`);
  return t as FloatTensor;
}

/** Widens an integer tensor to plain numbers (indices are small enough to be exact). */
export function toIntArray(t: Tensor): number[] {
  if (t.dtype === 'int64') return Array.from(t.data as BigInt64Array, (v) => Number(v));
  return Array.from(t.data as ArrayLike<number>);
}
