import { execFileSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { ExitCode, LevitError } from '../core/errors.js';

/**
 * A process whose instructions are translated (qemu-user, Rosetta 2, ...) runs, but its timings
 * are the translator's, not the speed of the hardware it reports: never a speed figure.
 */
export interface Emulation {
  /** What gave it away, in words; at least one entry. */
  evidence: string[];
}

/** What detection looks at; the host's by default, a stand-in in tests. */
export interface EmulationProbe {
  /** The process's architecture as Node reports it (process.arch). */
  arch: string;
  platform: NodeJS.Platform;
  env: Record<string, string | undefined>;
  /** A file's text, or null when it cannot be read. */
  read(path: string): string | null;
  /** A macOS sysctl value, or null. */
  sysctl(name: string): string | null;
}

export const hostProbe: EmulationProbe = {
  arch: process.arch,
  platform: process.platform,
  env: process.env,
  read(path) {
    try {
      return readFileSync(path, 'utf8');
    } catch {
      return null;
    }
  },
  sysctl(name) {
    try {
      return execFileSync('sysctl', ['-in', name], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'], timeout: 5000 }).trim();
    } catch {
      return null;
    }
  },
};

/** The instruction-set family of a kernel machine name or a Node arch; 32-bit modes count as their 64-bit family. */
function isaFamily(name: string): string {
  if (/^(x86_64|amd64|x64|ia32|i[3-6]86)$/.test(name)) return 'x86';
  if (/^(aarch64|arm64|arm|armv\dl?|armv8.*)$/.test(name)) return 'arm';
  if (/^(riscv64|riscv)$/.test(name)) return 'riscv';
  if (/^(ppc64|ppc64le|ppc)$/.test(name)) return 'ppc';
  if (/^s390x?$/.test(name)) return 's390';
  return name;
}

/**
 * The kernel's own machine. Under qemu-user, uname() and /proc/cpuinfo may say what the guest
 * expects (levit's arm64 runner even mounts an ARM cpuinfo), but these two come from the kernel.
 */
function kernelMachine(p: EmulationProbe): { machine: string; source: string } | null {
  const arch = p.read('/proc/sys/kernel/arch')?.trim();
  if (arch) return { machine: arch, source: '/proc/sys/kernel/arch' };
  const type = /^cpu:type:([a-z0-9_]+)/.exec(p.read('/sys/devices/system/cpu/modalias') ?? '')?.[1];
  if (type) return { machine: type === 'x86' ? 'x86_64' : type, source: '/sys/devices/system/cpu/modalias' };
  return null;
}

/** The instruction set /proc/cpuinfo describes: x86 lists "flags", ARM "Features" and "CPU implementer". */
function cpuinfoFamily(text: string): string | null {
  if (/^vendor_id\s*:/m.test(text) && /^flags\s*:/m.test(text)) return 'x86';
  if (/^CPU implementer\s*:/m.test(text)) return 'arm';
  return null;
}

/** Whether this process is emulated, and how that shows; null when nothing says so. */
export function detectEmulation(p: EmulationProbe = hostProbe): Emulation | null {
  const evidence: string[] = [];
  if (p.env.LEVIT_EMULATED === '1') evidence.push('LEVIT_EMULATED=1 is set');
  if (p.platform === 'linux') {
    const kernel = kernelMachine(p);
    if (kernel && isaFamily(kernel.machine) !== isaFamily(p.arch)) {
      evidence.push(`the kernel runs ${kernel.machine} (${kernel.source}) but this process is ${p.arch}`);
    }
    const name = /^Name:\s*(\S+)/m.exec(p.read('/proc/self/status') ?? '')?.[1];
    if (name?.startsWith('qemu-')) evidence.push(`this process is ${name} (/proc/self/status): qemu-user translates it`);
    const cpuinfo = cpuinfoFamily(p.read('/proc/cpuinfo') ?? '');
    if (cpuinfo && cpuinfo !== isaFamily(p.arch)) evidence.push(`/proc/cpuinfo describes an ${cpuinfo} CPU but this process is ${p.arch}`);
  }
  if (p.platform === 'darwin' && p.sysctl('sysctl.proc_translated') === '1') evidence.push('Rosetta 2 translates this process (sysctl.proc_translated = 1)');
  return evidence.length ? { evidence } : null;
}

/** What an emulated time is, said wherever one is shown. */
export const NOT_A_SPEED = 'the time of a translator, not a speed of this hardware';

/** Emulated timings never become a baseline or history: they would pass for the hardware's speed. */
export function refuseEmulated(emulation: Emulation | null, what: string): void {
  if (!emulation) return;
  throw new LevitError(
    `${what}: this run is emulated (${emulation.evidence.join('; ')}); emulated time is not a speed figure`,
    ExitCode.unavailable,
    'Record on the real hardware. --out still writes these results, marked emulated, for inspection.',
  );
}
