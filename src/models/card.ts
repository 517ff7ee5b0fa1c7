/** Model cards: what is data about a model (zoo/*.json), typed. */
import type { TokenFusion } from './fusion/spec.js';

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
}

export interface Preprocessing {
  readonly resolution: number;
  readonly crop_pct: number;
  readonly interpolation: 'bicubic' | 'bilinear';
  readonly mean: readonly [number, number, number];
  readonly std: readonly [number, number, number];
}

/** Whether a licence (SPDX id) forbids commercial use, as the Creative Commons NC licences do. */
export const nonCommercial = (license: string): boolean => /-NC\b/i.test(license);

/** What every card holds; a family's card adds its `family` tag and `architecture`. */
export interface CardCommon {
  readonly id: string;
  readonly name: string;
  readonly num_classes: number;
  /** SPDX identifier of the weights' licence, e.g. 'Apache-2.0'; a non-commercial one restricts what users may do. */
  readonly license: string;
  readonly preprocessing: Preprocessing;
  readonly published: readonly PublishedAccuracy[];
  readonly checkpoint?: CheckpointRef;
  /** Token fusion the model is built with: set on a derived card by withTokenFusion (models/registry.ts), never in zoo/. */
  readonly token_fusion?: TokenFusion;
}
