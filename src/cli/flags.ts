import { Flags } from '@oclif/core';
import type { ThreadSpec } from '../bench/runner.js';
import type { WeightsChoice } from '../classifier/model.js';
import {
  type Int8Method,
  PRECISIONS,
  PRECISION_DEFAULTS,
  type Precision,
  type PrecisionOptions,
  type PrecisionSpec,
  resolvePrecision,
} from '../classifier/precision.js';
import { INT8_TARGETS, type Int8Target } from '../quant/cpu-target.js';
import { CALIBRATION_METHODS } from '../quant/calibrate.js';
import { ExitCode, LevitError } from '../core/errors.js';
import { NO_FUSION, type TokenFusion, isFused, parseTokenFusion } from '../models/fusion/spec.js';
import { checkRegularFile } from '../util/files.js';
import type { ModelCard } from '../models/families.js';
import { listCards } from '../models/registry.js';
import { selectModels } from '../models/select.js';

/** --offline / --mirror: how official checkpoints may be fetched. */
export const networkFlags = {
  offline: Flags.boolean({ description: 'never touch the network (also LEVIT_OFFLINE=1)' }),
  mirror: Flags.string({ description: 'fetch checkpoints by file name from this base URL instead (also LEVIT_MIRROR)', helpValue: 'URL' }),
};

/** --force: replace an existing output of another kind, or a baseline by a smaller one. */
export const forceFlag = {
  force: Flags.boolean({
    description: 'replace an existing output of another kind (a file where a folder goes), or a baseline by one with fewer configurations',
  }),
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
      description:
        'without --checkpoint: official = the cached official checkpoint (downloaded when allowed), synthetic = deterministic untrained weights, no download',
      options: ['official', 'synthetic'],
      default: defaultWeights,
    }),
    seed: Flags.integer({ description: 'seed of the synthetic weights', default: 0 }),
    ...networkFlags,
  };
}

/**
 * --onnx FILE, in bench, predict and eval: an ONNX file of the one model named (a torch.onnx export, or an
 * artifact levit convert wrote, int8 included), used instead of the artifact levit builds from weights.
 */
export function onnxFlag(use: string, more = '') {
  return {
    onnx: Flags.string({
      description:
        `${use} this ONNX file (a torch.onnx export, or an artifact of levit convert) as the one model named, instead of ` +
        `the one levit builds from weights; its input, output and parameter count (within 10%) must be the model's${more}`,
      helpValue: 'FILE',
    }),
  };
}

/** --allow-int8-saturation, in predict, eval, bench and compare (classifier/int8-form.ts). */
export const int8SaturationFlag = {
  'allow-int8-saturation': Flags.boolean({
    description:
      "run an int8 artifact with full-range weights (the VNNI form) where this CPU's int8 kernels saturate them (AVX2 without VNNI), " +
      "instead of refusing it (exit 5): its outputs are then not the model's, and the output and results say so",
    default: false,
  }),
};

/** The --onnx file, checked readable; it carries its own weights and graph, so --checkpoint and --token-fusion do not apply. */
export function onnxChoice(flags: { onnx?: string; checkpoint?: string; 'token-fusion'?: TokenFusion }): string | undefined {
  if (!flags.onnx) return undefined;
  if (flags.checkpoint) throw new LevitError('--onnx runs a file with its own weights: drop --checkpoint', ExitCode.usage);
  if (isFused(flags['token-fusion'])) throw new LevitError('--onnx runs the file as it is: drop --token-fusion', ExitCode.usage);
  checkRegularFile(flags.onnx, 'ONNX file');
  return flags.onnx;
}

/** The weights the flags ask for; a --checkpoint that cannot be read is refused at once, before any other work. */
export function weightsChoice(flags: { checkpoint?: string; weights: string; seed: number }): WeightsChoice {
  if (flags.checkpoint) {
    checkRegularFile(flags.checkpoint, 'checkpoint');
    return { kind: 'checkpoint', path: flags.checkpoint };
  }
  if (flags.weights === 'synthetic') return { kind: 'synthetic', seed: flags.seed };
  if (flags.weights === 'official') return { kind: 'official' };
  throw new LevitError(`unknown weights ${flags.weights}`, ExitCode.usage);
}

/** Parses a comma-separated flag value ("1,2,all"), with a clear error naming the flag. */
export function parseList<T>(flag: string, value: string, item: (s: string) => T | undefined, takes?: string): T[] {
  const parts = value
    .split(',')
    .map((s) => s.trim())
    .filter(Boolean);
  const out = parts.map((p) => parsedItem(flag, item, p, takes));
  if (out.length === 0) throw new LevitError(`--${flag}: give at least one value`, ExitCode.usage);
  return out;
}

/**
 * A decimal number flag checked when parsed: finite, at least `min` (above it when `exclusive`)
 * and at most `max` when given. Integers use oclif's Flags.integer with min/max instead.
 */
export function numberFlag(o: { description: string; default?: number; min: number; exclusive?: boolean; max?: number; helpValue?: string }) {
  const range = `${o.exclusive ? 'above' : 'of at least'} ${o.min}${o.max === undefined ? '' : ` and at most ${o.max}`}`;
  return Flags.custom<number>({
    description: o.description,
    helpValue: o.helpValue ?? 'NUMBER',
    default: o.default,
    async parse(input: string) {
      const v = Number(input);
      const ok = input.trim() !== '' && Number.isFinite(v) && (o.exclusive ? v > o.min : v >= o.min) && (o.max === undefined || v <= o.max);
      if (!ok) throw new Error(`'${input}' is not a number ${range}`);
      return v;
    },
  })();
}

export const positiveInt = (s: string): number | undefined => (/^\d+$/.test(s) && Number(s) > 0 ? Number(s) : undefined);

/** One --threads value: a positive count or 'all' (every core); '0', its older spelling in eval and predict, still reads as 'all'. */
export const threadSpec = (s: string): ThreadSpec | undefined => (s === 'all' || s === '0' ? 'all' : positiveInt(s));

/** --backend / --threads of a command that runs one model on one backend (predict, eval). */
export const sessionFlags = {
  backend: Flags.string({ char: 'b', description: 'backend (levit backends lists them)', default: 'ort-cpu' }),
  threads: Flags.custom<ThreadSpec>({
    char: 't',
    description: "intra-op threads of the backend; 'all' = every core",
    helpValue: 'N|all',
    default: 'all',
    parse: async (value) => parsedItem('threads', threadSpec, value, THREADS),
  })(),
};

/** One flag value through its parser, or a usage error naming the flag and what it takes. */
function parsedItem<T>(flag: string, item: (s: string) => T | undefined, value: string, takes?: string): T {
  const v = item(value.trim());
  if (v === undefined) throw new LevitError(`--${flag}: cannot use '${value}'${takes ? `: it takes ${takes}` : ''}`, ExitCode.usage);
  return v;
}

/** What --batch, --workers and similar counts take. */
export const COUNT = 'a whole number from 1';
const THREADS = "a whole number from 1, or 'all'";

/** A list flag: comma-separated (or repeated) values, each parsed into a typed value when the command line is read. */
export function listFlag<T>(
  name: string,
  item: (s: string) => T | undefined,
  o: { description: string; default: T[]; char?: 'b' | 't'; helpValue?: string; defaultHelp?: string; takes?: string },
) {
  return Flags.custom<T>({
    multiple: true,
    // One value per flag occurrence: a following word is a model name, not another value.
    multipleNonGreedy: true,
    delimiter: ',',
    description: o.description,
    char: o.char,
    default: o.default,
    helpValue: o.helpValue,
    defaultHelp: async () => o.defaultHelp ?? o.default.join(','),
    parse: async (value) => parsedItem(name, item, value, o.takes),
  })();
}

/** --backend, --threads and --batch of commands that measure every combination (bench, a live compare). */
export const configurationFlags = (threads: ThreadSpec[]) => ({
  backend: listFlag('backend', (s) => s, { char: 'b', description: 'backends, comma-separated (levit backends lists them)', default: ['ort-cpu'] }),
  threads: listFlag<ThreadSpec>('threads', threadSpec, {
    char: 't',
    description: "intra-op thread counts, comma-separated; 'all' = every core",
    default: threads,
    takes: THREADS,
  }),
  batch: listFlag('batch', positiveInt, { description: 'batch sizes, comma-separated', default: [16], takes: COUNT }),
});

/** bench's: every combination is measured, at 1 thread and all. */
export const benchListFlags = configurationFlags([1, 'all']);

/**
 * --calibration DIR, the folder of calibration images, in every command that takes one (convert,
 * eval, bench). bench also reads its old name, --calibration-dir, with a deprecation warning.
 */
export const calibrationFlag = (aliases: string[] = []) =>
  Flags.string({
    description: 'int8: folder of representative images (searched recursively), preprocessed exactly as eval does; without it int8 is dynamic',
    helpValue: 'DIR',
    ...(aliases.length ? { aliases, deprecateAliases: true } : {}),
  });

/**
 * bench's machine-speed check, --machine-check / --no-machine-check (a float32 MatMul before and
 * between configurations). --no-calibration, its name before --calibration meant images, still
 * turns it off, with a deprecation warning.
 */
export const machineCheckFlags = {
  'machine-check': Flags.boolean({
    description: 'measure the machine (float32 MatMul GFLOP/s) first and between configurations, to flag records taken while it was busy',
    default: true,
    allowNo: true,
  }),
  'no-calibration': Flags.boolean({ hidden: true, deprecated: { to: 'no-machine-check' } }),
};

/** Whether bench checks the machine's speed: --no-machine-check (or the old --no-calibration) turns it off. */
export const machineCheck = (flags: { 'machine-check': boolean; 'no-calibration'?: boolean }) => flags['machine-check'] && !flags['no-calibration'];

/** --precision and the int8 options, shared by convert, bench and eval. */
export function precisionFlags(precisionDescription: string, precisionDefault: string) {
  return {
    precision: Flags.string({ description: precisionDescription, default: precisionDefault }),
    'calibration-size': Flags.integer({
      description: 'int8: images used from --calibration, spread evenly over the sorted file list',
      default: PRECISION_DEFAULTS.calibrationSize,
    }),
    'calibration-method': Flags.string({
      description:
        'int8: how activation ranges are chosen from --calibration: minmax, percentile (99.99%), mse (least squared error) or entropy (least KL divergence); ' +
        'dynamic = activations quantized at run time, no images',
      options: [...CALIBRATION_METHODS, 'dynamic'],
    }),
    'target-sqnr': Flags.string({
      description: 'int8 static: keep the most sensitive layers in float32 until the logits reach this SQNR (dB) against float32; 0 = never',
      default: String(PRECISION_DEFAULTS.targetSqnr),
    }),
    'max-fallback': Flags.integer({
      description: 'int8 static: at most this many layers kept in float32 by the fallback',
      default: PRECISION_DEFAULTS.maxFallback,
    }),
    validation: Flags.string({
      description:
        'int8 static: images no step of the conversion sees, which judge the SQNR and agreement it reports ' +
        '(default: a quarter of the --calibration images; another quarter decides when the fallback stops)',
      helpValue: 'DIR',
    }),
    'int8-target': Flags.string({
      description:
        'int8: the CPU the artifact is for (default: this one): vnni = full-range weights, image convolution float32; ' +
        'avx2 = pair-limited weights, exact on every CPU',
      options: [...INT8_TARGETS],
    }),
    'reduce-range': Flags.boolean({
      description:
        'int8: pair-limited weights (8-bit matrices whose pairs of products cannot saturate int16 sums, 7-bit convolutions: exact on AVX2 CPUs ' +
        "without VNNI, where full-range u8*s8 products can); default: --int8-target's choice",
      allowNo: true,
    }),
    'int8-attention': Flags.boolean({
      description: 'int8 static: the attention products (queries x keys, probabilities x values) in int8 too',
      default: false,
    }),
  };
}

type PrecisionFlagValues = {
  'calibration-size': number;
  'calibration-method'?: string;
  'target-sqnr': string;
  'max-fallback': number;
  'reduce-range'?: boolean;
  validation?: string;
  'int8-target'?: string;
  'int8-attention': boolean;
};

export function precisionOptions(flags: PrecisionFlagValues, calibration: string | undefined): PrecisionOptions {
  const target = Number(flags['target-sqnr']);
  if (!Number.isFinite(target) || target < 0) throw new LevitError(`--target-sqnr: '${flags['target-sqnr']}' is not a number of dB >= 0`, ExitCode.usage);
  if (flags['max-fallback'] < 0) throw new LevitError('--max-fallback: give 0 or more', ExitCode.usage);
  return {
    calibration,
    calibrationSize: flags['calibration-size'],
    method: flags['calibration-method'] as Int8Method | undefined,
    targetSqnr: target,
    maxFallback: flags['max-fallback'],
    reduceRange: flags['reduce-range'],
    validation: flags.validation,
    int8Target: flags['int8-target'] as Int8Target | undefined,
    int8Attention: flags['int8-attention'],
  };
}

/** Parses --precision fp32,int8,fp16 into resolved specs (hashing calibration images once). */
export function precisionSpecs(list: string, flags: PrecisionFlagValues, calibration: string | undefined): Promise<PrecisionSpec[]> {
  const names = parseList('precision', list, (s) => ((PRECISIONS as readonly string[]).includes(s) ? (s as Precision) : undefined), PRECISIONS.join(', '));
  const options = precisionOptions(flags, calibration);
  if (calibration && !names.includes('int8')) throw new LevitError(`calibration images apply to --precision int8, not ${names.join(', ')}`, ExitCode.usage);
  if (options.validation && !names.includes('int8')) throw new LevitError(`--validation applies to --precision int8, not ${names.join(', ')}`, ExitCode.usage);
  return Promise.all(
    [...new Set(names)].map((p) => resolvePrecision(p, p === 'int8' ? options : { ...options, calibration: undefined, validation: undefined })),
  );
}

const FUSION_HELP =
  'MCTF or ToMe, training-free, for DeiT and ViT: none, mctf (r=16 in blocks 2-12), mctf-fast (35% in blocks 4, 7, 10), tome (r=13 in every block); ' +
  ':R sets r (tokens fused per block; MCTF also takes a fraction below 1), e.g. mctf:8, tome:16';

/** --token-fusion METHOD[:R] of convert, predict and eval: one setting, checked when the command line is read. */
export const tokenFusionFlag = {
  'token-fusion': Flags.custom<TokenFusion>({
    description: FUSION_HELP,
    helpValue: 'METHOD[:R]',
    default: async () => parseTokenFusion('none'),
    defaultHelp: async () => 'none',
    parse: async (value) => parseTokenFusion(value),
  })(),
};

/** bench's --token-fusion: comma-separated (or repeated) settings, each measured as its own configuration (none = the plain model). */
export const tokenFusionListFlag = {
  'token-fusion': listFlag('token-fusion', parseTokenFusion, {
    description: `${FUSION_HELP}. A list: each setting is its own configuration, e.g. none,mctf,tome:8,tome:13`,
    default: [NO_FUSION],
    helpValue: 'METHOD[:R],...',
    defaultHelp: 'none',
  }),
};
/**
 * The models a command's arguments name (ids, timm names, patterns, families: selectModels), or
 * every model with --all; undefined when neither is given (the command's default applies).
 */
export function modelList(names: readonly string[], all = false, filter: (c: ModelCard) => boolean = () => true): string[] | undefined {
  if (all && names.length) throw new LevitError('name models or pass --all, not both', ExitCode.usage);
  if (all)
    return listCards()
      .filter(filter)
      .map((c) => c.id);
  return names.length ? selectModels(names).map((c) => c.id) : undefined;
}
