import type { FamilyDescriptor } from '../family.js';
import { buildDeit } from './build.js';
import type { DeitCard } from './card.js';

export const deit: FamilyDescriptor<DeitCard> = {
  id: 'deit',
  label: 'DeiT',
  color: '#2ca02c',
  build: buildDeit,
  tokenFusion: true,
  stages: (card) => {
    const a = card.architecture;
    const grid = card.preprocessing.resolution / a.patch_size;
    return [{ stage: 1, resolution: grid, tokens: grid * grid + (a.distilled ? 2 : 1), channels: a.embed_dim, heads: a.num_heads, blocks: a.depth }];
  },
};
