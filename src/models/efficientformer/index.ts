import type { FamilyDescriptor } from '../family.js';
import { buildEfficientFormer, efficientFormerStages } from './build.js';
import type { EfficientFormerCard } from './card.js';

export const efficientFormer: FamilyDescriptor<EfficientFormerCard> = {
  id: 'efficientformer',
  label: 'EfficientFormer',
  color: '#9467bd',
  build: buildEfficientFormer,
  stages: efficientFormerStages,
};
