import type { Graph } from '../ir/graph.js';
import type { CardCommon } from './card.js';
import type { WeightSource } from './weights.js';

/** One stage of a model, as `levit info` lists it: where the resolution and width change. */
export interface StageInfo {
  stage: number;
  resolution: number;
  channels: number;
  [detail: string]: number;
}

/**
 * Everything the project knows about a model family, in one place: a new family is a folder
 * in src/models/ exporting one of these, listed once in families.ts, plus its cards in zoo/.
 */
export interface FamilyDescriptor<C extends CardCommon & { family: string }> {
  /** The `family` tag of its cards in zoo/. */
  readonly id: C['family'];
  /** How tables, plots and speed-up headers name it. */
  readonly label: string;
  /** Its line colour in the SVG plot. */
  readonly color: string;
  /** The reference graph (before inference passes), with its weights bound. */
  build(card: C, weights: WeightSource): Graph;
  /** Whether its builder merges tokens as the card's token_fusion says (ViT-style models: DeiT, ViT). */
  readonly tokenFusion?: boolean;
  stages(card: C): StageInfo[];
}
