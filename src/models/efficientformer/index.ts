import type { FamilyDescriptor } from '../family.js';
import { buildEfficientFormer, efficientFormerStages } from './build.js';
import type { EfficientFormerCard } from './card.js';

export const efficientFormer: FamilyDescriptor<EfficientFormerCard> = {
  id: 'efficientformer',
  label: 'EfficientFormer',
  color: '#ff7f0e',
  build: buildEfficientFormer,
  stages: efficientFormerStages,
};
