import { readFileSync } from 'node:fs';
import type { RgbImage } from './decode.js';

/**
 * Pillow's resampling (libImaging/Resample.c) for 8-bit images, reproduced operation for
 * operation: a separable filter whose support widens with the downscale factor (this is the
 * antialiasing), coefficients normalised per output pixel then rounded to 22-bit fixed point,
 * a horizontal pass rounded to uint8, then a vertical pass. Matching it bit for bit is what
 * makes preprocessing "equal to torchvision on PIL".
 */
const PRECISION_BITS = 32 - 8 - 2;
const HALF = 1 << (PRECISION_BITS - 1);

export type Filter = 'bicubic' | 'bilinear';

const FILTERS: Record<Filter, { support: number; fn: (x: number) => number }> = {
  bicubic: {
    support: 2,
    fn: (x) => {
      const a = -0.5;
      x = Math.abs(x);
      if (x < 1) return ((a + 2) * x - (a + 3)) * x * x + 1;
      if (x < 2) return (((x - 5) * x + 8) * x - 4) * a;
      return 0;
    },
  },
  bilinear: { support: 1, fn: (x) => Math.max(0, 1 - Math.abs(x)) },
};

interface Coefficients {
  ksize: number;
  /** Per output pixel: first input index and tap count. */
  bounds: Int32Array;
  /** Fixed-point weights, ksize per output pixel. */
  weights: Int32Array;
}

const cache = new Map<string, Coefficients>();

/** Coefficients for one axis; cached, since datasets repeat a few image sizes. */
function coefficients(inSize: number, outSize: number, filter: Filter): Coefficients {
  const key = `${inSize}:${outSize}:${filter}`;
  let c = cache.get(key);
  if (!c) {
    if (cache.size > 256) cache.clear();
    c = computeCoefficients(inSize, outSize, filter);
    cache.set(key, c);
  }
  return c;
}

function computeCoefficients(inSize: number, outSize: number, filter: Filter): Coefficients {
  const { support: base, fn } = FILTERS[filter];
  const scale = inSize / outSize;
  const filterscale = Math.max(1, scale);
  const support = base * filterscale;
  const ksize = Math.ceil(support) * 2 + 1;
  const bounds = new Int32Array(outSize * 2);
  const weights = new Int32Array(outSize * ksize);
  const k = new Float64Array(ksize);
  for (let xx = 0; xx < outSize; xx++) {
    const center = (xx + 0.5) * scale;
    const ss = 1 / filterscale;
    // C's (int) truncates toward zero; these values are >= -0.5, so | 0 matches.
    const xmin = Math.max(0, Math.trunc(center - support + 0.5));
    const xmax = Math.min(inSize, Math.trunc(center + support + 0.5)) - xmin;
    let ww = 0;
    for (let x = 0; x < xmax; x++) {
      k[x] = fn((x + xmin - center + 0.5) * ss);
      ww += k[x];
    }
    for (let x = 0; x < ksize; x++) {
      const w = x < xmax && ww !== 0 ? k[x] / ww : 0;
      weights[xx * ksize + x] = w < 0 ? Math.trunc(-0.5 + w * (1 << PRECISION_BITS)) : Math.trunc(0.5 + w * (1 << PRECISION_BITS));
    }
    bounds[xx * 2] = xmin;
    bounds[xx * 2 + 1] = xmax;
  }
  return { ksize, bounds, weights };
}

const clip8 = (v: number) => {
  const s = v >> PRECISION_BITS;
  return s < 0 ? 0 : s > 255 ? 255 : s;
};

/** Horizontal pass over input rows [y0, y1), output columns [o0, o0 + outW). */
function horizontalPass(src: Uint8Array, width: number, y0: number, y1: number, o0: number, outW: number, c: Coefficients): Uint8Array {
  const out = new Uint8Array(outW * (y1 - y0) * 3);
  const { ksize, bounds, weights } = c;
  for (let y = y0; y < y1; y++) {
    const row = y * width * 3;
    const outRow = (y - y0) * outW;
    for (let oo = 0; oo < outW; oo++) {
      const o = o0 + oo;
      const xmin = bounds[o * 2];
      const xmax = bounds[o * 2 + 1];
      const kBase = o * ksize;
      let s0 = HALF;
      let s1 = HALF;
      let s2 = HALF;
      for (let x = 0, at = row + xmin * 3; x < xmax; x++, at += 3) {
        const w = weights[kBase + x];
        s0 += Math.imul(src[at], w);
        s1 += Math.imul(src[at + 1], w);
        s2 += Math.imul(src[at + 2], w);
      }
      const dst = (outRow + oo) * 3;
      out[dst] = clip8(s0);
      out[dst + 1] = clip8(s1);
      out[dst + 2] = clip8(s2);
    }
  }
  return out;
}

/**
 * Vertical pass for output rows [o0, o0 + outH): each value a weighted sum down its column,
 * kept in a register, reading the taps' rows in step (cache-friendly); `src` holds input rows
 * from `y0` on.
 */
function verticalPass(src: Uint8Array, width: number, y0: number, o0: number, outH: number, c: Coefficients): Uint8Array {
  const rowLength = width * 3;
  const out = new Uint8Array(rowLength * outH);
  const { ksize, bounds, weights } = c;
  for (let oo = 0; oo < outH; oo++) {
    const o = o0 + oo;
    const taps = bounds[o * 2 + 1];
    const base = (bounds[o * 2] - y0) * rowLength;
    const k = o * ksize;
    const dst = oo * rowLength;
    for (let i = 0; i < rowLength; i++) {
      let sum = HALF;
      for (let t = 0, at = base + i; t < taps; t++, at += rowLength) sum += Math.imul(src[at], weights[k + t]);
      const v = sum >> PRECISION_BITS;
      out[dst + i] = v < 0 ? 0 : v > 255 ? 255 : v;
    }
  }
  return out;
}

export interface Box {
  left: number;
  top: number;
  width: number;
  height: number;
}

/**
 * PIL's Image.resize((width, height), filter) for an RGB image, then cropped to `box`. Only the
 * pixels inside the box are computed (each is independent of the others), bit-identical to
 * resizing the whole image and cropping.
 */
export function resize(
  img: RgbImage,
  width: number,
  height: number,
  filter: Filter,
  box: Box = { left: 0, top: 0, width, height },
  kernels: 'wasm' | 'js' = 'wasm',
): RgbImage {
  if (box.left < 0 || box.top < 0 || box.left + box.width > width || box.top + box.height > height) {
    throw new Error(`crop box ${box.width}x${box.height}+${box.left}+${box.top} lies outside ${width}x${height}`);
  }
  const horizontal = width !== img.width ? coefficients(img.width, width, filter) : null;
  const vertical = height !== img.height ? coefficients(img.height, height, filter) : null;
  // Input rows the vertical pass will read for the output rows inside the box.
  const y0 = vertical ? vertical.bounds[box.top * 2] : box.top;
  const last = box.top + box.height - 1;
  const y1 = vertical ? vertical.bounds[last * 2] + vertical.bounds[last * 2 + 1] : box.top + box.height;
  const simd = kernels === 'wasm' ? simdKernels() : null;
  if (simd) return { width: box.width, height: box.height, data: simd.resize(img, box, y0, y1, horizontal, vertical) };
  let data: Uint8Array;
  if (horizontal) {
    data = horizontalPass(img.data, img.width, y0, y1, box.left, box.width, horizontal);
  } else {
    data = new Uint8Array(box.width * (y1 - y0) * 3);
    for (let y = y0; y < y1; y++)
      data.set(img.data.subarray((y * img.width + box.left) * 3, (y * img.width + box.left + box.width) * 3), (y - y0) * box.width * 3);
  }
  if (vertical) data = verticalPass(data, box.width, y0, box.top, box.height, vertical);
  return { width: box.width, height: box.height, data };
}

interface SimdExports {
  memory: WebAssembly.Memory;
  horizontal(src: number, width: number, y0: number, y1: number, o0: number, outW: number, bounds: number, weights: number, ksize: number, dst: number): void;
  vertical(src: number, rowLen: number, y0: number, o0: number, outH: number, bounds: number, weights: number, ksize: number, dst: number): void;
}

/** The same two passes in WebAssembly SIMD (resample.wat), bit-identical and several times faster. */
class SimdKernels {
  constructor(private readonly k: SimdExports) {}

  resize(img: RgbImage, box: Box, y0: number, y1: number, h: Coefficients | null, v: Coefficients | null): Uint8Array {
    const rowLen = box.width * 3;
    const sizes = {
      hb: h ? h.bounds.byteLength : 0,
      hw: h ? h.weights.byteLength : 0,
      vb: v ? v.bounds.byteLength : 0,
      vw: v ? v.weights.byteLength : 0,
      src: img.data.length,
      mid: rowLen * (y1 - y0),
      out: rowLen * box.height,
    };
    const at: Record<keyof typeof sizes, number> = { hb: 0, hw: 0, vb: 0, vw: 0, src: 0, mid: 0, out: 0 };
    let end = 0;
    for (const key of Object.keys(sizes) as (keyof typeof sizes)[]) {
      at[key] = end;
      end += Math.ceil((sizes[key] + 16) / 16) * 16;
    }
    const memory = this.k.memory;
    if (end > memory.buffer.byteLength) memory.grow(Math.ceil((end - memory.buffer.byteLength) / 65536));
    const bytes = new Uint8Array(memory.buffer);
    const put = (offset: number, a: Int32Array | Uint8Array) => bytes.set(new Uint8Array(a.buffer, a.byteOffset, a.byteLength), offset);
    if (h) {
      put(at.hb, h.bounds);
      put(at.hw, h.weights);
    }
    if (v) {
      put(at.vb, v.bounds);
      put(at.vw, v.weights);
    }
    put(at.src, img.data);
    if (h) {
      this.k.horizontal(at.src, img.width, y0, y1, box.left, box.width, at.hb, at.hw, h.ksize, at.mid);
    } else {
      for (let y = y0; y < y1; y++)
        bytes.copyWithin(at.mid + (y - y0) * rowLen, at.src + (y * img.width + box.left) * 3, at.src + (y * img.width + box.left) * 3 + rowLen);
    }
    if (!v) return bytes.slice(at.mid + (box.top - y0) * rowLen, at.mid + (box.top - y0 + box.height) * rowLen);
    this.k.vertical(at.mid, rowLen, y0, box.top, box.height, at.vb, at.vw, v.ksize, at.out);
    return bytes.slice(at.out, at.out + sizes.out);
  }
}

let simd: SimdKernels | null | undefined;

/** The SIMD kernels, or null where WebAssembly SIMD or the compiled module is missing (the JS passes then run). */
function simdKernels(): SimdKernels | null {
  if (simd !== undefined) return simd;
  try {
    const wasm = readFileSync(new URL('./resample.wasm', import.meta.url));
    const instance = new WebAssembly.Instance(new WebAssembly.Module(wasm), {});
    simd = new SimdKernels(instance.exports as unknown as SimdExports);
  } catch {
    simd = null;
  }
  return simd;
}
