import type { Tensor } from '../core/tensor.js';
import type { GraphBuilder } from '../ir/builder.js';
import type { WeightSource } from './weights.js';

/**
 * The building blocks shared by model builders. Each declares its tensors under the
 * checkpoint's names (prefix + PyTorch's own sub-names) and adds its nodes to the graph.
 */
export interface BuildContext {
  readonly b: GraphBuilder;
  readonly w: WeightSource;
}

export function param(ctx: BuildContext, name: string, shape: readonly number[], kind: Parameters<WeightSource['tensor']>[2]): string {
  return ctx.b.initializer(name, ctx.w.tensor(name, shape, kind), 'param');
}

function buffer(ctx: BuildContext, name: string, shape: readonly number[], kind: 'bn_mean' | 'bn_var'): string {
  return ctx.b.initializer(name, ctx.w.tensor(name, shape, kind), 'buffer');
}

/** BatchNorm with PyTorch's four tensors; num_batches_tracked is training state and ignored. */
export function batchNorm(ctx: BuildContext, x: string, prefix: string, channels: number, axis: number, eps = 1e-5): string {
  ctx.w.ignore(`${prefix}.num_batches_tracked`);
  return ctx.b.batchNorm(
    x,
    [
      param(ctx, `${prefix}.weight`, [channels], 'bn_weight'),
      param(ctx, `${prefix}.bias`, [channels], 'bn_bias'),
      buffer(ctx, `${prefix}.running_mean`, [channels], 'bn_mean'),
      buffer(ctx, `${prefix}.running_var`, [channels], 'bn_var'),
    ],
    axis,
    eps,
  );
}

export function conv2d(
  ctx: BuildContext,
  x: string,
  prefix: string,
  o: { cin: number; cout: number; kernel: number; stride: number; pad: number; groups?: number; bias?: boolean },
): string {
  const groups = o.groups ?? 1;
  const weight = param(ctx, `${prefix}.weight`, [o.cout, o.cin / groups, o.kernel, o.kernel], 'conv_weight');
  const bias = o.bias ? param(ctx, `${prefix}.bias`, [o.cout], 'bias') : undefined;
  return ctx.b.conv2d(x, weight, bias, { stride: o.stride, pad: o.pad, groups });
}

/** LayerNorm over the last axis with PyTorch's weight and bias. */
export function layerNorm(ctx: BuildContext, x: string, prefix: string, dim: number, eps: number): string {
  return ctx.b.layerNorm(x, param(ctx, `${prefix}.weight`, [dim], 'bn_weight'), param(ctx, `${prefix}.bias`, [dim], 'bn_bias'), eps);
}

export function linear(ctx: BuildContext, x: string, prefix: string, inF: number, outF: number, bias: boolean): string {
  const weight = param(ctx, `${prefix}.weight`, [outF, inF], 'linear_weight');
  return ctx.b.linear(x, weight, bias ? param(ctx, `${prefix}.bias`, [outF], 'bias') : undefined);
}

/** timm's PatchEmbed: a patch-sized, patch-strided convolution, flattened to [N, patches, dim] tokens in row-major order. */
export function patchTokens(ctx: BuildContext, image: string, prefix: string, patch: number, dim: number): string {
  const { b } = ctx;
  const [, , res] = b.graph.shape(image);
  const grid = (res as number) / patch;
  const x = conv2d(ctx, image, prefix, { cin: 3, cout: dim, kernel: patch, stride: patch, pad: 0, bias: true });
  return b.transpose(b.reshape(x, ['N', dim, grid * grid]), [0, 2, 1]);
}

/** Patch tokens plus timm's learned `pos_embed` over the patches alone (CaiT, ConViT: no class token yet). */
export function positionedPatchTokens(ctx: BuildContext, image: string, patch: number, dim: number): string {
  const x = patchTokens(ctx, image, 'patch_embed.proj', patch, dim);
  const [, tokens] = ctx.b.graph.shape(x);
  return ctx.b.add2(x, param(ctx, 'pos_embed', [1, tokens as number, dim], 'embedding'));
}

/** timm's Mlp: fc1, exact GELU, fc2. */
export function mlp(ctx: BuildContext, x: string, prefix: string, dim: number, hidden: number): string {
  return linear(ctx, ctx.b.gelu(linear(ctx, x, `${prefix}.fc1`, dim, hidden, true)), `${prefix}.fc2`, hidden, dim, true);
}

/**
 * A projection of [N, L, dim] tokens split into `parts` head-major groups, as timm lays out qkv:
 * all queries, then keys, then values, each [heads, head_dim]. Returns each part as [N, L, H, D].
 */
export function projectHeads(ctx: BuildContext, x: string, prefix: string, dim: number, heads: number, parts: number, bias: boolean): string[] {
  const { b } = ctx;
  const [, tokens] = b.graph.shape(x);
  const projected = b.reshape(linear(ctx, x, prefix, dim, parts * dim, bias), ['N', tokens, parts * heads, dim / heads]);
  return b.split(projected, 2, new Array<number>(parts).fill(heads));
}

/** [N, L, H, D] -> [N, H, L, D] and, for keys, [N, H, D, L]. */
export const HEADS_FIRST = [0, 2, 1, 3] as const;
export const KEYS_TRANSPOSED = [0, 2, 3, 1] as const;

/** q kT * scale [+ bias], heads first: q [N,H,Lq,D], kT [N,H,D,Lk] -> [N,H,Lq,Lk]. */
export function attentionScores(ctx: BuildContext, q: string, kT: string, scaleName: string, scale: number, bias?: string): string {
  const { b } = ctx;
  const s = b.initializer(scaleName, { dtype: 'float32', shape: [], data: new Float32Array([scale]) }, 'constant');
  const scores = b.mul(b.matmul(q, kT), s);
  return bias ? b.add2(scores, bias) : scores;
}

/** weights [N,H,Lq,Lk] applied to v [N,H,Lk,Dv], heads concatenated as PyTorch's transpose(1, 2).reshape: [N, Lq, H*Dv]. */
export function attend(ctx: BuildContext, weights: string, v: string): string {
  const { b } = ctx;
  const out = b.transpose(b.matmul(weights, v), [0, 2, 1, 3]);
  const [, tokens, heads, dv] = b.graph.shape(out);
  return b.reshape(out, ['N', tokens, (heads as number) * (dv as number)]);
}

/**
 * softmax(q kT * scale [+ bias]) v with heads first: q [N,H,Lq,D], kT [N,H,D,Lk], v [N,H,Lk,Dv].
 * Returns [N, Lq, H*Dv], heads concatenated as PyTorch's transpose(1, 2).reshape does.
 */
export function scaledDotAttention(ctx: BuildContext, q: string, kT: string, v: string, scaleName: string, scale: number, bias?: string): string {
  return attend(ctx, ctx.b.softmax(attentionScores(ctx, q, kT, scaleName, scale, bias), -1), v);
}

/**
 * timm's Attention (ViT, DeiT, ConViT's later blocks): fused qkv projection, softmax attention, proj.
 * `bias` is added to the scores before the softmax (token fusion's log-size per key); `keys` are the
 * projected keys, [N, L, H, D].
 */
export function selfAttentionWithKeys(
  ctx: BuildContext,
  x: string,
  prefix: string,
  dim: number,
  heads: number,
  qkvBias: boolean,
  bias?: string,
): { out: string; keys: string } {
  const { b } = ctx;
  const [q, k, v] = projectHeads(ctx, x, `${prefix}.qkv`, dim, heads, 3, qkvBias);
  const [qh, kT, vh] = [b.transpose(q, HEADS_FIRST), b.transpose(k, KEYS_TRANSPOSED), b.transpose(v, HEADS_FIRST)];
  const out = scaledDotAttention(ctx, qh, kT, vh, `${prefix}.scale`, (dim / heads) ** -0.5, bias);
  return { out: linear(ctx, out, `${prefix}.proj`, dim, dim, true), keys: k };
}

export function selfAttention(ctx: BuildContext, x: string, prefix: string, dim: number, heads: number, qkvBias: boolean, bias?: string): string {
  return selfAttentionWithKeys(ctx, x, prefix, dim, heads, qkvBias, bias).out;
}

/**
 * The official attention_bias_idxs: for each (query, key) pair of grid points, the index of
 * their absolute offset (|dy|, |dx|) in order of first appearance. Queries may sit on a
 * subsampled grid (stride > 1), keys on the full one. On a full grid (stride 1) this is
 * |dy| * resolution + |dx|, the layout of EfficientFormer's attention_bias_idxs too.
 */
export function attentionBiasIndices(resolution: number, queryResolution: number, stride: number) {
  const offsets = new Map<string, number>();
  const idxs: number[] = [];
  for (let qy = 0; qy < queryResolution; qy++) {
    for (let qx = 0; qx < queryResolution; qx++) {
      for (let ky = 0; ky < resolution; ky++) {
        for (let kx = 0; kx < resolution; kx++) {
          const key = `${Math.abs(qy * stride - ky)},${Math.abs(qx * stride - kx)}`;
          if (!offsets.has(key)) offsets.set(key, offsets.size);
          idxs.push(offsets.get(key)!);
        }
      }
    }
  }
  return { idxs, offsets: offsets.size };
}

/** The attention biases as a [heads, queries, keys] table: attention_biases[:, attention_bias_idxs]. */
export function attentionBias(ctx: BuildContext, prefix: string, heads: number, resolution: number, queryResolution: number, stride: number): string {
  const { idxs, offsets } = attentionBiasIndices(resolution, queryResolution, stride);
  const shape = [queryResolution ** 2, resolution ** 2];
  ctx.w.verifyIndexBuffer(`${prefix}.attention_bias_idxs`, idxs, shape);
  const table = param(ctx, `${prefix}.attention_biases`, [heads, offsets], 'attention_biases');
  const index: Tensor = { dtype: 'int64', shape, data: BigInt64Array.from(idxs, (v) => BigInt(v)) };
  return ctx.b.gatherBias(table, ctx.b.initializer(`${prefix}.attention_bias_idxs`, index, 'buffer'));
}
