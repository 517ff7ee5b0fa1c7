import { GraphBuilder } from '../../ir/builder.js';
import type { Graph } from '../../ir/graph.js';
import type { VitCard } from '../vit/card.js';
import type { DeitCard } from './card.js';
import { type BuildContext, layerNorm, linear, param, patchTokens } from '../layers.js';
import { type BlockPlan, NO_FUSION, fusionSchedule } from '../fusion/spec.js';
import { type TokenState, deitBlock } from './fused-blocks.js';
import type { WeightSource } from '../weights.js';

/**
 * DeiT (Touvron et al., 2021): a ViT with class token, and for the distilled models a
 * distillation token whose head is averaged with the class head at inference. ViT's own
 * weights (AugReg) use the same graph without distillation token. With the card's token fusion
 * (withTokenFusion), blocks merge tokens as MCTF or ToMe do (./fused-blocks.ts).
 */
export function buildDeit(card: DeitCard | VitCard, w: WeightSource): Graph {
  const a = card.architecture;
  const res = card.preprocessing.resolution;
  const d = a.embed_dim;
  const b = new GraphBuilder(card.id);
  const ctx: BuildContext = { b, w };
  const grid = res / a.patch_size;

  let x = patchTokens(ctx, b.input('input', ['N', 3, res, res]), 'patch_embed.proj', a.patch_size, d);
  const tokens = a.distilled ? 2 : 1;
  if (a.distilled) x = b.prependTokens(param(ctx, 'dist_token', [1, 1, d], 'embedding'), x);
  x = b.prependTokens(param(ctx, 'cls_token', [1, 1, d], 'embedding'), x);
  x = b.add2(x, param(ctx, 'pos_embed', [1, grid * grid + tokens, d], 'embedding'));

  const plans = deitSchedule(card);
  let state: TokenState = { x };
  for (const plan of plans) {
    const p = `blocks.${plan.block}`;
    state = b.within(p, () => deitBlock(ctx, state, p, a, plan));
  }
  x = layerNorm(ctx, state.x, 'norm', d, a.ln_eps);
  const token = (i: number) => b.reshape(b.slice(x, 1, i, i + 1), ['N', d]);
  let logits = linear(ctx, token(0), 'head', d, card.num_classes, true);
  if (a.distilled) {
    const dist = linear(ctx, token(1), 'head_dist', d, card.num_classes, true);
    const half = b.initializer('head_average', { dtype: 'float32', shape: [], data: new Float32Array([0.5]) }, 'constant');
    logits = b.mul(b.add2(logits, dist), half);
  }
  b.output(logits);
  w.finish(card.id);
  return b.graph;
}

/** The token-fusion plan of every block (plain blocks without fusion), for this card's tokens: patches plus class (and distillation) tokens. */
export function deitSchedule(card: DeitCard | VitCard): BlockPlan[] {
  const a = card.architecture;
  const grid = card.preprocessing.resolution / a.patch_size;
  const protectedTokens = a.distilled ? 2 : 1;
  return fusionSchedule(card.token_fusion ?? NO_FUSION, { tokens: grid * grid + protectedTokens, protectedTokens, depth: a.depth });
}
