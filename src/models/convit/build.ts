import { floatTensor } from '../../core/tensor.js';
import { GraphBuilder } from '../../ir/builder.js';
import type { Graph } from '../../ir/graph.js';
import type { ConvitCard } from './card.js';
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
  selfAttention,
} from '../layers.js';
import type { WeightSource } from '../weights.js';

/**
 * ConViT (d'Ascoli et al., ICML 2021), in timm's layout: patch tokens through blocks of gated
 * positional self-attention (GPSA), then the class token joins for plain self-attention blocks.
 */
export function buildConvit(card: ConvitCard, w: WeightSource): Graph {
  const a = card.architecture;
  const res = card.preprocessing.resolution;
  const d = a.embed_dim;
  const b = new GraphBuilder(card.id);
  const ctx: BuildContext = { b, w };
  const grid = res / a.patch_size;

  let x = positionedPatchTokens(ctx, b.input('input', ['N', 3, res, res]), a.patch_size, d);
  const clsToken = param(ctx, 'cls_token', [1, 1, d], 'embedding');

  for (let i = 0; i < a.depth; i++) {
    const p = `blocks.${i}`;
    if (i === a.local_up_to_layer) x = b.prependTokens(clsToken, x);
    x = b.within(p, () => {
      const normed = layerNorm(ctx, x, `${p}.norm1`, d, a.ln_eps);
      const attn =
        i < a.local_up_to_layer
          ? gatedPositionalAttention(ctx, normed, `${p}.attn`, d, a.num_heads, grid)
          : selfAttention(ctx, normed, `${p}.attn`, d, a.num_heads, false);
      const y = b.add2(x, attn);
      return b.add2(y, mlp(ctx, layerNorm(ctx, y, `${p}.norm2`, d, a.ln_eps), `${p}.mlp`, d, d * a.mlp_ratio));
    });
  }
  x = layerNorm(ctx, x, 'norm', d, a.ln_eps);
  b.output(linear(ctx, b.reshape(b.slice(x, 1, 0, 1), ['N', d]), 'head', d, card.num_classes, true));
  w.finish(card.id);
  return b.graph;
}

/**
 * GPSA: a per-head blend, by sigmoid(gating_param), of content attention softmax(q kT / sqrt(D))
 * and positional attention softmax(pos_proj(r)), r the relative offsets (dx, dy, dx² + dy²) of each
 * patch pair. The positional part depends only on the weights and the resolution: conversion
 * folds it, and the gates, into constants. timm then divides by the rows' sums; both blended
 * terms are distributions, so those sums are 1 and the division is left out.
 */
function gatedPositionalAttention(ctx: BuildContext, x: string, prefix: string, dim: number, heads: number, grid: number): string {
  const { b } = ctx;
  const [q, k] = projectHeads(ctx, x, `${prefix}.qk`, dim, heads, 2, false);
  const content = b.softmax(attentionScores(ctx, b.transpose(q, HEADS_FIRST), b.transpose(k, KEYS_TRANSPOSED), `${prefix}.scale`, (dim / heads) ** -0.5), -1);

  const offsets = b.initializer(`${prefix}.rel_indices`, relativeOffsets(grid), 'constant');
  const positional = b.softmax(b.transpose(linear(ctx, offsets, `${prefix}.pos_proj`, 3, heads, true), [0, 3, 1, 2]), -1);

  const gating = b.reshape(param(ctx, `${prefix}.gating_param`, [heads], 'bn_weight'), [heads, 1, 1]);
  const minusOne = b.initializer(`${prefix}.negate`, floatTensor([], Float32Array.of(-1)), 'constant');
  // 1 - sigmoid(g) = sigmoid(-g).
  const blended = b.add2(b.mul(content, b.sigmoid(b.mul(gating, minusOne))), b.mul(positional, b.sigmoid(gating)));

  const [v] = projectHeads(ctx, x, `${prefix}.v`, dim, heads, 1, false);
  return linear(ctx, attend(ctx, blended, b.transpose(v, HEADS_FIRST)), `${prefix}.proj`, dim, dim, true);
}

/** [1, P, P, 3] for P = grid² patches in row-major order: (dx, dy, dx² + dy²) from patch p to patch q. */
export function relativeOffsets(grid: number) {
  const patches = grid * grid;
  const data = new Float32Array(patches * patches * 3);
  for (let p = 0; p < patches; p++) {
    for (let q = 0; q < patches; q++) {
      const dx = (q % grid) - (p % grid);
      const dy = Math.floor(q / grid) - Math.floor(p / grid);
      data.set([dx, dy, dx * dx + dy * dy], (p * patches + q) * 3);
    }
  }
  return floatTensor([1, patches, patches, 3], data);
}
