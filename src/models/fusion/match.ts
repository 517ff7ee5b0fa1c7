import type { GraphBuilder } from '../../ir/builder.js';
import type { BlockPlan } from './spec.js';
import { MCTF_TAU } from './spec.js';

/**
 * Bipartite soft matching as a static graph: which group each token joins when r tokens are fused.
 * The tokens are split into A (even positions, the class token first) and B (odd positions); the
 * result is a group id per token, [N, L] float32 whole numbers, numbered in the order the official
 * code leaves the merged tokens in (the next block's matching depends on that order). Merging is then
 * a segment sum by those ids (token fusion's scatter-add), done once per tensor merged.
 *
 * The official code sorts (argsort); here each score's rank is counted instead: the tokens scoring
 * higher, plus those scoring the same at a lower index (argsort's and TopK's order for ties). It is the
 * same permutation, made of comparisons and sums that every runtime has, and gives positions directly.
 */

/** What a matching needs to know about the tokens: how many, and whether a distillation token sits at 1. */
export interface MatchShape {
  readonly plan: BlockPlan;
  readonly distilled: boolean;
}

const constant = (b: GraphBuilder, base: string, shape: number[], data: Float32Array) =>
  b.initializer(b.graph.freshName(base), { dtype: 'float32', shape, data }, 'constant');

const scalar = (b: GraphBuilder, base: string, v: number) => constant(b, base, [], Float32Array.of(v));

/** The rank of each value along the last axis of [N, T] in descending order, ties to the lower index. */
export function rankDescending(b: GraphBuilder, v: string, base: string): string {
  const [, t] = b.graph.shape(v) as [unknown, number];
  const rows = b.reshape(v, ['N', t, 1]);
  const cols = b.reshape(v, ['N', 1, t]);
  const lower = new Float32Array(t * t);
  for (let i = 0; i < t; i++) for (let k = 0; k < i; k++) lower[i * t + k] = 1;
  const higher = b.compare(cols, rows, 'greater');
  const earlierTie = b.mul(b.compare(cols, rows, 'equal'), constant(b, `${base}.earlier`, [t, t], lower));
  return b.reduce(b.add2(higher, earlierTie), 'sum', 2);
}

/** A and B halves of [N, L, C] tokens (even and odd positions), and their cosine similarity [N, |A|, |B|]. */
function cosineSimilarity(b: GraphBuilder, metric: string): string {
  const [, tokens] = b.graph.shape(metric) as [unknown, number];
  const unit = b.l2Normalize(metric, -1, 0);
  const a = b.slice(unit, 1, 0, tokens, 2);
  const bb = b.slice(unit, 1, 1, tokens, 2);
  return b.matmul(a, b.transpose(bb, [0, 2, 1]));
}

/** -inf where a protected token would take part: the class token's row (A), the distillation token's column (B). */
function protectedMask(b: GraphBuilder, base: string, t1: number, t2: number, distilled: boolean): string {
  const mask = new Float32Array(t1 * t2);
  for (let j = 0; j < t2; j++) mask[j] = -Infinity;
  if (distilled) for (let i = 0; i < t1; i++) mask[i * t2] = -Infinity;
  return constant(b, `${base}.protected`, [t1, t2], mask);
}

/** [N, L] -> its values at the even and odd positions, as [N, |A|, 1] and [N, 1, |B|] for an outer product. */
function halves(b: GraphBuilder, v: string): [string, string] {
  const [, tokens] = b.graph.shape(v) as [unknown, number];
  const a = b.slice(v, 1, 0, tokens, 2);
  const bb = b.slice(v, 1, 1, tokens, 2);
  return [b.reshape(a, ['N', b.graph.shape(a)[1], 1]), b.reshape(bb, ['N', 1, b.graph.shape(bb)[1]])];
}

/** (1 / v) / max(1 / v) per image: MCTF's normalisation of attention received and of token sizes. */
function relativeInverse(b: GraphBuilder, v: string, base: string): string {
  const inv = b.div(scalar(b, `${base}.one`, 1), v);
  return b.div(inv, b.reduce(inv, 'max', 1, true));
}

/** (u_a u_b)^(1 / tau) over all pairs of A and B tokens. */
function pairWeight(b: GraphBuilder, v: string, tau: number): string {
  const [a, bb] = halves(b, v);
  return b.pow(b.mul(a, bb), 1 / tau);
}

/** Each token's group (the official merge order) from A's and B's groups: interleaved back to token order. */
function interleave(b: GraphBuilder, groupsA: string, groupsB: string): string {
  const [, t1] = b.graph.shape(groupsA) as [unknown, number];
  const [, t2] = b.graph.shape(groupsB) as [unknown, number];
  const pairs = b.concat([b.reshape(b.slice(groupsA, 1, 0, t2), ['N', t2, 1]), b.reshape(groupsB, ['N', t2, 1])], 2);
  const even = b.reshape(pairs, ['N', 2 * t2]);
  return t1 > t2 ? b.concat([even, b.slice(groupsA, 1, t2, t1)], 1) : even;
}

/** where(mask, yes, no) for 0/1 masks and finite values, as no + mask * (yes - no): exact for whole numbers. */
const choose = (b: GraphBuilder, mask: string, yes: string, no: string) => b.add2(no, b.mul(mask, b.sub(yes, no)));

/** Which A tokens fuse (rank below r1) and where the others stay: their position among the unmerged A in index order. */
function firstDirection(b: GraphBuilder, scores: string, r1: number, base: string) {
  const best = b.reduce(scores, 'max', 2);
  const target = b.argmax(scores, 2);
  const merged = b.compare(scalar(b, `${base}.r1`, r1), rankDescending(b, best, `${base}.a`), 'greater');
  const kept = b.sub(scalar(b, `${base}.one`, 1), merged);
  const position = b.sub(b.cumsum(kept, 1), scalar(b, `${base}.one`, 1));
  return { merged, kept, target, position };
}

/** The unmerged A tokens' groups: their position, after the distillation token's group 1 in a distilled model. */
function keptGroups(b: GraphBuilder, position: string, t1: number, distilled: boolean, base: string): string {
  if (!distilled) return position;
  const shift = Float32Array.from({ length: t1 }, (_, i) => (i === 0 ? 0 : 1));
  return b.add2(position, constant(b, `${base}.after_dist`, [t1], shift));
}

/** Values of [N, T] picked per image by float ids [N, S]. */
function pick(b: GraphBuilder, v: string, ids: string): string {
  const [, t] = b.graph.shape(v) as [unknown, number];
  const [, s] = b.graph.shape(ids) as [unknown, number];
  return b.reshape(b.gatherRows(b.reshape(v, ['N', t, 1]), ids), ['N', s]);
}

/**
 * ToMe (tome/merge.py bipartite_soft_matching): scores = cos(A, B) of the metric (the keys averaged over
 * heads); the r A tokens with the best match fuse into it. Output order: the unmerged A tokens in index
 * order, then B; a distillation token stays second (class, distillation, unmerged A, B).
 */
export function tomeGroups(b: GraphBuilder, metric: string, s: MatchShape, base: string): string {
  const { plan, distilled } = s;
  const [t1, t2] = [Math.ceil(plan.tokensIn / 2), Math.floor(plan.tokensIn / 2)];
  const scores = b.add2(cosineSimilarity(b, metric), protectedMask(b, base, t1, t2, distilled));
  const first = firstDirection(b, scores, plan.r1, base);
  const unmergedA = t1 - plan.r1;
  // B token j: group unmergedA + j (the distillation token, B's first, is group 1 when distilled).
  const groupB = Float32Array.from({ length: t2 }, (_, j) => (distilled && j === 0 ? 1 : unmergedA + j));
  // The same for every image, but interleaving needs the batch dimension: 0 x (finite [N, |B|] values) + groups.
  const zero = b.mul(b.slice(first.target, 1, 0, t2), scalar(b, `${base}.zero`, 0));
  const groupsB = b.add2(zero, constant(b, `${base}.groups_b`, [t2], groupB));
  const intoB = b.add2(first.target, scalar(b, `${base}.unmerged_a`, unmergedA));
  const groupsA = choose(b, first.merged, intoB, keptGroups(b, first.position, t1, distilled, base));
  return interleave(b, groupsA, groupsB);
}

/**
 * MCTF (utils/mctf.py bipartite_soft_matching, bidirection on): scores weigh the similarity of the
 * tokens (the block's input x) by how little attention they receive (informativeness: `received`, [N, L],
 * this block's attention averaged over heads and queries) and, once tokens have merged, by their sizes. First the r1 best A tokens fuse into B; then,
 * on the same scores restricted to the unmerged A, the r2 best B tokens fuse into those A. Output order:
 * the unmerged A tokens in index order, then the unmerged B tokens in descending order of their best score.
 * A distillation token (levit's extension: the MCTF code has no distilled model) is protected like the
 * class token and kept second.
 */
export function mctfGroups(b: GraphBuilder, x: string, received: string, sizes: string | undefined, s: MatchShape, base: string): string {
  const { plan, distilled } = s;
  const [t1, t2] = [Math.ceil(plan.tokensIn / 2), Math.floor(plan.tokensIn / 2)];
  const similarity = b.mul(b.add2(cosineSimilarity(b, x), scalar(b, `${base}.one`, 1)), scalar(b, `${base}.half`, 0.5));
  const wSim = MCTF_TAU.sim === 1 ? similarity : b.pow(similarity, 1 / MCTF_TAU.sim);
  let scores = b.mul(wSim, pairWeight(b, relativeInverse(b, received, `${base}.info`), MCTF_TAU.info));
  if (sizes) scores = b.mul(scores, pairWeight(b, relativeInverse(b, b.reshape(sizes, ['N', plan.tokensIn]), `${base}.size`), MCTF_TAU.size));
  scores = b.add2(scores, protectedMask(b, base, t1, t2, distilled));

  const first = firstDirection(b, scores, plan.r1, base);
  // B -> A: the same scores, transposed, the merged A columns out (log 1 = 0, log 0 = -inf).
  let back = b.add2(b.transpose(scores, [0, 2, 1]), b.reshape(b.log(first.kept), ['N', 1, t1]));
  if (distilled) {
    const row = new Float32Array(t2 * t1);
    row.fill(-Infinity, 0, t1);
    back = b.add2(back, constant(b, `${base}.dist_row`, [t2, t1], row));
  }
  const best = b.reduce(back, 'max', 2);
  const target = b.argmax(back, 2);
  const rank = rankDescending(b, best, `${base}.b`);
  const merged = b.compare(scalar(b, `${base}.r2`, plan.r2), rank, 'greater');
  const groupsKeptA = keptGroups(b, first.position, t1, distilled, base);
  // Unmerged B token of rank k: group (unmerged A) + (k - r2), one further on past a distillation token, which is group 1.
  const unmergedA = t1 - plan.r1 + (distilled ? 1 : 0);
  let restB = b.add2(rank, scalar(b, `${base}.b_offset`, unmergedA - plan.r2));
  if (distilled) {
    const first0 = Float32Array.from({ length: t2 }, (_, j) => (j === 0 ? 1 : 0));
    restB = choose(b, constant(b, `${base}.is_dist`, [t2], first0), scalar(b, `${base}.dist_group`, 1), restB);
  }
  const groupsB = choose(b, merged, pick(b, groupsKeptA, target), restB);
  const groupsA = choose(b, first.merged, pick(b, groupsB, first.target), groupsKeptA);
  return interleave(b, groupsA, groupsB);
}
