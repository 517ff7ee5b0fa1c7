import type { FamilyDescriptor } from '../family.js';
import { buildConvit } from './build.js';
import type { ConvitCard } from './card.js';

export const convit: FamilyDescriptor<ConvitCard> = {
  id: 'convit',
  label: 'ConViT',
  color: '#e377c2',
  baseline: false,
  build: buildConvit,
  stages: (card) => {
    const a = card.architecture;
    const grid = card.preprocessing.resolution / a.patch_size;
    return [
      { stage: 1, resolution: grid, tokens: grid * grid, channels: a.embed_dim, heads: a.num_heads, blocks: a.local_up_to_layer },
      { stage: 2, resolution: grid, tokens: grid * grid + 1, channels: a.embed_dim, heads: a.num_heads, blocks: a.depth - a.local_up_to_layer },
    ];
  },
};
