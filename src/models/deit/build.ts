import { GraphBuilder } from '../../ir/builder.js';
import type { Graph } from '../../ir/graph.js';
import type { VitCard } from '../vit/card.js';
import type { DeitCard } from './card.js';
import { type BuildContext, layerNorm, linear, mlp, param, patchTokens, selfAttention } from '../layers.js';
import type { WeightSource } from '../weights.js';

/**
 * DeiT (Touvron et al., 2021): a ViT with class token, and for the distilled models a
 * distillation token whose head is averaged with the class head at inference. ViT's own
 * weights (AugReg) use the same graph without distillation token.
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

  for (let i = 0; i < a.depth; i++) {
    const p = `blocks.${i}`;
    x = b.within(p, () => {
      const y = b.add2(x, selfAttention(ctx, layerNorm(ctx, x, `${p}.norm1`, d, a.ln_eps), `${p}.attn`, d, a.num_heads, true));
      return b.add2(y, mlp(ctx, layerNorm(ctx, y, `${p}.norm2`, d, a.ln_eps), `${p}.mlp`, d, d * a.mlp_ratio));
    });
  }
  x = layerNorm(ctx, x, 'norm', d, a.ln_eps);
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
