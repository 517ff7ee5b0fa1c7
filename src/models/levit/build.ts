import { type Tensor } from '../../core/tensor.js';
import { GraphBuilder } from '../../ir/builder.js';
import type { Graph } from '../../ir/graph.js';
import type { LevitArchitecture, LevitCard } from './card.js';
import { type BuildContext, attentionBias, batchNorm, conv2d, linear, scaledDotAttention } from '../layers.js';
import type { WeightSource } from '../weights.js';

/**
 * LeViT (Graham et al., 2021) from its card, following the official levit.py module for
 * module, so that checkpoint names map one to one. The graph is the reference form:
 * BatchNorm and the attention-bias gather are left for the passes to fold.
 */
export function buildLevit(card: LevitCard, w: WeightSource): Graph {
  const a = card.architecture;
  const res = card.preprocessing.resolution;
  const b = new GraphBuilder(card.id);
  const ctx: BuildContext = { b, w };
  const input = b.input('input', ['N', 3, res, res]);

  let x = b.within('patch_embed', () => patchEmbed(ctx, input, a.C[0]));
  let resolution = res / a.patch_size;
  const [, c0, h, wd] = b.graph.shape(x);
  x = b.transpose(b.reshape(x, ['N', c0, (h as number) * (wd as number)]), [0, 2, 1]);

  let block = 0;
  for (let stage = 0; stage < a.C.length; stage++) {
    const dim = a.C[stage];
    for (let i = 0; i < a.X[stage]; i++) {
      const attention = { dim, keyDim: a.D, heads: a.N[stage], attnRatio: a.attn_ratio, resolution };
      x = b.within(`blocks.${block}`, () => residual(ctx, x, (y) => attentionBlock(ctx, y, `blocks.${block}.m`, attention)));
      block++;
      x = b.within(`blocks.${block}`, () => residual(ctx, x, (y) => mlp(ctx, y, `blocks.${block}.m`, dim, a.mlp_ratio)));
      block++;
    }
    if (stage + 1 < a.C.length) {
      const outDim = a.C[stage + 1];
      const down = {
        inDim: dim,
        outDim,
        keyDim: a.D,
        heads: Math.floor(dim / a.D),
        attnRatio: a.down_attn_ratio,
        stride: a.down_stride,
        resolution,
      };
      x = b.within(`blocks.${block}`, () => attentionSubsample(ctx, x, `blocks.${block}`, down));
      block++;
      resolution = Math.floor((resolution - 1) / a.down_stride) + 1;
      x = b.within(`blocks.${block}`, () => residual(ctx, x, (y) => mlp(ctx, y, `blocks.${block}.m`, outDim, a.down_mlp_ratio)));
      block++;
    }
  }

  x = b.mean(x, [1]);
  const classes = card.num_classes;
  const last = a.C[a.C.length - 1];
  let logits = b.within('head', () => bnLinear(ctx, x, 'head', last, classes));
  if (a.distillation) {
    const dist = b.within('head_dist', () => bnLinear(ctx, x, 'head_dist', last, classes));
    logits = b.mul(b.add2(logits, dist), scalar(b, 'head_average', 0.5));
  }
  b.output(logits);
  w.finish(card.id);
  return b.graph;
}

function scalar(b: GraphBuilder, name: string, value: number): string {
  const t: Tensor = { dtype: 'float32', shape: [], data: new Float32Array([value]) };
  return b.initializer(name, t, 'constant');
}

/** b16: four stride-2 3x3 convolutions, 3 -> C/8 -> C/4 -> C/2 -> C channels. */
function patchEmbed(ctx: BuildContext, x: string, c: number): string {
  const widths = [3, c / 8, c / 4, c / 2, c];
  for (let i = 0; i < 4; i++) {
    const prefix = `patch_embed.${2 * i}`;
    x = conv2d(ctx, x, `${prefix}.c`, { cin: widths[i], cout: widths[i + 1], kernel: 3, stride: 2, pad: 1 });
    x = batchNorm(ctx, x, `${prefix}.bn`, widths[i + 1], 1);
    if (i < 3) x = ctx.b.hardswish(x);
  }
  return x;
}

/** Linear_BN: linear without bias, BatchNorm1d over the features of every token. */
function linearBn(ctx: BuildContext, x: string, prefix: string, inF: number, outF: number): string {
  return batchNorm(ctx, linear(ctx, x, `${prefix}.c`, inF, outF, false), `${prefix}.bn`, outF, -1);
}

/** BN_Linear: the classifier heads. */
function bnLinear(ctx: BuildContext, x: string, prefix: string, inF: number, outF: number): string {
  return linear(ctx, batchNorm(ctx, x, `${prefix}.bn`, inF, -1), `${prefix}.l`, inF, outF, true);
}

function residual(ctx: BuildContext, x: string, branch: (x: string) => string): string {
  return ctx.b.add2(x, branch(x));
}

function mlp(ctx: BuildContext, x: string, prefix: string, dim: number, ratio: number): string {
  const hidden = dim * ratio;
  const h = ctx.b.hardswish(linearBn(ctx, x, `${prefix}.0`, dim, hidden));
  return linearBn(ctx, h, `${prefix}.2`, hidden, dim);
}

/** LeViT's attention: biased scores, and the Hardswish that opens its projection. */
function attend(ctx: BuildContext, q: string, kT: string, v: string, bias: string, keyDim: number, prefix: string): string {
  return ctx.b.hardswish(scaledDotAttention(ctx, q, kT, v, `${prefix}.scale`, keyDim ** -0.5, bias));
}

interface AttentionSpec {
  dim: number;
  keyDim: number;
  heads: number;
  attnRatio: number;
  resolution: number;
}

function attentionBlock(ctx: BuildContext, x: string, prefix: string, s: AttentionSpec): string {
  const { b } = ctx;
  const d = s.attnRatio * s.keyDim;
  const tokens = s.resolution ** 2;
  const perHead = 2 * s.keyDim + d;
  const qkv = linearBn(ctx, x, `${prefix}.qkv`, s.dim, s.heads * perHead);
  // The official layout interleaves q, k and v per head: [h0: q k v | h1: q k v | ...].
  const [q, k, v] = b.split(b.reshape(qkv, ['N', tokens, s.heads, perHead]), 3, [s.keyDim, s.keyDim, d]);
  const bias = attentionBias(ctx, prefix, s.heads, s.resolution, s.resolution, 1);
  const out = attend(ctx, b.transpose(q, [0, 2, 1, 3]), b.transpose(k, [0, 2, 3, 1]), b.transpose(v, [0, 2, 1, 3]), bias, s.keyDim, prefix);
  return linearBn(ctx, out, `${prefix}.proj.1`, s.heads * d, s.dim);
}

interface SubsampleSpec {
  inDim: number;
  outDim: number;
  keyDim: number;
  heads: number;
  attnRatio: number;
  stride: number;
  resolution: number;
}

/** AttentionSubsample: queries from a strided grid shrink the resolution between stages. */
function attentionSubsample(ctx: BuildContext, x: string, prefix: string, s: SubsampleSpec): string {
  const { b } = ctx;
  const d = s.attnRatio * s.keyDim;
  const r = s.resolution;
  const rq = Math.floor((r - 1) / s.stride) + 1;
  const kv = linearBn(ctx, x, `${prefix}.kv`, s.inDim, s.heads * (s.keyDim + d));
  const [k, v] = b.split(b.reshape(kv, ['N', r * r, s.heads, s.keyDim + d]), 3, [s.keyDim, d]);

  const grid = b.reshape(x, ['N', r, r, s.inDim]);
  const sub = b.reshape(b.slice(b.slice(grid, 1, 0, r, s.stride), 2, 0, r, s.stride), ['N', rq * rq, s.inDim]);
  const q = b.reshape(linearBn(ctx, sub, `${prefix}.q.1`, s.inDim, s.heads * s.keyDim), ['N', rq * rq, s.heads, s.keyDim]);

  const bias = attentionBias(ctx, prefix, s.heads, r, rq, s.stride);
  const out = attend(ctx, b.transpose(q, [0, 2, 1, 3]), b.transpose(k, [0, 2, 3, 1]), b.transpose(v, [0, 2, 1, 3]), bias, s.keyDim, prefix);
  return linearBn(ctx, out, `${prefix}.proj.1`, s.heads * d, s.outDim);
}

export function levitStages(a: LevitArchitecture, resolution: number) {
  let r = resolution / a.patch_size;
  return a.C.map((channels, i) => {
    const stage = { stage: i + 1, resolution: r, tokens: r * r, channels, heads: a.N[i], blocks: a.X[i] };
    r = Math.floor((r - 1) / a.down_stride) + 1;
    return stage;
  });
}
