import { Flags } from '@oclif/core';
import type { WeightsChoice } from '../pipeline/model.js';
import { ExitCode, LevitError } from '../util/errors.js';

/** --checkpoint / --weights, shared by every command that builds a model. */
export const weightsFlags = {
  checkpoint: Flags.string({
    char: 'c',
    description: 'PyTorch checkpoint (.pth) in the official layout of the model',
    helpValue: 'PATH',
  }),
  weights: Flags.string({
    description: 'weights to use when no --checkpoint is given: synthetic = deterministic, untrained, no download',
    options: ['synthetic'],
    default: 'synthetic',
  }),
  seed: Flags.integer({ description: 'seed of the synthetic weights', default: 0 }),
};

export function weightsChoice(flags: { checkpoint?: string; weights: string; seed: number }): WeightsChoice {
  if (flags.checkpoint) return { kind: 'checkpoint', path: flags.checkpoint };
  if (flags.weights === 'synthetic') return { kind: 'synthetic', seed: flags.seed };
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
