import type { CardCommon } from '../card.js';
import type { DeitArchitecture } from '../deit/card.js';

/** ViT (AugReg weights): DeiT's architecture without distillation token, trained by Google. */
export interface VitCard extends CardCommon {
  readonly family: 'vit';
  readonly architecture: DeitArchitecture & { readonly distilled: false };
}
