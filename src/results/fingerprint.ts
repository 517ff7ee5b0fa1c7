import { availableParallelism, cpus, totalmem } from 'node:os';
import si from 'systeminformation';
import { type Emulation, detectEmulation } from './emulation.js';
import { SPEED_FLAGS, composeId, cpuKind } from './machine-id.js';

/** What makes one machine's timings differ from another's. */
export interface SystemFingerprint {
  /** cores: logical cores of the machine; available: those this process may use (affinity, cgroups). */
  cpu: { model: string; vendor: string; cores: number; available_cores: number; physical_cores: number; mhz: number | null; flags: string[] };
  memory_bytes: number;
  gpus: { vendor: string; model: string; vram_mb: number | null }[];
  os: { platform: string; distro: string; release: string; kernel: string; arch: string };
  node: string;
  /** Set when this process runs translated (qemu-user, Rosetta 2): its timings are no speed figure. */
  emulation: Emulation | null;
  /**
   * A short id for "the same machine": CPU model, CPU kind from its flags (machine-id.ts: avx2,
   * avx512-vnni, asimd-dot, ...; absent when no flags were reported), logical cores, architecture and
   * OS ("emulated" when it is). Files before the kind was added lack it: machineId() puts it back from their flags.
   */
  id: string;
}

export async function fingerprint(): Promise<SystemFingerprint> {
  const [cpu, flags, graphics, os] = await Promise.all([
    si.cpu(),
    si.cpuFlags().catch(() => ''),
    si.graphics().catch(() => ({ controllers: [] })),
    si.osInfo(),
  ]);
  const info = cpus();
  const model = info[0]?.model?.trim() || `${cpu.manufacturer} ${cpu.brand}`.trim();
  const mhz = cpu.speed > 0 ? Math.round(cpu.speed * 1000) : info[0]?.speed || null;
  const cores = info.length || availableParallelism();
  const fp: Omit<SystemFingerprint, 'id'> = {
    cpu: {
      model,
      vendor: cpu.manufacturer,
      cores,
      available_cores: availableParallelism(),
      physical_cores: cpu.physicalCores,
      mhz,
      flags: flags
        .split(/\s+/)
        .filter((f) => SPEED_FLAGS.test(f))
        .sort(),
    },
    memory_bytes: totalmem(),
    gpus: graphics.controllers.map((g) => ({ vendor: g.vendor, model: g.model, vram_mb: g.vram ?? null })),
    os: { platform: os.platform, distro: os.distro, release: os.release, kernel: os.kernel, arch: process.arch },
    node: process.version,
    emulation: detectEmulation(),
  };
  const kind = cpuKind(fp.cpu.flags, process.arch);
  return { ...fp, id: composeId({ model, kind, cores, arch: process.arch, platform: os.platform, emulated: fp.emulation !== null }) };
}
