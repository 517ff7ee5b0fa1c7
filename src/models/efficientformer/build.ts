import { GraphBuilder } from '../../ir/builder.js';
import type { Graph } from '../../ir/graph.js';
import type { EfficientFormerArchitecture, EfficientFormerCard } from './card.js';
import { type BuildContext, attentionBias, batchNorm, conv2d, layerNorm, linear, param, scaledDotAttention } from '../layers.js';
import type { WeightSource } from '../weights.js';

/**
 * EfficientFormer (Li et al., 2022) as timm's efficientformer.py lays it out: a stride-4
 * convolutional stem, four stages of PoolFormer-style blocks on NCHW maps, and in the last
 * stage `num_vit` attention blocks on the flattened tokens; a distillation head averaged with
 * the class head. Reference form: BatchNorms and the attention-bias gather are left to the passes.
 */
export function buildEfficientFormer(card: EfficientFormerCard, w: WeightSource): Graph {
  const a = card.architecture;
  const res = card.preprocessing.resolution;
  const b = new GraphBuilder(card.id);
  const ctx: BuildContext = { b, w };
  const convBn = (x: string, conv: string, bn: string, cin: number, cout: number) =>
    batchNorm(ctx, conv2d(ctx, x, conv, { cin, cout, kernel: 3, stride: 2, pad: 1, bias: true }), bn, cout, 1, a.bn_eps);

  let x = b.input('input', ['N', 3, res, res]);
  const stem = a.widths[0];
  x = b.within('stem', () => b.relu(convBn(b.relu(convBn(x, 'stem.conv1', 'stem.norm1', 3, stem / 2)), 'stem.conv2', 'stem.norm2', stem / 2, stem)));
  let dim = stem;
  a.depths.forEach((depth, s) => {
    const p = `stages.${s}`;
    if (s > 0) {
      x = b.within(`${p}.downsample`, () => convBn(x, `${p}.downsample.conv`, `${p}.downsample.norm`, dim, a.widths[s]));
      dim = a.widths[s];
    }
    blockLayout(depth, s === a.depths.length - 1 ? a.num_vit : 0).forEach((kind, i) => {
      const q = `${p}.blocks.${i}`;
      x = b.within(q, () => {
        if (kind === 'flat') return flatten(ctx, x);
        return kind === 'pool' ? poolBlock(ctx, x, q, dim, a) : attentionBlock(ctx, x, q, dim, a);
      });
    });
  });
  if (b.graph.shape(x).length !== 3) throw new Error(`${card.id}: EfficientFormer needs num_vit >= 1 (its head reads tokens)`);

  x = b.mean(layerNorm(ctx, x, 'norm', dim, a.ln_eps), [1]);
  let logits = linear(ctx, x, 'head', dim, card.num_classes, true);
  if (a.distilled) {
    const dist = linear(ctx, x, 'head_dist', dim, card.num_classes, true);
    const half = b.initializer('head_average', { dtype: 'float32', shape: [], data: new Float32Array([0.5]) }, 'constant');
    logits = b.mul(b.add2(logits, dist), half);
  }
  b.output(logits);
  w.finish(card.id);
  return b.graph;
}

type BlockKind = 'pool' | 'flat' | 'attention';

/**
 * The modules of a stage in checkpoint order: pooling blocks, then the Flat module (which
 * takes an index of its own), then `numVit` attention blocks.
 */
export function blockLayout(depth: number, numVit: number): BlockKind[] {
  const vit = Math.min(numVit, depth);
  const kinds: BlockKind[] = Array.from({ length: depth - vit }, () => 'pool');
  if (vit > 0) kinds.push('flat', ...Array.from({ length: vit }, () => 'attention' as const));
  return kinds;
}

function flatten(ctx: BuildContext, x: string): string {
  const [, c, h, w] = ctx.b.graph.shape(x) as number[];
  return ctx.b.transpose(ctx.b.reshape(x, ['N', c, h * w]), [0, 2, 1]);
}

/** LayerScale: x * gamma, gamma over the channel axis (the last one, or axis 1 of a map). */
function layerScale(ctx: BuildContext, x: string, name: string, dim: number, channelsFirst: boolean): string {
  const gamma = param(ctx, name, [dim], 'bn_weight');
  return ctx.b.mul(x, channelsFirst ? ctx.b.reshape(gamma, [dim, 1, 1]) : gamma);
}

/** MetaBlock2d: x + ls1 * (avgpool3x3(x) - x); x + ls2 * mlp(x), the MLP of 1x1 convolutions with BatchNorm. */
function poolBlock(ctx: BuildContext, x: string, p: string, dim: number, a: EfficientFormerArchitecture): string {
  const { b } = ctx;
  const pooled = b.avgPool2d(x, { kernel: a.pool_size, stride: 1, pad: Math.floor(a.pool_size / 2), countIncludePad: false });
  const y = b.add2(x, layerScale(ctx, b.sub(pooled, x), `${p}.ls1.gamma`, dim, true));
  const hidden = dim * a.mlp_ratio;
  const pointwise = (v: string, name: string, cin: number, cout: number) => {
    const conv = conv2d(ctx, v, `${p}.mlp.${name}`, { cin, cout, kernel: 1, stride: 1, pad: 0, bias: true });
    return batchNorm(ctx, conv, `${p}.mlp.norm${name.at(-1)}`, cout, 1, a.bn_eps);
  };
  const h = b.gelu(pointwise(y, 'fc1', dim, hidden));
  return b.add2(y, layerScale(ctx, pointwise(h, 'fc2', hidden, dim), `${p}.ls2.gamma`, dim, true));
}

/** MetaBlock1d: pre-norm attention with LeViT-style biases, then a GELU MLP, each with LayerScale. */
function attentionBlock(ctx: BuildContext, x: string, p: string, dim: number, a: EfficientFormerArchitecture): string {
  const { b } = ctx;
  const mixed = attention(ctx, layerNorm(ctx, x, `${p}.norm1`, dim, a.ln_eps), `${p}.token_mixer`, dim, a);
  const y = b.add2(x, layerScale(ctx, mixed, `${p}.ls1.gamma`, dim, false));
  const hidden = dim * a.mlp_ratio;
  const h = b.gelu(linear(ctx, layerNorm(ctx, y, `${p}.norm2`, dim, a.ln_eps), `${p}.mlp.fc1`, dim, hidden, true));
  return b.add2(y, layerScale(ctx, linear(ctx, h, `${p}.mlp.fc2`, hidden, dim, true), `${p}.ls2.gamma`, dim, false));
}

/** qkv laid out per head as [q (key_dim), k (key_dim), v (attn_ratio * key_dim)]; biases over the square token grid. */
function attention(ctx: BuildContext, x: string, p: string, dim: number, a: EfficientFormerArchitecture): string {
  const { b } = ctx;
  const [, tokens] = b.graph.shape(x) as [unknown, number];
  const valDim = a.attn_ratio * a.key_dim;
  const perHead = 2 * a.key_dim + valDim;
  const qkv = linear(ctx, x, `${p}.qkv`, dim, a.num_heads * perHead, true);
  const heads = b.transpose(b.reshape(qkv, ['N', tokens, a.num_heads, perHead]), [0, 2, 1, 3]);
  const [q, k, v] = b.split(heads, 3, [a.key_dim, a.key_dim, valDim]);
  const grid = Math.round(Math.sqrt(tokens));
  const bias = attentionBias(ctx, p, a.num_heads, grid, grid, 1);
  const out = scaledDotAttention(ctx, q, b.transpose(k, [0, 1, 3, 2]), v, `${p}.scale`, a.key_dim ** -0.5, bias);
  return linear(ctx, out, `${p}.proj`, a.num_heads * valDim, dim, true);
}

/** Per stage, for `levit info`: the map resolution, width, pooling and attention blocks. */
export function efficientFormerStages(card: EfficientFormerCard) {
  const a = card.architecture;
  let r = card.preprocessing.resolution / 4;
  return a.depths.map((depth, s) => {
    if (s > 0) r = Math.floor((r - 1) / 2) + 1;
    const kinds = blockLayout(depth, s === a.depths.length - 1 ? a.num_vit : 0);
    const attention = kinds.filter((k) => k === 'attention').length;
    const heads = attention ? a.num_heads : 0;
    return { stage: s + 1, resolution: r, channels: a.widths[s], pool_blocks: depth - attention, attention_blocks: attention, heads };
  });
}
