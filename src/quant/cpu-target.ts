import { readFileSync } from 'node:fs';

/**
 * The CPU an int8 artifact is made for, which decides its weights' range and graph form:
 * - vnni: AVX-512 VNNI or AVX-VNNI multiplies uint8 by int8 straight into int32 sums, so
 *   full-range (8-bit) weights are exact there; convolutions over the image stay float32;
 * - avx2: x86 without VNNI (and any CPU whose flags cannot be read): the U8S8 kernels sum pairs
 *   of products in int16 (vpmaddubsw), which full-range weights can saturate, so weights use
 *   7 bits, as levit did before it knew the CPU.
 */
export type Int8Target = 'vnni' | 'avx2';
export const INT8_TARGETS: readonly Int8Target[] = ['vnni', 'avx2'];

export interface Int8TargetChoice {
  target: Int8Target;
  /** Why, in words: the flags found, or that the user chose it. */
  reason: string;
}

const VNNI_FLAGS = ['avx512_vnni', 'avx_vnni'];

/** The x86 flags that /proc/cpuinfo lists (its first "flags" line), or null when it has none. */
export function cpuFlags(cpuinfo: string | null): Set<string> | null {
  const line = cpuinfo && /^flags\s*:(.*)$/m.exec(cpuinfo);
  return line ? new Set(line[1].trim().split(/\s+/)) : null;
}

/** The target for a machine, from its /proc/cpuinfo text (null when unreadable). */
export function detectInt8Target(cpuinfo: string | null): Int8TargetChoice {
  const flags = cpuFlags(cpuinfo);
  if (!flags) return { target: 'avx2', reason: 'no x86 CPU flags readable here: 7-bit weights, exact on every CPU' };
  const vnni = VNNI_FLAGS.filter((f) => flags.has(f));
  if (vnni.length) return { target: 'vnni', reason: `this CPU has ${vnni.join(' and ')}: full-range weights do not saturate` };
  const simd = flags.has('avx2') ? 'AVX2 without VNNI' : 'no AVX2 and no VNNI';
  return { target: 'avx2', reason: `this CPU has ${simd}: 7-bit weights, as full-range ones can saturate its int16 sums` };
}

function readCpuinfo(): string | null {
  try {
    return readFileSync('/proc/cpuinfo', 'utf8');
  } catch {
    return null;
  }
}

/**
 * The user's choice, else this machine's (read once). A choice other than this machine's says so: the
 * SQNR and the fallback are measured on this CPU's kernels, not the target's (full-range weights can
 * saturate an AVX2 machine's int16 sums, so a vnni artifact judged there looks worse than it is).
 */
export function chooseInt8Target(asked?: Int8Target, cpuinfo: () => string | null = readCpuinfo): Int8TargetChoice {
  const here = detectInt8Target(cpuinfo());
  if (!asked) return here;
  if (asked === here.target) return { target: asked, reason: `--int8-target ${asked}` };
  return {
    target: asked,
    reason:
      `--int8-target ${asked}; this machine's would be ${here.target} (${here.reason}), ` +
      "so the SQNR and the fallback measured here are this CPU's, not the target's",
  };
}
