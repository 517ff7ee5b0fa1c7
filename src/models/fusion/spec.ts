import { ExitCode, LevitError } from '../../core/errors.js';

/**
 * Training-free token fusion for ViT-style models (DeiT, ViT): which method, and how many tokens
 * each merging block fuses. Pure data and arithmetic; the graph is built in ./match.ts and ../deit/fused-blocks.ts.
 *
 * - mctf: MCTF (Lee, Choi and Kim, CVPR 2024), its repository's DeiT setting: r tokens fused in every
 *   block from the second on (run/eval_deit_t_mctf.sh: r = 16).
 * - mctf-fast: MCTF's fast setting: r = 35% of the tokens in blocks 4, 7 and 10 (1-based; the
 *   repository's activate_layer [3, 6, 9], run/eval_deit_t_mctf_fast.sh).
 * - tome: ToMe (Bolya et al., ICLR 2023) with proportional attention, r tokens in every block (r = 13).
 */
export const FUSION_METHODS = ['none', 'mctf', 'mctf-fast', 'tome'] as const;
export type FusionMethod = (typeof FUSION_METHODS)[number];

export interface TokenFusion {
  readonly method: FusionMethod;
  /** Tokens fused per merging block: a whole number, or (MCTF only) a fraction in (0, 1) of the tokens there. */
  readonly r: number;
}

export const NO_FUSION: TokenFusion = { method: 'none', r: 0 };

/** Each method's r when the user gives none. */
export const DEFAULT_R: Record<Exclude<FusionMethod, 'none'>, number> = { mctf: 16, 'mctf-fast': 0.35, tome: 13 };

/** MCTF's weighting exponents (its mctf_type: tau_sim, tau_info, tau_size), as its DeiT scripts set them. */
export const MCTF_TAU = { sim: 1, info: 20, size: 40 } as const;

/** MCTF keeps at least this many tokens in a block (its "t - r < 10" rule). */
const MCTF_MIN_TOKENS = 10;

const usage = (message: string) =>
  new LevitError(
    message,
    ExitCode.usage,
    `Give METHOD or METHOD:R with METHOD one of ${FUSION_METHODS.join(', ')}; e.g. mctf, mctf:8, mctf-fast:0.35, tome:13. ` +
      'R is the number of tokens fused per merging block (MCTF also takes a fraction below 1).',
  );

/** Parses `METHOD[:R]` as --token-fusion takes it. */
export function parseTokenFusion(text: string): TokenFusion {
  const [name, rText, ...rest] = text.trim().split(':');
  const method = FUSION_METHODS.find((m) => m === name.toLowerCase());
  if (!method || rest.length) throw usage(`--token-fusion: unknown setting '${text}'`);
  if (rText === undefined) return method === 'none' ? NO_FUSION : { method, r: DEFAULT_R[method] };
  if (method === 'none') throw usage(`--token-fusion: 'none' takes no R ('${text}')`);
  const r = Number(rText);
  const whole = Number.isInteger(r) && r >= 0 && /^\d+$/.test(rText);
  const fraction = method !== 'tome' && r > 0 && r < 1 && /^0?\.\d+$/.test(rText);
  if (!whole && !fraction) {
    const what = method === 'tome' ? 'a whole number of tokens (0 or more)' : 'a whole number of tokens (0 or more) or a fraction between 0 and 1';
    throw usage(`--token-fusion: R in '${text}' must be ${what}`);
  }
  return { method, r };
}

export const isFused = (f: TokenFusion | undefined): f is TokenFusion => !!f && f.method !== 'none';

/** The setting as it is written on the command line and in results: 'none', 'mctf:16', 'tome:13'. */
export const fusionName = (f: TokenFusion): string => (f.method === 'none' ? 'none' : `${f.method}:${f.r}`);

/** The setting's part of an artifact's cache key and file name: empty without fusion. */
export const fusionKey = (f: TokenFusion): string => (f.method === 'none' ? '' : `${f.method}-r${f.r}`);

/** In words, for tables and artifact metadata. */
export function fusionLabel(f: TokenFusion): string {
  switch (f.method) {
    case 'none':
      return 'no token fusion';
    case 'mctf':
      return `MCTF r=${f.r} (one-step-ahead attention, blocks 2 to 12)`;
    case 'mctf-fast':
      return `MCTF fast r=${f.r} (blocks 4, 7 and 10)`;
    case 'tome':
      return `ToMe r=${f.r} (proportional attention, every block)`;
  }
}

/** What one transformer block does under a setting: plain attention, or a merge of r tokens. */
export interface BlockPlan {
  readonly block: number;
  readonly kind: 'plain' | 'mctf' | 'tome';
  readonly tokensIn: number;
  readonly tokensOut: number;
  /** Tokens fused: r1 in the first direction (A into B), r2 in the second (MCTF's B into A; 0 for ToMe). */
  readonly r: number;
  readonly r1: number;
  readonly r2: number;
}

/** The blocks MCTF merges in (0-based): its activate_layer. */
function mctfLayers(method: 'mctf' | 'mctf-fast', depth: number): number[] {
  if (method === 'mctf-fast') return [3, 6, 9].filter((i) => i < depth);
  return Array.from({ length: depth - 1 }, (_, i) => i + 1);
}

/** MCTF's utils/mctf.py: at most half the unprotected tokens, at least 10 kept, a fraction of the tokens when r < 1. */
function mctfR(r: number, tokens: number, protectedTokens: number): number {
  const kept = tokens - r < MCTF_MIN_TOKENS ? tokens - MCTF_MIN_TOKENS : r;
  const free = tokens - protectedTokens;
  return Math.max(0, Math.min(kept < 1 ? Math.trunc(free * kept) : kept, Math.floor(free / 2)));
}

/**
 * The static plan of a setting: per block, the tokens in and out and how many are fused, exactly as
 * the official code computes them for this many input tokens (class and distillation tokens are protected).
 */
export function fusionSchedule(f: TokenFusion, o: { tokens: number; protectedTokens: number; depth: number }): BlockPlan[] {
  const plans: BlockPlan[] = [];
  const layers = f.method === 'mctf' || f.method === 'mctf-fast' ? mctfLayers(f.method, o.depth) : [];
  let tokens = o.tokens;
  for (let block = 0; block < o.depth; block++) {
    let r = 0;
    let kind: BlockPlan['kind'] = 'plain';
    if (f.method === 'tome') {
      r = Math.max(0, Math.min(f.r, Math.floor((tokens - o.protectedTokens) / 2)));
      kind = 'tome';
    } else if (layers.includes(block)) {
      r = mctfR(f.r, tokens, o.protectedTokens);
      kind = 'mctf';
    }
    if (r === 0) kind = 'plain';
    const [r1, r2] = kind === 'mctf' ? [Math.floor(r / 2), r - Math.floor(r / 2)] : [r, 0];
    plans.push({ block, kind, tokensIn: tokens, tokensOut: tokens - r, r, r1, r2 });
    tokens -= r;
  }
  return plans;
}
