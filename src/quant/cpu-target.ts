import { readFileSync } from 'node:fs';
import * as ort from 'onnxruntime-node';
import { type OnnxModel, serializeOnnx } from '../onnx/model.js';

/**
 * The CPU an int8 artifact is made for, which decides its weights' range and graph form:
 * - vnni: AVX-512 VNNI or AVX-VNNI multiplies uint8 by int8 straight into int32 sums, so
 *   full-range (8-bit) weights are exact there; convolutions over the image stay float32;
 * - avx2: x86 without VNNI (and any CPU whose flags cannot be read): the U8S8 kernels sum pairs
 *   of products in int16 (vpmaddubsw), which full-range weights can saturate, so weights are
 *   pair-limited (numeric.ts WeightRange: 8-bit matrices no pair of which can saturate, 7-bit convolutions).
 */
export type Int8Target = 'vnni' | 'avx2';
export const INT8_TARGETS: readonly Int8Target[] = ['vnni', 'avx2'];

export interface Int8TargetChoice {
  target: Int8Target;
  /** Why, in words: the flags found, or that the user chose it. */
  reason: string;
}

/**
 * What decides int8 on this machine: the CPU's x86 flags (null where /proc/cpuinfo lists none: ARM,
 * other systems) and whether onnxruntime's uint8 x int8 products saturate here, as measured by
 * running them (int8Probe). The flags alone can lie: under an emulator or a hypervisor that hides
 * VNNI, /proc/cpuinfo shows the host's flags while onnxruntime picks its kernels from CPUID.
 */
export interface Int8Machine {
  flags: ReadonlySet<string> | null;
  /** Full-range products saturate here (pairs summed in int16, as AVX2 without VNNI does). */
  saturates: boolean;
}

const VNNI_FLAGS = ['avx512_vnni', 'avx_vnni'];

/** The x86 flags that /proc/cpuinfo lists (its first "flags" line), or null when it has none. */
export function cpuFlags(cpuinfo: string | null): Set<string> | null {
  const line = cpuinfo && /^flags\s*:(.*)$/m.exec(cpuinfo);
  return line ? new Set(line[1].trim().split(/\s+/)) : null;
}

/** The kernels' behaviour in words, for messages that explain a refusal or a choice. */
export const SATURATION_WORDS = 'sums pairs of uint8 x int8 products in 16 bits (AVX2 without VNNI)';

/** The target for a machine: vnni where its flags have VNNI and the probe found its products exact. */
export function detectInt8Target(m: Int8Machine): Int8TargetChoice {
  const vnni = m.flags ? VNNI_FLAGS.filter((f) => m.flags!.has(f)) : [];
  if (vnni.length && m.saturates) {
    return {
      target: 'avx2',
      reason:
        `onnxruntime on this CPU ${SATURATION_WORDS}, although /proc/cpuinfo lists ${vnni.join(' and ')} ` +
        '(an emulator or hypervisor hides it): pair-limited weights',
    };
  }
  if (vnni.length) return { target: 'vnni', reason: `this CPU has ${vnni.join(' and ')}: full-range weights do not saturate` };
  if (!m.flags) return { target: 'avx2', reason: 'no x86 CPU flags readable here: pair-limited weights, exact on every CPU' };
  const simd = m.flags.has('avx2') ? 'AVX2 without VNNI' : 'no AVX2 and no VNNI';
  return { target: 'avx2', reason: `this CPU has ${simd}: pair-limited weights, as full-range ones can saturate its int16 sums` };
}

/**
 * The user's choice, else this machine's. A choice other than this machine's says so: the SQNR and
 * the fallback are measured on this CPU's kernels, not the target's (full-range weights can saturate
 * an AVX2 machine's int16 sums, so a vnni artifact judged there looks worse than it is).
 */
export function chooseInt8Target(asked: Int8Target | undefined, m: Int8Machine): Int8TargetChoice {
  const here = detectInt8Target(m);
  if (!asked) return here;
  if (asked === here.target) return { target: asked, reason: `--int8-target ${asked}` };
  return {
    target: asked,
    reason:
      `--int8-target ${asked}; this machine's would be ${here.target} (${here.reason}), ` +
      "so the SQNR and the fallback measured here are this CPU's, not the target's",
  };
}

/** The probe's size: K = 64 products of 255 x 127 per output. */
const PROBE = { m: 4, k: 64, n: 4, a: 255, w: 127 } as const;

/**
 * A float32-in, float32-out model whose one integer product saturates where the kernels sum pairs
 * in int16: x (all 1.0) quantizes to 255, times int8 weights of 127. Exact: 64 x 255 x 127 =
 * 2,072,640; summed in saturated int16 pairs: 32 x 32,767. Any ONNX backend can run it.
 */
export function int8ProbeModel(): OnnxModel {
  const { m, k, n, w } = PROBE;
  return {
    name: 'int8-saturation-probe',
    nodes: [
      { op: 'QuantizeLinear', name: 'quantize', inputs: ['x', 'scale', 'zero_point'], outputs: ['q'] },
      { op: 'MatMulInteger', name: 'product', inputs: ['q', 'w', 'zero_point'], outputs: ['sums'] },
      { op: 'Cast', name: 'cast', inputs: ['sums'], outputs: ['y'], attrs: [{ name: 'to', i: 1 }] },
    ],
    initializers: new Map([
      ['scale', { dtype: 'float32', shape: [], data: Float32Array.of(1 / PROBE.a) }],
      ['zero_point', { dtype: 'uint8', shape: [], data: Uint8Array.of(0) }],
      ['w', { dtype: 'int8', shape: [k, n], data: new Int8Array(k * n).fill(w) }],
    ]),
    inputs: [{ name: 'x', elemType: 'float32', shape: [m, k] }],
    outputs: [{ name: 'y', elemType: 'float32', shape: [m, n] }],
  };
}

export const PROBE_INPUT = { shape: [PROBE.m, PROBE.k] as const, value: 1 };

/** What the probe's outputs say: exact, saturated, or something else (an error of the runtime's). */
export function readProbe(y: ArrayLike<number>): 'exact' | 'saturates' | 'unexpected' {
  const exact = PROBE.k * PROBE.a * PROBE.w;
  const values = Array.from(y);
  if (values.every((v) => v === exact)) return 'exact';
  if (values.every((v) => v < exact && v >= (PROBE.k / 2) * 32767 - 1)) return 'saturates';
  return 'unexpected';
}

let onnxruntimeProbe: Promise<boolean> | undefined;

/** Whether onnxruntime-node's CPU int8 products saturate on this machine: measured once per process. */
export function cpuProductsSaturate(): Promise<boolean> {
  return (onnxruntimeProbe ??= (async () => {
    const session = await ort.InferenceSession.create(serializeOnnx(int8ProbeModel()), { executionProviders: ['cpu'], intraOpNumThreads: 1 });
    try {
      const x = new Float32Array(PROBE.m * PROBE.k).fill(PROBE_INPUT.value);
      const { y } = await session.run({ x: new ort.Tensor('float32', x, [...PROBE_INPUT.shape]) });
      return readProbe(y.data as Float32Array) === 'saturates';
    } finally {
      await session.release();
    }
  })());
}

function readCpuinfo(): string | null {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return null;
  }
}

/** This machine, as int8 sees it: its flags and onnxruntime's measured behaviour (once per process). */
export async function int8MachineHere(): Promise<Int8Machine> {
  return { flags: cpuFlags(readCpuinfo()), saturates: await cpuProductsSaturate() };
}
