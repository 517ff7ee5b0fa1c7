/** The integer arithmetic of int8 quantization, shared by the rewrites and their tests. */

/** An activation's quantization: uint8, asymmetric (U8S8: unsigned activations, signed weights). */
export interface ActivationQuant {
  scale: number;
  zeroPoint: number;
}

/** Per-channel symmetric int8 weights: q = round(w / scale[c]), zero point 0. */
export interface WeightQuant {
  data: Int8Array;
  scales: Float32Array;
}

/** Round half to even, as QuantizeLinear does. */
export function roundHalfEven(x: number): number {
  const r = Math.round(x);
  return Math.abs(x % 1) === 0.5 && r % 2 !== 0 ? r - 1 : r;
}

/**
 * The uint8 scale and zero point covering [min, max]; the range is widened to include 0 so that
 * zero (padding, ReLU-like outputs) is exact.
 */
export function activationQuant(min: number, max: number): ActivationQuant {
  const lo = Math.min(min, 0);
  const hi = Math.max(max, 0);
  const scale = hi > lo ? Math.fround((hi - lo) / 255) : 1;
  const zeroPoint = Math.min(255, Math.max(0, roundHalfEven(-lo / scale)));
  return { scale, zeroPoint };
}

export function quantizeActivation(x: number, q: ActivationQuant): number {
  return Math.min(255, Math.max(0, roundHalfEven(x / q.scale) + q.zeroPoint));
}

/**
 * Quantizes a weight tensor per output channel along `axis`. With `reduceRange` the weights use
 * 7 bits ([-64, 63]): onnxruntime's U8S8 kernels on AVX2 without VNNI sum pairs of u8*s8 products
 * into int16 (vpmaddubsw), which can saturate with full-range weights.
 */
export function quantizeWeights(data: Float32Array, shape: readonly number[], axis: number, reduceRange = false): WeightQuant {
  const channels = shape[axis];
  const inner = shape.slice(axis + 1).reduce((a, b) => a * b, 1);
  const qmax = reduceRange ? 63 : 127;
  const absMax = new Float32Array(channels);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    absMax[c] = Math.max(absMax[c], Math.abs(data[i]));
  }
  const scales = absMax.map((m) => (m > 0 ? Math.fround(m / qmax) : 1));
  const q = new Int8Array(data.length);
  for (let i = 0; i < data.length; i++) {
    const c = Math.floor(i / inner) % channels;
    q[i] = Math.min(qmax, Math.max(-qmax, roundHalfEven(data[i] / scales[c])));
  }
  return { data: q, scales };
}

/** Signal-to-quantization-noise ratio in dB of `test` against `reference` (Infinity when equal). */
export function sqnr(reference: ArrayLike<number>, test: ArrayLike<number>): number {
  let signal = 0;
  let noise = 0;
  for (let i = 0; i < reference.length; i++) {
    signal += reference[i] * reference[i];
    noise += (reference[i] - test[i]) ** 2;
  }
  if (noise === 0) return Infinity;
  return 10 * Math.log10(signal / noise);
}

const f32 = new Float32Array(1);
const u32 = new Uint32Array(f32.buffer);

/** IEEE binary16 bits of a float32, rounded to nearest even (overflow to infinity, as a cast does). */
export function toHalf(value: number): number {
  f32[0] = value;
  const x = u32[0];
  const sign = (x >>> 16) & 0x8000;
  const exp = (x >>> 23) & 0xff;
  let mant = x & 0x7fffff;
  if (exp === 0xff) return sign | 0x7c00 | (mant ? 0x200 : 0);
  const e = exp - 127 + 15;
  if (e >= 0x1f) return sign | 0x7c00;
  if (e <= 0) {
    if (e < -10) return sign;
    mant |= 0x800000;
    const shift = 14 - e;
    const half = 1 << (shift - 1);
    const rest = mant & ((1 << shift) - 1);
    let m = mant >>> shift;
    if (rest > half || (rest === half && m & 1)) m++;
    return sign | m;
  }
  const rest = mant & 0x1fff;
  let h = sign | (e << 10) | (mant >>> 13);
  if (rest > 0x1000 || (rest === 0x1000 && h & 1)) h++;
  return h;
}

export function fromHalf(h: number): number {
  const sign = h & 0x8000 ? -1 : 1;
  const exp = (h >>> 10) & 0x1f;
  const mant = h & 0x3ff;
  if (exp === 0) return sign * mant * 2 ** -24;
  if (exp === 0x1f) return mant ? NaN : sign * Infinity;
  return sign * (1 + mant / 1024) * 2 ** (exp - 15);
}
