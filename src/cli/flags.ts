import { Flags } from '@oclif/core';
import type { ThreadSpec } from '../bench/runner.js';
import type { WeightsChoice } from '../classifier/model.js';
import { ExitCode, LevitError } from '../core/errors.js';

/** --offline / --mirror: how official checkpoints may be fetched. */
export const networkFlags = {
  offline: Flags.boolean({ description: 'never touch the network (also LEVIT_OFFLINE=1)' }),
  mirror: Flags.string({ description: 'fetch checkpoints by file name from this base URL instead (also LEVIT_MIRROR)', helpValue: 'URL' }),
};

/** --checkpoint / --weights, shared by every command that builds a model. */
export function weightsFlags(defaultWeights: 'synthetic' | 'official') {
  return {
    checkpoint: Flags.string({
      char: 'c',
      description: 'checkpoint in the official layout of the model (.pth zip or legacy, .safetensors)',
      helpValue: 'PATH',
    }),
    weights: Flags.string({
      description: 'without --checkpoint: official = the cached official checkpoint (downloaded when allowed), synthetic = deterministic untrained weights, no download',
      options: ['official', 'synthetic'],
      default: defaultWeights,
    }),
    seed: Flags.integer({ description: 'seed of the synthetic weights', default: 0 }),
    ...networkFlags,
  };
}

export function weightsChoice(flags: { checkpoint?: string; weights: string; seed: number }): WeightsChoice {
  if (flags.checkpoint) return { kind: 'checkpoint', path: flags.checkpoint };
  if (flags.weights === 'synthetic') return { kind: 'synthetic', seed: flags.seed };
  if (flags.weights === 'official') return { kind: 'official' };
  throw new LevitError(`unknown weights ${flags.weights}`, ExitCode.usage);
}

/** Parses a comma-separated flag value ("1,2,all"), with a clear error naming the flag. */
export function parseList<T>(flag: string, value: string, item: (s: string) => T | undefined): T[] {
  const parts = value.split(',').map((s) => s.trim()).filter(Boolean);
  const out = parts.map((p) => {
    const v = item(p);
    if (v === undefined) throw new LevitError(`--${flag}: cannot use '${p}'`, ExitCode.usage);
    return v;
  });
  if (out.length === 0) throw new LevitError(`--${flag}: give at least one value`, ExitCode.usage);
  return out;
}

export const positiveInt = (s: string): number | undefined => (/^\d+$/.test(s) && Number(s) > 0 ? Number(s) : undefined);

/** --backend / --threads of a command that runs one model on one backend (predict, eval). */
export const sessionFlags = {
  backend: Flags.string({ char: 'b', description: 'backend (levit backends lists them)', default: 'ort-cpu' }),
  threads: Flags.integer({ description: 'intra-op threads of the backend (0: all cores)', default: 0, min: 0 }),
};

/** A list flag: comma-separated (or repeated) values, each parsed into a typed value when the command line is read. */
function listFlag<T>(name: string, item: (s: string) => T | undefined, o: { description: string; default: T[]; char?: 'b' | 't' }) {
  return Flags.custom<T>({
    multiple: true,
    // One value per flag occurrence: a following word is a model name, not another value.
    multipleNonGreedy: true,
    delimiter: ',',
    description: o.description,
    char: o.char,
    default: o.default,
    defaultHelp: async () => o.default.join(','),
    parse: async (value) => {
      const v = item(value.trim());
      if (v === undefined) throw new LevitError(`--${name}: cannot use '${value}'`, ExitCode.usage);
      return v;
    },
  })();
}

/** bench's --backend, --threads and --batch: every combination is measured. */
export const benchListFlags = {
  backend: listFlag('backend', (s) => s, { char: 'b', description: 'backends, comma-separated (levit backends lists them)', default: ['ort-cpu'] }),
  threads: listFlag<ThreadSpec>('threads', (s) => (s === 'all' ? 'all' : positiveInt(s)), {
    char: 't',
    description: "intra-op thread counts, comma-separated; 'all' = every core",
    default: [1, 'all'],
  }),
  batch: listFlag('batch', positiveInt, { description: 'batch sizes, comma-separated', default: [16] }),
};
