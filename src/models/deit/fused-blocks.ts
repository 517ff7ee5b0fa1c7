import type { GraphBuilder } from '../../ir/builder.js';
import type { DeitArchitecture } from './card.js';
import { mctfGroups, tomeGroups } from '../fusion/match.js';
import type { BlockPlan } from '../fusion/spec.js';
import { type BuildContext, HEADS_FIRST, KEYS_TRANSPOSED, attend, attentionScores, layerNorm, linear, mlp, param, selfAttentionWithKeys } from '../layers.js';

/**
 * DeiT's transformer block (timm's Block) in the three forms token fusion gives it: plain (with
 * proportional attention once tokens have merged), MCTF's (mlvlab/MCTF models/modules/blocks.py
 * Block_DEIT, one-step-ahead) and ToMe's (facebookresearch/ToMe tome/patch/timm.py ToMeBlock).
 */

/** The residual stream and, once tokens have merged, how many input tokens each holds ([N, L, 1]). */
export interface TokenState {
  readonly x: string;
  readonly sizes?: string;
}

const tokensOf = (b: GraphBuilder, v: string) => b.graph.shape(v)[1] as number;

/** log(size) per key, [N, 1, 1, L]: proportional attention, added to the scores before the softmax. */
function sizeBias(b: GraphBuilder, sizes: string | undefined): string | undefined {
  return sizes && b.reshape(b.log(sizes), ['N', 1, 1, tokensOf(b, sizes)]);
}

/** Sizes before the first merge: 1 for every token, the same for every image. */
function unitSizes(b: GraphBuilder, base: string, tokens: number): string {
  return b.initializer(b.graph.freshName(`${base}.ones`), { dtype: 'float32', shape: [1, tokens, 1], data: new Float32Array(tokens).fill(1) }, 'constant');
}

/** The MLP half of the block, on the (merged) residual stream. */
function mlpHalf(ctx: BuildContext, y: string, p: string, a: DeitArchitecture): string {
  const d = a.embed_dim;
  return ctx.b.add2(y, mlp(ctx, layerNorm(ctx, y, `${p}.norm2`, d, a.ln_eps), `${p}.mlp`, d, d * a.mlp_ratio));
}

/** timm's Block; with sizes, its attention adds log(size) to each key's score (prop_attn). */
function plainBlock(ctx: BuildContext, s: TokenState, p: string, a: DeitArchitecture): TokenState {
  const d = a.embed_dim;
  const normed = layerNorm(ctx, s.x, `${p}.norm1`, d, a.ln_eps);
  const y = ctx.b.add2(s.x, selfAttentionWithKeys(ctx, normed, `${p}.attn`, d, a.num_heads, true, sizeBias(ctx.b, s.sizes)).out);
  return { x: mlpHalf(ctx, y, p, a), sizes: s.sizes };
}

/**
 * ToMe: attention on all tokens, then the r best-matched tokens (by their keys averaged over heads) are
 * merged into their match as size-weighted averages, then the MLP on the merged tokens.
 */
function tomeBlock(ctx: BuildContext, s: TokenState, p: string, a: DeitArchitecture, plan: BlockPlan): TokenState {
  const { b } = ctx;
  const d = a.embed_dim;
  const normed = layerNorm(ctx, s.x, `${p}.norm1`, d, a.ln_eps);
  const attention = selfAttentionWithKeys(ctx, normed, `${p}.attn`, d, a.num_heads, true, sizeBias(b, s.sizes));
  const y = b.add2(s.x, attention.out);
  const ids = tomeGroups(b, b.mean(attention.keys, [2]), { plan, distilled: a.distilled }, `${p}.tome`);
  const sizes = b.segmentSum(s.sizes ?? unitSizes(b, `${p}.tome`, plan.tokensIn), ids, plan.tokensOut);
  const merged = b.div(b.segmentSum(s.sizes ? b.mul(y, s.sizes) : y, ids, plan.tokensOut), sizes);
  return { x: mlpHalf(ctx, merged, p, a), sizes };
}

/**
 * MCTF with one-step-ahead attention: the attention probabilities P of the block's input decide the merge
 * (with the similarity of x and the sizes), tokens merge as averages weighted by the attention they receive
 * times their relative size, and P itself is merged (keys summed, queries averaged with the same weights)
 * and applied to the values of the merged tokens: no second softmax.
 *
 * Merged P times V' equals M_w P (G V'), M_w the weighted row merge and G V' the merged tokens' values
 * handed back to each original key (a gather): the same product, without building the merged [L', L']
 * attention (the official code's scatter over every probability).
 */
function mctfBlock(ctx: BuildContext, s: TokenState, p: string, a: DeitArchitecture, plan: BlockPlan): TokenState {
  const { b } = ctx;
  const [d, heads] = [a.embed_dim, a.num_heads];
  const [n, kept] = [plan.tokensIn, plan.tokensOut];
  const norm1 = [param(ctx, `${p}.norm1.weight`, [d], 'bn_weight'), param(ctx, `${p}.norm1.bias`, [d], 'bn_bias')] as const;
  const normed = (v: string) => b.layerNorm(v, norm1[0], norm1[1], a.ln_eps);
  const qkvW = param(ctx, `${p}.attn.qkv.weight`, [3 * d, d], 'linear_weight');
  const qkvB = param(ctx, `${p}.attn.qkv.bias`, [3 * d], 'bias');
  // Queries and keys of all n tokens (the first 2d rows of qkv); values later, of the merged tokens only.
  const qk = b.linear(normed(s.x), b.slice(qkvW, 0, 0, 2 * d), b.slice(qkvB, 0, 0, 2 * d));
  const [q, k] = b.split(b.reshape(qk, ['N', n, 2 * heads, d / heads]), 2, [heads, heads]);
  const scores = attentionScores(
    ctx,
    b.transpose(q, HEADS_FIRST),
    b.transpose(k, KEYS_TRANSPOSED),
    `${p}.attn.scale`,
    (d / heads) ** -0.5,
    sizeBias(b, s.sizes),
  );
  const probs = b.softmax(scores, -1);
  const received = b.mean(probs, [1, 2]);
  const ids = mctfGroups(b, s.x, received, s.sizes, { plan, distilled: a.distilled }, `${p}.mctf`);

  // Pooling weights: attention received times size relative to the largest (pooling_type 1).
  const column = b.reshape(received, ['N', n, 1]);
  const weight = s.sizes ? b.mul(column, b.div(s.sizes, b.reduce(s.sizes, 'max', 1, true))) : column;
  const total = b.segmentSum(weight, ids, kept);
  const average = (v: string) => b.div(b.segmentSum(b.mul(v, weight), ids, kept), total);
  const x = average(s.x);
  const sizes = b.segmentSum(s.sizes ?? unitSizes(b, `${p}.mctf`, n), ids, kept);

  const values = b.linear(normed(x), b.slice(qkvW, 0, 2 * d, 3 * d), b.slice(qkvB, 0, 2 * d, 3 * d));
  const perKey = b.transpose(b.reshape(b.gatherRows(values, ids), ['N', n, heads, d / heads]), HEADS_FIRST);
  const attended = average(attend(ctx, probs, perKey));
  const y = b.add2(x, linear(ctx, attended, `${p}.attn.proj`, d, d, true));
  return { x: mlpHalf(ctx, y, p, a), sizes };
}

/** One block as its plan says. */
export function deitBlock(ctx: BuildContext, s: TokenState, p: string, a: DeitArchitecture, plan: BlockPlan): TokenState {
  switch (plan.kind) {
    case 'plain':
      return plainBlock(ctx, s, p, a);
    case 'tome':
      return tomeBlock(ctx, s, p, a, plan);
    case 'mctf':
      return mctfBlock(ctx, s, p, a, plan);
  }
}
