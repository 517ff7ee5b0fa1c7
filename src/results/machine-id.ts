/**
 * Which machine a run was timed on, as levit tells machines apart: by CPU model, CPU kind (its
 * instruction sets), logical cores, architecture and OS. The CPU model alone is not enough: a cloud
 * VM may show only "AMD EPYC" for CPUs generations apart (an AVX2-only Zen 3 and a Zen 5 with
 * AVX-512 VNNI), whose speeds differ by far more than a busy host moves them. Pure functions over a
 * fingerprint (fingerprint.ts measures one), so that files written by older levit, whose id lacks
 * the kind, are read the same way.
 */

/** What these functions read of a fingerprint: every results file has it (older ones may lack flags or arch). */
export interface MachineFacts {
  id: string;
  cpu?: { flags?: readonly string[] };
  os?: { arch?: string };
}

/** The instruction-set flags that change inference speed (the ones a fingerprint keeps). */
export const SPEED_FLAGS =
  /^(avx|avx2|fma|f16c|avx512f|avx512bw|avx512vl|avx512_vnni|avx512_bf16|avx_vnni|amx_tile|amx_bf16|amx_int8|neon|asimd|asimddp|sve|sve2|i8mm|bf16|fp16|asimdhp|dotprod)$/; // eslint-disable-line max-len

/** The CPU kinds, most capable first: the first whose flag the CPU has names it. */
const KINDS: readonly { kind: string; arch: 'x64' | 'arm64'; flags: readonly string[] }[] = [
  { kind: 'amx', arch: 'x64', flags: ['amx_tile'] },
  { kind: 'avx512-vnni', arch: 'x64', flags: ['avx512_vnni'] },
  { kind: 'avx-vnni', arch: 'x64', flags: ['avx_vnni'] },
  { kind: 'avx512', arch: 'x64', flags: ['avx512f'] },
  { kind: 'avx2', arch: 'x64', flags: ['avx2'] },
  { kind: 'avx', arch: 'x64', flags: ['avx'] },
  { kind: 'sve', arch: 'arm64', flags: ['sve', 'sve2'] },
  { kind: 'asimd-dot', arch: 'arm64', flags: ['asimddp', 'dotprod'] },
  { kind: 'neon', arch: 'arm64', flags: ['asimd', 'neon'] },
];
const FALLBACK: Record<string, string> = { x64: 'sse', arm64: 'neon' };
const ALL_KINDS = new Set([...KINDS.map((k) => k.kind), ...Object.values(FALLBACK)]);

/** The speed-relevant flags of a fingerprint, sorted and without repeats (files of every levit version alike). */
export function speedFlags(system: MachineFacts): string[] {
  return [...new Set((system.cpu?.flags ?? []).filter((f) => SPEED_FLAGS.test(f)))].sort();
}

/**
 * A short name of the CPU's kind from its flags: amx, avx512-vnni, avx-vnni, avx512, avx2, avx or sse
 * on x64; sve, asimd-dot or neon on arm64. Null when no flags were reported (the kind is unknown: the
 * id then goes without it) or on another architecture.
 */
export function cpuKind(flags: readonly string[], arch: string | undefined): string | null {
  const known = flags.filter((f) => SPEED_FLAGS.test(f));
  if (known.length === 0 || (arch !== 'x64' && arch !== 'arm64')) return null;
  const kind = KINDS.find((k) => k.arch === arch && k.flags.some((f) => known.includes(f)));
  return kind?.kind ?? FALLBACK[arch];
}

/** A fingerprint id as levit writes it: CPU model, its kind, logical cores, architecture, OS (and "emulated"). */
export function composeId(p: { model: string; kind: string | null; cores: number; arch: string; platform: string; emulated: boolean }): string {
  const id = `${p.model}${p.kind ? ` ${p.kind}` : ''} x${p.cores} ${p.arch} ${p.platform}${p.emulated ? ' emulated' : ''}`;
  return id.replace(/\s+/g, ' ').trim();
}

/** The tail every levit id ends with: " x<cores> <arch> <platform>[ emulated]". */
const TAIL = / (x\d+ \S+ \S+(?: emulated)?)$/;

/** The kind an id names, or null (ids written before levit named kinds). */
export function kindInId(id: string): string | null {
  const m = TAIL.exec(id);
  if (!m) return null;
  const before = id.slice(0, m.index).split(' ');
  const last = before[before.length - 1];
  return before.length > 1 && ALL_KINDS.has(last) ? last : null;
}

/**
 * The machine's id with its CPU kind: the id itself for files that name it, else the kind its flags
 * imply put in ("AMD EPYC x2 x64 linux" with flags avx avx2 -> "AMD EPYC avx2 x2 x64 linux"). Baselines,
 * histories and "the same machine" all go by this.
 */
export function machineId(system: MachineFacts): string {
  if (kindInId(system.id)) return system.id;
  const kind = cpuKind(speedFlags(system), system.os?.arch);
  return kind && TAIL.test(system.id) ? system.id.replace(TAIL, ` ${kind} $1`) : system.id;
}

/** The id as levit wrote it before it named CPU kinds: where older baselines and histories were saved. */
export function legacyId(system: MachineFacts): string {
  const id = machineId(system);
  const kind = kindInId(id);
  return kind ? id.replace(` ${kind} `, ' ') : id;
}

/**
 * Two fingerprints of one kind of machine: the same id (kind included) and, where both files list
 * them, the same speed-relevant flags (two CPUs of one kind and model string may still differ, e.g.
 * in avx512_bf16 or avx_vnni: a Zen 4 and a Zen 5 behind one "AMD EPYC"). A file without flags
 * (levit's PyTorch reference on some systems) is judged by its id alone.
 */
export function sameMachine(a: MachineFacts, b: MachineFacts): boolean {
  if (machineId(a) !== machineId(b)) return false;
  const [fa, fb] = [speedFlags(a), speedFlags(b)];
  return fa.length === 0 || fb.length === 0 || fa.join(' ') === fb.join(' ');
}

/** Why two fingerprints are not one machine, in words (for a message), or null when they are. */
export function machineDifference(a: MachineFacts, b: MachineFacts): string | null {
  if (sameMachine(a, b)) return null;
  if (machineId(a) !== machineId(b)) return `${machineId(a)}, not ${machineId(b)}`;
  return `CPU flags ${speedFlags(a).join(' ')}, not ${speedFlags(b).join(' ')}`;
}
