import { deit } from '../deit/index.js';
import { buildDeit } from '../deit/build.js';
import type { FamilyDescriptor } from '../family.js';
import type { VitCard } from './card.js';

/** ViT-Tiny's weights (AugReg) on DeiT's graph: a family of its own in tables and plots. */
export const vit: FamilyDescriptor<VitCard> = {
  id: 'vit',
  label: 'ViT',
  color: '#8c564b',
  build: buildDeit,
  tokenFusion: true,
  stages: (card) => deit.stages({ ...card, family: 'deit' }),
};
