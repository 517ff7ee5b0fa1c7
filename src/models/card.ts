/** Model cards: what is data about a model (zoo/*.json), typed. */

export interface PublishedAccuracy {
  readonly top1: number;
  readonly top5?: number;
  /** The crop the figure was measured with, when it differs from the card's preprocessing. */
  readonly crop_pct?: number;
  readonly source: string;
}

export interface CheckpointRef {
  readonly url: string;
  /** Full sha256, or the prefix the official file name pins (8+ hex digits); null: the server states it. */
  readonly sha256: string | null;
  /** File name in the cache and on a mirror (default: the last part of the URL). */
  readonly file?: string;
  readonly format: 'torch-zip' | 'torch-legacy' | 'safetensors';
  readonly state_dict_key?: string;
}

export interface Preprocessing {
  readonly resolution: number;
  readonly crop_pct: number;
  readonly interpolation: 'bicubic' | 'bilinear';
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

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

interface CardCommon {
  readonly id: string;
  readonly name: string;
  readonly num_classes: number;
  /** SPDX identifier of the weights' licence, e.g. 'Apache-2.0'; a non-commercial one restricts what users may do. */
  readonly license: string;
  readonly preprocessing: Preprocessing;
  readonly published: readonly PublishedAccuracy[];
  readonly checkpoint?: CheckpointRef;
}

export interface LevitCard extends CardCommon {
  readonly family: 'levit';
  readonly architecture: LevitArchitecture;
}

/**
 * EfficientNet in timm's layout. Stages use timm's block strings, e.g. 'ir_r2_k3_s2_e6_c24_se0.25':
 * block type (ds = depthwise separable, ir = inverted residual), repeats, kernel, stride,
 * expansion, output channels, squeeze-excite ratio; scaled by the width and depth multipliers.
 */
export interface EfficientNetArchitecture {
  readonly width_multiplier: number;
  readonly depth_multiplier: number;
  readonly stem_channels: number;
  readonly head_channels: number;
  readonly stages: readonly string[];
  readonly bn_eps: number;
}

export interface EfficientNetCard extends CardCommon {
  readonly family: 'efficientnet';
  readonly architecture: EfficientNetArchitecture;
}

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

export type ModelCard = LevitCard | EfficientNetCard | DeitCard | EfficientFormerCard | EdgeNextCard;
export type Family = ModelCard['family'];
