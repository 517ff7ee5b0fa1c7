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
  /** Full sha256, or the prefix that the official file name pins (at least 8 hex digits). */
  readonly sha256: string;
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
  readonly preprocessing: Preprocessing;
  readonly published: readonly PublishedAccuracy[];
  readonly checkpoint?: CheckpointRef;
}

export interface LevitCard extends CardCommon {
  readonly family: 'levit';
  readonly architecture: LevitArchitecture;
}

export type ModelCard = LevitCard;
export type Family = ModelCard['family'];
