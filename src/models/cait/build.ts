import { GraphBuilder } from '../../ir/builder.js';
import type { Graph } from '../../ir/graph.js';
import type { CaitCard } from './card.js';
import {
  type BuildContext,
  HEADS_FIRST,
  KEYS_TRANSPOSED,
  attend,
  attentionScores,
  layerNorm,
  linear,
  mlp,
  param,
  positionedPatchTokens,
  projectHeads,
  scaledDotAttention,
} from '../layers.js';
import type { WeightSource } from '../weights.js';

/**
 * CaiT (Touvron et al., ICCV 2021), in timm's layout: patch tokens (no class token) through
 * LayerScale blocks with talking-heads attention, then class-attention blocks in which only the
 * class token is updated, attending to itself and the patches. Distilled weights have one head.
 */
export function buildCait(card: CaitCard, w: WeightSource): Graph {
  const a = card.architecture;
  const res = card.preprocessing.resolution;
  const d = a.embed_dim;
  const b = new GraphBuilder(card.id);
  const ctx: BuildContext = { b, w };

  let x = positionedPatchTokens(ctx, b.input('input', ['N', 3, res, res]), a.patch_size, d);

  for (let i = 0; i < a.depth; i++) {
    const p = `blocks.${i}`;
    x = b.within(p, () => {
      const attn = talkingHeadsAttention(ctx, layerNorm(ctx, x, `${p}.norm1`, d, a.ln_eps), `${p}.attn`, d, a.num_heads);
      const y = b.add2(x, layerScale(ctx, attn, `${p}.gamma_1`, d));
      return b.add2(y, layerScale(ctx, mlp(ctx, layerNorm(ctx, y, `${p}.norm2`, d, a.ln_eps), `${p}.mlp`, d, d * a.mlp_ratio), `${p}.gamma_2`, d));
    });
  }

  const clsToken = param(ctx, 'cls_token', [1, 1, d], 'embedding');
  let cls = clsToken;
  for (let i = 0; i < a.depth_token_only; i++) {
    const p = `blocks_token_only.${i}`;
    cls = b.within(p, () => {
      // The first block sees the learnt token (broadcast over the batch), later ones the updated [N, 1, d].
      const u = cls === clsToken ? b.prependTokens(cls, x) : b.concat([cls, x], 1);
      const attn = classAttention(ctx, layerNorm(ctx, u, `${p}.norm1`, d, a.ln_eps), `${p}.attn`, d, a.num_heads);
      const c = b.add2(cls, layerScale(ctx, attn, `${p}.gamma_1`, d));
      return b.add2(c, layerScale(ctx, mlp(ctx, layerNorm(ctx, c, `${p}.norm2`, d, a.ln_eps), `${p}.mlp`, d, d * a.mlp_ratio_token_only), `${p}.gamma_2`, d));
    });
  }
  // timm normalises cat(cls, x) and keeps token 0: LayerNorm is per token, so the class token alone suffices.
  const features = b.reshape(layerNorm(ctx, cls, 'norm', d, a.ln_eps), ['N', d]);
  b.output(linear(ctx, features, 'head', d, card.num_classes, true));
  w.finish(card.id);
  return b.graph;
}

/** LayerScale: a learnt per-channel factor on a residual branch (folded into its last linear layer at inference). */
function layerScale(ctx: BuildContext, x: string, name: string, dim: number): string {
  return ctx.b.mul(x, param(ctx, name, [dim], 'bn_weight'));
}

/**
 * Talking-heads attention (Shazeer et al., 2020): the heads' logits are mixed by a linear map
 * over the head axis before the softmax (proj_l), and the probabilities again after it (proj_w).
 */
function talkingHeadsAttention(ctx: BuildContext, x: string, prefix: string, dim: number, heads: number): string {
  const { b } = ctx;
  const [q, k, v] = projectHeads(ctx, x, `${prefix}.qkv`, dim, heads, 3, true);
  const scores = attentionScores(ctx, b.transpose(q, HEADS_FIRST), b.transpose(k, KEYS_TRANSPOSED), `${prefix}.scale`, (dim / heads) ** -0.5);
  const mixHeads = (s: string, name: string) => b.transpose(linear(ctx, b.transpose(s, [0, 2, 3, 1]), name, heads, heads, true), [0, 3, 1, 2]);
  const weights = mixHeads(b.softmax(mixHeads(scores, `${prefix}.proj_l`), -1), `${prefix}.proj_w`);
  return linear(ctx, attend(ctx, weights, b.transpose(v, HEADS_FIRST)), `${prefix}.proj`, dim, dim, true);
}

/** Class attention: the query is the class token (token 0) alone; keys and values are all tokens. */
function classAttention(ctx: BuildContext, u: string, prefix: string, dim: number, heads: number): string {
  const { b } = ctx;
  const [, tokens] = b.graph.shape(u);
  const headDim = dim / heads;
  const split = (t: string, length: number, perm: readonly number[]) => b.transpose(b.reshape(t, ['N', length, heads, headDim]), perm);
  const q = split(linear(ctx, b.slice(u, 1, 0, 1), `${prefix}.q`, dim, dim, true), 1, HEADS_FIRST);
  const kT = split(linear(ctx, u, `${prefix}.k`, dim, dim, true), tokens as number, KEYS_TRANSPOSED);
  const v = split(linear(ctx, u, `${prefix}.v`, dim, dim, true), tokens as number, HEADS_FIRST);
  return linear(ctx, scaledDotAttention(ctx, q, kT, v, `${prefix}.scale`, headDim ** -0.5), `${prefix}.proj`, dim, dim, true);
}
