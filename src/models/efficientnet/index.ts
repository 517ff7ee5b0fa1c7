import type { FamilyDescriptor } from '../family.js';
import { buildEfficientNet, efficientNetStages } from './build.js';
import type { EfficientNetCard } from './card.js';

export const efficientNet: FamilyDescriptor<EfficientNetCard> = {
  id: 'efficientnet',
  label: 'EfficientNet',
  color: '#1f77b4',
  build: buildEfficientNet,
  stages: efficientNetStages,
};
