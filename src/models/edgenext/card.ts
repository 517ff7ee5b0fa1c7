import type { CardCommon } from '../card.js';

/**
 * EdgeNeXt (Maaz et al., 2022) in timm's layout, per stage: width, blocks, how many of the last
 * blocks are split depth-wise transpose attention (SDTA) blocks, kernel of the conv encoders,
 * heads and channel groups (d2_scales) of the SDTA blocks, and whether they add the Fourier
 * positional encoding.
 */
export interface EdgeNextArchitecture {
  readonly dims: readonly number[];
  readonly depths: readonly number[];
  readonly global_blocks: readonly number[];
  readonly kernel_sizes: readonly number[];
  readonly heads: readonly number[];
  readonly d2_scales: readonly number[];
  readonly use_pos_emb: readonly boolean[];
  readonly expand_ratio: number;
  readonly ln_eps: number;
  /** PositionalEncodingFourier: features per axis and the frequency base. */
  readonly pos_hidden_dim: number;
  readonly pos_temperature: number;
}

export interface EdgeNextCard extends CardCommon {
  readonly family: 'edgenext';
  readonly architecture: EdgeNextArchitecture;
}
