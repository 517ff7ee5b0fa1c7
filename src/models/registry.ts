import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Graph } from '../ir/graph.js';
import { ExitCode, LevitError } from '../core/errors.js';
import { zooDir } from '../util/paths.js';
import { FAMILIES, type ModelCard, familyOf } from './families.js';
import type { StageInfo } from './family.js';
import type { WeightSource } from './weights.js';
import { closest } from '../util/suggest.js';
import { type TokenFusion, fusionName, isFused } from './fusion/spec.js';

let cards: ModelCard[] | undefined;

/** All model cards in zoo/, in the order of the file names. */
export function listCards(): ModelCard[] {
  cards ??= readdirSync(zooDir)
    .filter((f) => f.endsWith('.json'))
    .map((f) => validateCard(JSON.parse(readFileSync(join(zooDir, f), 'utf8')), f))
    .sort(byFamilyThenId);
  return cards;
}

/** The rank of a family in listings: the order of FAMILIES. */
export const familyRank = (family: string): number => FAMILIES.findIndex((f) => f.id === family);

/** LeViT first, then the comparison models; zoo listings re-sort by computed size. */
function byFamilyThenId(a: ModelCard, b: ModelCard): number {
  const f = familyRank(a.family) - familyRank(b.family);
  return f || a.id.localeCompare(b.id, 'en', { numeric: true });
}

/**
 * The spelling of a model name that levit's ids, the official repositories' names and timm's names share:
 * timm's hub prefix and pretrained tag dropped (`timm/levit_128s.fb_dist_in1k`), case folded, `-` as `_`
 * (`LeViT_128S`, `LeViT-128S`).
 */
export function modelKey(name: string): string {
  const bare = name.trim().replace(/^(hf[-_]hub:)?timm\//i, '');
  const dot = bare.indexOf('.');
  return (dot > 0 ? bare.slice(0, dot) : bare).toLowerCase().replace(/-/g, '_');
}

/** The card of a model id or of an alias of it: its card name, or its name as timm or the official repository spell it. */
export function findCard(name: string): ModelCard | undefined {
  const exact = listCards().find((c) => c.id === name);
  if (exact) return exact;
  const key = modelKey(name);
  return listCards().find((c) => modelKey(c.id) === key || modelKey(c.name) === key);
}

export function getCard(id: string): ModelCard {
  const card = findCard(id);
  if (!card) {
    const ids = listCards().map((c) => c.id);
    const guess = closest(id, ids);
    throw new LevitError(`unknown model ${id}${guess ? `: did you mean ${guess}?` : ''}`, ExitCode.usage, `Known models: ${ids.join(', ')}`);
  }
  return card;
}

/** The reference graph of a model (before inference passes), with its weights bound. */
export function buildGraph(card: ModelCard, weights: WeightSource): Graph {
  if (isFused(card.token_fusion)) requireTokenFusion(card, card.token_fusion);
  return familyOf(card.family)!.build(card, weights);
}

/** The models whose family merges tokens (DeiT, ViT). */
export const tokenFusionModels = (): string[] =>
  listCards()
    .filter((c) => familyOf(c.family)?.tokenFusion)
    .map((c) => c.id);

/** Throws the usage error of a model whose family cannot merge tokens. */
export function requireTokenFusion(card: ModelCard, fusion: TokenFusion): void {
  const family = familyOf(card.family)!;
  if (family.tokenFusion) return;
  throw new LevitError(
    `--token-fusion ${fusionName(fusion)}: ${card.id} is a ${family.label} model; token fusion (MCTF, ToMe) applies to DeiT and ViT only`,
    ExitCode.usage,
    `Models that take it: ${tokenFusionModels().join(', ')}. Drop --token-fusion (or give none) for ${card.id}.`,
  );
}

/**
 * The card of the model built with token fusion (its graph, counts and artifacts are the fused model's);
 * 'none' gives the plain card. A model whose family cannot merge tokens is a usage error.
 */
export function withTokenFusion<C extends ModelCard>(card: C, fusion: TokenFusion): C {
  if (!isFused(fusion)) {
    if (!card.token_fusion) return card;
    const { token_fusion: _, ...plain } = card;
    return plain as C;
  }
  requireTokenFusion(card, fusion);
  return { ...card, token_fusion: fusion };
}

/** The stages of a model, as its family describes them. */
export function stagesOf(card: ModelCard): StageInfo[] {
  return familyOf(card.family)!.stages(card);
}

function validateCard(raw: unknown, file: string): ModelCard {
  const card = raw as ModelCard;
  const problems: string[] = [];
  if (typeof card?.id !== 'string') problems.push('no id');
  if (!familyOf(card?.family)) problems.push(`unknown family ${String(card?.family)}`);
  const p = card?.preprocessing;
  if (!p || !(p.resolution > 0) || !(p.crop_pct > 0 && p.crop_pct <= 1) || p.mean?.length !== 3 || p.std?.length !== 3) {
    problems.push('preprocessing needs resolution, crop_pct in (0, 1], mean and std of 3 values');
  }
  if (!Array.isArray(card?.published)) problems.push('published must be a list');
  if (typeof card?.license !== 'string' || !card.license) problems.push('no license (an SPDX identifier)');
  if (card?.token_fusion !== undefined) problems.push('token_fusion is a setting (--token-fusion), not card data');
  if (problems.length) throw new LevitError(`zoo/${file}: invalid model card: ${problems.join('; ')}`, ExitCode.failure);
  return card;
}
