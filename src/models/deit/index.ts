import type { FamilyDescriptor } from '../family.js';
import { NO_FUSION, fusionSchedule } from '../fusion/spec.js';
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
    const protectedTokens = a.distilled ? 2 : 1;
    const tokens = grid * grid + protectedTokens;
    // Under token fusion the blocks shrink the sequence: the last block's output is shown beside the input.
    const out = fusionSchedule(card.token_fusion ?? NO_FUSION, { tokens, protectedTokens, depth: a.depth }).at(-1)?.tokensOut ?? tokens;
    const [head, body] = [
      { stage: 1, resolution: grid, tokens },
      { channels: a.embed_dim, heads: a.num_heads, blocks: a.depth },
    ];
    return [out === tokens ? { ...head, ...body } : { ...head, tokens_out: out, ...body }];
  },
};
