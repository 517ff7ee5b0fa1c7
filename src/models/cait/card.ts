import type { CardCommon } from '../card.js';

/** CaiT (Touvron et al., 2021): LayerScale, talking-heads self-attention, then class-attention blocks. */
export interface CaitArchitecture {
  readonly patch_size: number;
  readonly embed_dim: number;
  readonly depth: number;
  readonly num_heads: number;
  readonly mlp_ratio: number;
  /** Class-attention blocks, where only the class token is updated. */
  readonly depth_token_only: number;
  readonly mlp_ratio_token_only: number;
  readonly ln_eps: number;
}

export interface CaitCard extends CardCommon {
  readonly family: 'cait';
  readonly architecture: CaitArchitecture;
}
