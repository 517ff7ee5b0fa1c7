import type { FamilyDescriptor } from '../family.js';
import { buildEdgeNext, edgeNextStages } from './build.js';
import type { EdgeNextCard } from './card.js';

export const edgeNext: FamilyDescriptor<EdgeNextCard> = {
  id: 'edgenext',
  label: 'EdgeNeXt',
  color: '#17becf',
  build: buildEdgeNext,
  stages: edgeNextStages,
};
