import { cait } from './cait/index.js';
import { convit } from './convit/index.js';
import { deit } from './deit/index.js';
import { edgeNext } from './edgenext/index.js';
import { efficientFormer } from './efficientformer/index.js';
import { efficientNet } from './efficientnet/index.js';
import type { FamilyDescriptor } from './family.js';
import { levit } from './levit/index.js';
import { vit } from './vit/index.js';

/**
 * Every model family, in the order listings show them (LeViT first, then the baselines).
 * Adding a family: a folder like src/models/deit/ (card type, builder, descriptor), one entry
 * here, its cards in zoo/. See docs/ADDING-A-MODEL.md.
 */
export const FAMILIES = [levit, efficientNet, deit, efficientFormer, edgeNext, vit, cait, convit] as const;

type CardOf<D> = D extends FamilyDescriptor<infer C> ? C : never;
/** A model card of any family, discriminated by `family`. */
export type ModelCard = CardOf<(typeof FAMILIES)[number]>;
export type Family = ModelCard['family'];

/** The descriptor of a family tag, or undefined for a tag no family has. */
export function familyOf(id: string): FamilyDescriptor<ModelCard> | undefined {
  // Each descriptor takes only its own cards; callers pass a card whose `family` is `id`.
  return (FAMILIES as readonly FamilyDescriptor<ModelCard>[]).find((f) => f.id === id);
}
