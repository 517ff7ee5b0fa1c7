import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Graph } from '../ir/graph.js';
import { ExitCode, LevitError } from '../util/errors.js';
import { zooDir } from '../util/paths.js';
import type { Family, ModelCard } from './card.js';
import { buildCait } from './cait.js';
import { buildConvit } from './convit.js';
import { buildDeit } from './deit.js';
import { buildEfficientNet } from './efficientnet.js';
import { buildLevit } from './levit.js';
import type { WeightSource } from './weights.js';

type Builder<C extends ModelCard> = (card: C, weights: WeightSource) => Graph;

/** One builder per family; a new family is a builder here plus its cards in zoo/. */
const builders: { [F in Family]: Builder<Extract<ModelCard, { family: F }>> } = {
  levit: buildLevit,
  efficientnet: buildEfficientNet,
  deit: buildDeit,
  vit: buildDeit,
  cait: buildCait,
  convit: buildConvit,
};

let cards: ModelCard[] | undefined;

/** All model cards in zoo/, in the order of the file names. */
export function listCards(): ModelCard[] {
  cards ??= readdirSync(zooDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => validateCard(JSON.parse(readFileSync(join(zooDir, f), 'utf8')), f))
    .sort(byFamilyThenId);
  return cards;
}

export const familyOrder: readonly Family[] = ['levit', 'efficientnet', 'deit', 'vit', 'cait', 'convit'];

/** LeViT first, then the comparison models; zoo listings re-sort by computed size. */
function byFamilyThenId(a: ModelCard, b: ModelCard): number {
  const f = familyOrder.indexOf(a.family) - familyOrder.indexOf(b.family);
  return f || a.id.localeCompare(b.id, 'en', { numeric: true });
}

export function getCard(id: string): ModelCard {
  const card = listCards().find((c) => c.id === id);
  if (!card) {
    throw new LevitError(`unknown model ${id}`, ExitCode.usage, `Known models: ${listCards().map((c) => c.id).join(', ')}`);
  }
  return card;
}

/** The reference graph of a model (before inference passes), with its weights bound. */
export function buildGraph(card: ModelCard, weights: WeightSource): Graph {
  const build = builders[card.family] as Builder<ModelCard>;
  return build(card, weights);
}

function validateCard(raw: unknown, file: string): ModelCard {
  const card = raw as ModelCard;
  const problems: string[] = [];
  if (typeof card?.id !== 'string') problems.push('no id');
  if (!(card?.family in builders)) problems.push(`unknown family ${String(card?.family)}`);
  const p = card?.preprocessing;
  if (!p || !(p.resolution > 0) || !(p.crop_pct > 0 && p.crop_pct <= 1) || p.mean?.length !== 3 || p.std?.length !== 3) {
    problems.push('preprocessing needs resolution, crop_pct in (0, 1], mean and std of 3 values');
  }
  if (!Array.isArray(card?.published)) problems.push('published must be a list');
  if (typeof card?.license !== 'string' || !card.license) problems.push('license must name the licence of the weights');
  if (problems.length) throw new LevitError(`zoo/${file}: invalid model card: ${problems.join('; ')}`, ExitCode.failure);
  return card;
}
