import { GraphBuilder } from '../../ir/builder.js';
import type { Graph } from '../../ir/graph.js';
import type { DeitCard } from './card.js';
import { type BuildContext, conv2d, layerNorm, linear, param, scaledDotAttention } from '../layers.js';
import type { WeightSource } from '../weights.js';

/**
 * DeiT (Touvron et al., 2021): a ViT with class token, and for the distilled models a
 * distillation token whose head is averaged with the class head at inference.
 */
export function buildDeit(card: DeitCard, w: WeightSource): Graph {
  const a = card.architecture;
  const res = card.preprocessing.resolution;
  const d = a.embed_dim;
  const b = new GraphBuilder(card.id);
  const ctx: BuildContext = { b, w };
  const grid = res / a.patch_size;

  let x = conv2d(ctx, b.input('input', ['N', 3, res, res]), 'patch_embed.proj', {
    cin: 3,
    cout: d,
    kernel: a.patch_size,
    stride: a.patch_size,
    pad: 0,
    bias: true,
  });
  x = b.transpose(b.reshape(x, ['N', d, grid * grid]), [0, 2, 1]);
  const tokens = a.distilled ? 2 : 1;
  if (a.distilled) x = b.prependTokens(param(ctx, 'dist_token', [1, 1, d], 'embedding'), x);
  x = b.prependTokens(param(ctx, 'cls_token', [1, 1, d], 'embedding'), x);
  x = b.add2(x, param(ctx, 'pos_embed', [1, grid * grid + tokens, d], 'embedding'));

  for (let i = 0; i < a.depth; i++) {
    const p = `blocks.${i}`;
    x = b.within(p, () => {
      const attn = selfAttention(ctx, layerNorm(ctx, x, `${p}.norm1`, d, a.ln_eps), `${p}.attn`, d, a.num_heads);
      const y = b.add2(x, attn);
      const hidden = d * a.mlp_ratio;
      const h = b.gelu(linear(ctx, layerNorm(ctx, y, `${p}.norm2`, d, a.ln_eps), `${p}.mlp.fc1`, d, hidden, true));
      return b.add2(y, linear(ctx, h, `${p}.mlp.fc2`, hidden, d, true));
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

/** timm's Attention: qkv laid out [3, heads, head_dim], i.e. all queries, then keys, then values. */
function selfAttention(ctx: BuildContext, x: string, prefix: string, dim: number, heads: number): string {
  const { b } = ctx;
  const headDim = dim / heads;
  const [, tokens] = b.graph.shape(x);
  const qkv = b.reshape(linear(ctx, x, `${prefix}.qkv`, dim, 3 * dim, true), ['N', tokens, 3 * heads, headDim]);
  const [q, k, v] = b.split(qkv, 2, [heads, heads, heads]);
  const out = scaledDotAttention(
    ctx,
    b.transpose(q, [0, 2, 1, 3]),
    b.transpose(k, [0, 2, 3, 1]),
    b.transpose(v, [0, 2, 1, 3]),
    `${prefix}.scale`,
    headDim ** -0.5,
  );
  return linear(ctx, out, `${prefix}.proj`, dim, dim, true);
}
