import { type FloatTensor, floatTensor } from '../../core/tensor.js';
import { GraphBuilder } from '../../ir/builder.js';
import type { Graph } from '../../ir/graph.js';
import type { EdgeNextArchitecture, EdgeNextCard } from './card.js';
import { type BuildContext, conv2d, layerNorm, linear, param } from '../layers.js';
import type { WeightSource } from '../weights.js';

/**
 * EdgeNeXt (Maaz et al., 2022) as timm's edgenext.py lays it out: a 4x4 patch stem, four
 * stages of ConvNeXt-style conv encoders closed by split depth-wise transpose attention
 * (SDTA) blocks, whose cross-covariance attention mixes channels, not positions. The Fourier
 * positional encoding depends on the resolution only: it is a constant input here, and its
 * 1x1 projection is folded by the constant-folding pass.
 */
export function buildEdgeNext(card: EdgeNextCard, w: WeightSource): Graph {
  const a = card.architecture;
  const res = card.preprocessing.resolution;
  const b = new GraphBuilder(card.id);
  const ctx: BuildContext = { b, w };

  let x = conv2d(ctx, b.input('input', ['N', 3, res, res]), 'stem.0', { cin: 3, cout: a.dims[0], kernel: 4, stride: 4, pad: 0, bias: true });
  x = layerNorm2d(ctx, x, 'stem.1', a.dims[0], a.ln_eps);
  let dim = a.dims[0];
  a.depths.forEach((depth, s) => {
    const p = `stages.${s}`;
    if (s > 0) {
      x = b.within(`${p}.downsample`, () => {
        const normed = layerNorm2d(ctx, x, `${p}.downsample.0`, dim, a.ln_eps);
        return conv2d(ctx, normed, `${p}.downsample.1`, { cin: dim, cout: a.dims[s], kernel: 2, stride: 2, pad: 0, bias: true });
      });
      dim = a.dims[s];
    }
    for (let i = 0; i < depth; i++) {
      const q = `${p}.blocks.${i}`;
      const sdta = i >= depth - a.global_blocks[s];
      x = b.within(q, () => (sdta ? sdtaBlock(ctx, x, q, dim, s, a) : convBlock(ctx, x, q, dim, a.kernel_sizes[s], a)));
    }
  });
  // NormMlpClassifierHead: average pool, LayerNorm over channels, then the classifier.
  const pooled = layerNorm(ctx, b.mean(x, [2, 3]), 'head.norm', dim, a.ln_eps);
  b.output(linear(ctx, pooled, 'head.fc', dim, card.num_classes, true));
  w.finish(card.id);
  return b.graph;
}

/** timm's LayerNorm2d: a LayerNorm over the channels of each position of an NCHW map. */
function layerNorm2d(ctx: BuildContext, x: string, prefix: string, dim: number, eps: number): string {
  const { b } = ctx;
  return b.transpose(layerNorm(ctx, b.transpose(x, [0, 2, 3, 1]), prefix, dim, eps), [0, 3, 1, 2]);
}

/** NCHW -> [N, H*W, C], and back. */
function toTokens(ctx: BuildContext, x: string): string {
  const [, c, h, w] = ctx.b.graph.shape(x) as number[];
  return ctx.b.transpose(ctx.b.reshape(x, ['N', c, h * w]), [0, 2, 1]);
}

function toMap(ctx: BuildContext, x: string, h: number, w: number): string {
  const [, , c] = ctx.b.graph.shape(x) as number[];
  return ctx.b.reshape(ctx.b.transpose(x, [0, 2, 1]), ['N', c, h, w]);
}

/** Inverted bottleneck on channels-last tokens: LayerNorm, fc1, GELU, fc2, scaled by gamma. */
function invertedBottleneck(ctx: BuildContext, x: string, p: string, dim: number, a: EdgeNextArchitecture, gamma: string): string {
  const { b } = ctx;
  const hidden = dim * a.expand_ratio;
  const h = b.gelu(linear(ctx, layerNorm(ctx, x, `${p}.norm`, dim, a.ln_eps), `${p}.mlp.fc1`, dim, hidden, true));
  return b.mul(linear(ctx, h, `${p}.mlp.fc2`, hidden, dim, true), param(ctx, `${p}.${gamma}`, [dim], 'bn_weight'));
}

/** ConvBlock (the conv encoder): depth-wise k x k convolution, then the inverted bottleneck, residual. */
function convBlock(ctx: BuildContext, x: string, p: string, dim: number, kernel: number, a: EdgeNextArchitecture): string {
  const [, , h, w] = ctx.b.graph.shape(x) as number[];
  const dw = conv2d(ctx, x, `${p}.conv_dw`, { cin: dim, cout: dim, kernel, stride: 1, pad: Math.floor((kernel - 1) / 2), groups: dim, bias: true });
  return ctx.b.add2(x, toMap(ctx, invertedBottleneck(ctx, toTokens(ctx, dw), p, dim, a, 'gamma'), h, w));
}

/** The sizes torch.chunk(x, n) gives a dimension of `size`: ceil(size / n) each, the last one smaller. */
export function chunkSizes(size: number, n: number): number[] {
  const each = Math.ceil(size / n);
  const count = Math.ceil(size / each);
  return Array.from({ length: count }, (_, i) => Math.min(each, size - i * each));
}

/**
 * SDTA block: channel groups through chained depth-wise 3x3 convolutions (Res2Net style), the
 * positional encoding where the stage has one, cross-covariance attention, the inverted bottleneck.
 */
function sdtaBlock(ctx: BuildContext, x: string, p: string, dim: number, stage: number, a: EdgeNextArchitecture): string {
  const { b } = ctx;
  const [, , h, w] = b.graph.shape(x) as number[];
  const groups = Math.max(1, a.d2_scales[stage] - 1) + 1;
  const sizes = chunkSizes(dim, groups);
  if (sizes.length !== groups) throw new Error(`EdgeNeXt ${p}: ${dim} channels do not split into ${groups} groups`);
  const parts = b.split(x, 1, sizes);
  const outs: string[] = [];
  let sp = parts[0];
  for (let i = 0; i < groups - 1; i++) {
    if (i > 0) sp = b.add2(sp, parts[i]);
    sp = conv2d(ctx, sp, `${p}.convs.${i}`, { cin: sizes[i], cout: sizes[i], kernel: 3, stride: 1, pad: 1, groups: sizes[i], bias: true });
    outs.push(sp);
  }
  let t = toTokens(ctx, b.concat([...outs, parts[groups - 1]], 1));
  if (a.use_pos_emb[stage]) t = b.add2(t, positionalEncoding(ctx, `${p}.pos_embd`, dim, h, w, a));
  const xca = crossCovarianceAttention(ctx, layerNorm(ctx, t, `${p}.norm_xca`, dim, a.ln_eps), `${p}.xca`, dim, a.heads[stage]);
  t = b.add2(t, b.mul(xca, param(ctx, `${p}.gamma_xca`, [dim], 'bn_weight')));
  return b.add2(x, toMap(ctx, invertedBottleneck(ctx, t, p, dim, a, 'gamma'), h, w));
}

/**
 * XCA: per head, the [head_dim, head_dim] attention of L2-normalised queries and keys (each
 * channel normalised over the positions), scaled by a learnt per-head temperature.
 */
function crossCovarianceAttention(ctx: BuildContext, x: string, p: string, dim: number, heads: number): string {
  const { b } = ctx;
  const [, tokens] = b.graph.shape(x) as number[];
  const headDim = dim / heads;
  const qkv = b.reshape(linear(ctx, x, `${p}.qkv`, dim, 3 * dim, true), ['N', tokens, 3 * heads, headDim]);
  // [N, L, 3H, D] -> [N, 3H, D, L]: q, k, v are channels x positions.
  const [q, k, v] = b.split(b.transpose(qkv, [0, 2, 3, 1]), 1, [heads, heads, heads]);
  const scores = b.matmul(b.l2Normalize(q, -1), b.transpose(b.l2Normalize(k, -1), [0, 1, 3, 2]));
  const attn = b.softmax(b.mul(scores, param(ctx, `${p}.temperature`, [heads, 1, 1], 'bn_weight')), -1);
  const out = b.reshape(b.transpose(b.matmul(attn, v), [0, 3, 1, 2]), ['N', tokens, dim]);
  return linear(ctx, out, `${p}.proj`, dim, dim, true);
}

/** The encoding projected to the block's width, as [1, H*W, dim] tokens: constant once folded. */
function positionalEncoding(ctx: BuildContext, p: string, dim: number, h: number, w: number, a: EdgeNextArchitecture): string {
  const features = ctx.b.initializer(`${p}.fourier_features`, fourierFeatures(h, w, a.pos_hidden_dim, a.pos_temperature), 'constant');
  const projected = conv2d(ctx, features, `${p}.token_projection`, { cin: 2 * a.pos_hidden_dim, cout: dim, kernel: 1, stride: 1, pad: 0, bias: true });
  return ctx.b.transpose(ctx.b.reshape(projected, [1, dim, h * w]), [0, 2, 1]);
}

/**
 * PositionalEncodingFourier's features before the projection, [1, 2 * hidden, H, W]: for the
 * normalised row (first `hidden` channels) and column coordinates in (0, 2 pi], sine and cosine
 * pairs at frequencies temperature^(-2i / hidden). Computed step by step in float32, as PyTorch does.
 */
export function fourierFeatures(h: number, w: number, hidden: number, temperature: number): FloatTensor {
  const f = Math.fround;
  const eps = 1e-6;
  const scale = f(2 * Math.PI);
  const data = new Float32Array(2 * hidden * h * w);
  const dimT = Array.from({ length: hidden }, (_, i) => f(temperature ** f((2 * Math.floor(i / 2)) / hidden)));
  const embed = (i: number, n: number) => f(f((i + 1) / f(n + eps)) * scale);
  for (let y = 0; y < h; y++) {
    for (let x = 0; x < w; x++) {
      const coords = [embed(y, h), embed(x, w)];
      coords.forEach((e, axis) => {
        for (let i = 0; i < hidden; i++) {
          const arg = f(e / dimT[i]);
          const c = axis * hidden + i;
          data[(c * h + y) * w + x] = i % 2 === 0 ? Math.sin(arg) : Math.cos(arg);
        }
      });
    }
  }
  return floatTensor([1, 2 * hidden, h, w], data);
}

/** Per stage, for `levit info`: the map resolution, width, conv encoders and SDTA blocks. */
export function edgeNextStages(card: EdgeNextCard) {
  const a = card.architecture;
  let r = card.preprocessing.resolution / 4;
  return a.depths.map((depth, s) => {
    if (s > 0) r = Math.floor(r / 2);
    const sdta = a.global_blocks[s];
    const heads = sdta ? a.heads[s] : 0;
    return { stage: s + 1, resolution: r, channels: a.dims[s], conv_blocks: depth - sdta, kernel: a.kernel_sizes[s], sdta_blocks: sdta, heads };
  });
}
