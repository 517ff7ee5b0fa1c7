import type { CardCommon } from '../card.js';

/** DeiT (a ViT with an optional distillation token), in the official and timm layout. */
export interface DeitArchitecture {
  readonly patch_size: number;
  readonly embed_dim: number;
  readonly depth: number;
  readonly num_heads: number;
  readonly mlp_ratio: number;
  readonly distilled: boolean;
  readonly ln_eps: number;
}

export interface DeitCard extends CardCommon {
  readonly family: 'deit';
  readonly architecture: DeitArchitecture;
}
