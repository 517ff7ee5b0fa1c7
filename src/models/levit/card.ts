import type { CardCommon } from '../card.js';

/** LeViT's hyper-parameters, named as in the paper's Table 2 and the official specification. */
export interface LevitArchitecture {
  /** Embedding width per stage. */
  readonly C: readonly number[];
  /** Key dimension per head. */
  readonly D: number;
  /** Heads per stage. */
  readonly N: readonly number[];
  /** Blocks (attention + MLP) per stage. */
  readonly X: readonly number[];
  readonly attn_ratio: number;
  readonly mlp_ratio: number;
  readonly down_attn_ratio: number;
  readonly down_mlp_ratio: number;
  readonly down_stride: number;
  readonly patch_size: number;
  readonly distillation: boolean;
}

export interface LevitCard extends CardCommon {
  readonly family: 'levit';
  readonly architecture: LevitArchitecture;
}
