import type { FamilyDescriptor } from '../family.js';
import { buildCait } from './build.js';
import type { CaitCard } from './card.js';

export const cait: FamilyDescriptor<CaitCard> = {
  id: 'cait',
  label: 'CaiT',
  color: '#9467bd',
  baseline: false,
  build: buildCait,
  stages: (card) => {
    const a = card.architecture;
    const grid = card.preprocessing.resolution / a.patch_size;
    return [
      { stage: 1, resolution: grid, tokens: grid * grid, channels: a.embed_dim, heads: a.num_heads, blocks: a.depth },
      { stage: 2, resolution: grid, tokens: grid * grid + 1, channels: a.embed_dim, heads: a.num_heads, blocks: a.depth_token_only },
    ];
  },
};
