import type { CardCommon } from '../card.js';

/**
 * EfficientFormer (Li et al., 2022) in timm's layout: four stages of pooling blocks (MetaBlock2d),
 * the last `num_vit` blocks of the last stage attention blocks (MetaBlock1d) on flattened tokens.
 */
export interface EfficientFormerArchitecture {
  readonly widths: readonly number[];
  readonly depths: readonly number[];
  readonly num_vit: number;
  readonly mlp_ratio: number;
  readonly pool_size: number;
  /** Attention of the MetaBlock1d: key dimension per head, heads, value/key ratio. */
  readonly key_dim: number;
  readonly num_heads: number;
  readonly attn_ratio: number;
  readonly bn_eps: number;
  readonly ln_eps: number;
  /** A distillation head averaged with the class head at inference (every released checkpoint). */
  readonly distilled: boolean;
}

export interface EfficientFormerCard extends CardCommon {
  readonly family: 'efficientformer';
  readonly architecture: EfficientFormerArchitecture;
}
