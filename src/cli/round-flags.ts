import { Flags } from '@oclif/core';
import { MIN_ROUNDS } from '../stats/paired-intervals.js';
import { ROUND_DEFAULTS, type RoundSettings } from '../bench/schedule.js';
import { numberFlag } from './flags.js';

/** How interleaved rounds run and stop: the same flags, with the same meaning, in bench and in a live compare. */
export const roundFlags = {
  warmup: numberFlag({
    description: 'seconds of warm-up per configuration before the rounds (at least one batch)',
    default: 0.5,
    min: 0,
    helpValue: 'SECONDS',
  }),
  slice: numberFlag({
    description: 'seconds each configuration runs in one round (at least one batch)',
    default: ROUND_DEFAULTS.sliceSeconds,
    min: 0,
    helpValue: 'SECONDS',
  }),
  'min-rounds': Flags.integer({ description: `rounds at least (an interval needs ${MIN_ROUNDS})`, default: ROUND_DEFAULTS.minRounds, min: MIN_ROUNDS }),
  duration: numberFlag({ description: 'seconds of timed batches per configuration, at least', default: 3, min: 0, helpValue: 'SECONDS' }),
  'target-ci': numberFlag({
    description: "then on until every configuration's images/s is known to this relative half-width (95% interval)",
    default: 0.02,
    min: 0,
    helpValue: 'FRACTION',
  }),
  'max-duration': numberFlag({
    description: 'time cap: the rounds stop once they have taken this many seconds per configuration on average, precise or not',
    default: 5.5,
    min: 0,
    exclusive: true,
    helpValue: 'SECONDS',
  }),
  'min-iterations': Flags.integer({ description: 'timed batches per configuration at least', default: 1, min: 1 }),
  'max-iterations': Flags.integer({ description: 'timed batches per configuration at most', default: 10000, min: 1 }),
  'order-seed': Flags.integer({ description: "seed of the rounds' random order (the same seed, the same order)", default: ROUND_DEFAULTS.seed, min: 0 }),
};

export function roundSettings(flags: {
  warmup: number;
  slice: number;
  'min-rounds': number;
  duration: number;
  'target-ci': number;
  'max-duration': number;
  'min-iterations': number;
  'max-iterations': number;
  'order-seed': number;
}): RoundSettings {
  return {
    warmupSeconds: flags.warmup,
    sliceSeconds: flags.slice,
    minRounds: flags['min-rounds'],
    durationSeconds: flags.duration,
    targetCi: flags['target-ci'],
    maxDurationSeconds: flags['max-duration'],
    minIterations: flags['min-iterations'],
    maxIterations: flags['max-iterations'],
    seed: flags['order-seed'],
  };
}
