import type { FamilyDescriptor } from '../family.js';
import { buildDeit, deitSchedule } from './build.js';
import type { DeitCard } from './card.js';

export const deit: FamilyDescriptor<DeitCard> = {
  id: 'deit',
  label: 'DeiT',
  color: '#2ca02c',
  build: buildDeit,
  tokenFusion: true,
  stages: (card) => {
    const a = card.architecture;
    const plans = deitSchedule(card);
    const [tokens, out] = [plans[0].tokensIn, plans.at(-1)!.tokensOut];
    // Under token fusion the blocks shrink the sequence: the last block's output is shown beside the input.
    const [head, body] = [
      { stage: 1, resolution: card.preprocessing.resolution / a.patch_size, tokens },
      { channels: a.embed_dim, heads: a.num_heads, blocks: a.depth },
    ];
    return [out === tokens ? { ...head, ...body } : { ...head, tokens_out: out, ...body }];
  },
};
