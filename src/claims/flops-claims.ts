import { countsOf } from '../classifier/zoo.js';
import type { ModelCard } from '../models/families.js';
import { DEFAULT_R, FUSION_METHODS, NO_FUSION, type TokenFusion, fusionName, parseTokenFusion } from '../models/fusion/spec.js';
import { getCard, withTokenFusion } from '../models/registry.js';
import { CLAIMS_DIR, invalid, readClaimFiles } from './speed-claims.js';

/**
 * Published FLOP counts (zoo/claims/*.json of kind "flops", e.g. MCTF's GFLOPs of DeiT with and without
 * token fusion) checked against levit's own count of the same model and setting. The counting conventions
 * differ (each file states how): a claim agrees when levit's count is within FLOPS_TOLERANCE of it.
 */
export const FLOPS_TOLERANCE = 0.01;

export interface FlopsClaim {
  id: string;
  statement: string;
  model: string;
  /** The setting as --token-fusion takes it ('none', 'mctf:16'). */
  token_fusion: string;
  gflops: number;
  source: string;
}

export interface FlopsClaimCheck {
  claim: string;
  statement: string;
  model: string;
  token_fusion: string;
  published_gflops: number;
  /** levit's count of the same model and setting, in GFLOPs (1e9 multiply-adds). */
  levit_gflops: number;
  /** levit's count over the published one, minus 1. */
  difference: number;
  verdict: 'agrees' | 'differs';
  /** How the claims file says its figures and levit's are counted. */
  convention: string;
  source: string;
}

function validate(c: Partial<FlopsClaim>, file: string): FlopsClaim {
  const where = `claim ${String(c.id)}`;
  for (const key of ['id', 'statement', 'model', 'token_fusion', 'source'] as const)
    if (typeof c[key] !== 'string') invalid(file, `${where}: ${key} must be a string`);
  if (!(typeof c.gflops === 'number' && c.gflops > 0)) invalid(file, `${where}: gflops must be a positive number`);
  // A claim must name a model and a setting levit knows: otherwise it would surface later as a usage error.
  try {
    withTokenFusion(getCard(c.model!), parseTokenFusion(c.token_fusion!));
  } catch (e) {
    invalid(file, `${where}: ${(e as Error).message}`);
  }
  return c as FlopsClaim;
}

/** Every FLOPs claim of zoo/claims/ (or `dir`), with its file's counting convention. */
export function loadFlopsClaims(dir = CLAIMS_DIR): (FlopsClaim & { convention: string })[] {
  return readClaimFiles(dir)
    .filter((d) => d.kind === 'flops')
    .flatMap((d) => d.claims.map((c) => ({ ...validate(c as Partial<FlopsClaim>, d.file), convention: d.convention ?? '' })));
}

/** Each claim against levit's count of its model with its setting. */
export function checkFlopsClaims(claims: readonly (FlopsClaim & { convention: string })[]): FlopsClaimCheck[] {
  return claims.map((c) => {
    const levit = countsOf(withTokenFusion(getCard(c.model), parseTokenFusion(c.token_fusion))).flops / 1e9;
    const difference = levit / c.gflops - 1;
    return {
      claim: c.id,
      statement: c.statement,
      model: c.model,
      token_fusion: c.token_fusion,
      published_gflops: c.gflops,
      levit_gflops: levit,
      difference,
      verdict: Math.abs(difference) <= FLOPS_TOLERANCE ? 'agrees' : 'differs',
      convention: c.convention,
      source: c.source,
    };
  });
}

/** A model's FLOPs with each method's default setting (none first), and the published figures for them. */
export interface FusionFlops {
  token_fusion: string;
  flops: number;
  /** Against the plain model's count. */
  ratio: number;
  claims: FlopsClaimCheck[];
}

export function tokenFusionFlops(card: ModelCard, extra: readonly TokenFusion[] = []): FusionFlops[] {
  const defaults = FUSION_METHODS.map((m) => (m === 'none' ? NO_FUSION : { method: m, r: DEFAULT_R[m] }));
  const settings = [...defaults, ...extra].filter((f, i, all) => all.findIndex((g) => fusionName(g) === fusionName(f)) === i);
  const mine = loadFlopsClaims().filter((c) => c.model === card.id);
  const plain = countsOf(withTokenFusion(card, NO_FUSION)).flops;
  return settings.map((f) => {
    const flops = countsOf(withTokenFusion(card, f)).flops;
    const claims = checkFlopsClaims(mine.filter((c) => fusionName(parseTokenFusion(c.token_fusion)) === fusionName(f)));
    return { token_fusion: fusionName(f), flops, ratio: flops / plain, claims };
  });
}
