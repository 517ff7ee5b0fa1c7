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
  /** The licence of the released weights (SPDX id), e.g. CC-BY-NC-4.0 forbids commercial use. */
  readonly license: string;
  readonly num_classes: number;
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

/** ViT (AugReg weights): DeiT's architecture without distillation token, trained by Google. */
export interface VitCard extends CardCommon {
  readonly family: 'vit';
  readonly architecture: DeitArchitecture & { readonly distilled: false };
}

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

export type ModelCard = LevitCard | EfficientNetCard | DeitCard | VitCard | CaitCard | ConvitCard;
export type Family = ModelCard['family'];
