import type { FamilyDescriptor } from '../family.js';
import { buildLevit, levitStages } from './build.js';
import type { LevitCard } from './card.js';

export const levit: FamilyDescriptor<LevitCard> = {
  id: 'levit',
  label: 'LeViT',
  color: '#d62728',
  build: buildLevit,
  stages: (card) => levitStages(card.architecture, card.preprocessing.resolution),
};
