import type { CardCommon } from '../card.js';

/** ConViT (d'Ascoli et al., 2021): gated positional self-attention (GPSA) in the first blocks. */
export interface ConvitArchitecture {
  readonly patch_size: number;
  readonly embed_dim: number;
  readonly depth: number;
  readonly num_heads: number;
  readonly mlp_ratio: number;
  /** Blocks 0 .. local_up_to_layer-1 use GPSA on the patches; the class token joins after them. */
  readonly local_up_to_layer: number;
  readonly ln_eps: number;
}

export interface ConvitCard extends CardCommon {
  readonly family: 'convit';
  readonly architecture: ConvitArchitecture;
}
