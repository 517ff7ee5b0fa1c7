import { minimatch } from 'minimatch';
import { ExitCode, LevitError } from '../core/errors.js';
import { closest } from '../util/suggest.js';
import { FAMILIES, type ModelCard } from './families.js';
import { getCard, listCards } from './registry.js';

const isPattern = (name: string) => /[*?[\]]/.test(name);

/** A name as patterns are matched: timm's hub prefix dropped, case folded, `-` as `_` (as model names are). */
const fold = (name: string) =>
  name
    .trim()
    .replace(/^(hf[-_]hub:)?timm\//i, '')
    .toLowerCase()
    .replace(/-/g, '_');

/**
 * Models named as timm users name them, in the order given, each once: a model id or alias
 * (`levit_128s`, `LeViT-128S`, `levit_128s.fb_dist_in1k`), a shell-style pattern on the ids
 * (`'levit*'`, `'efficientnet_b[0-2]'`, as timm's list_models takes), or a family (`levit`,
 * `EfficientNet`: all its models). A pattern that matches nothing is an error, as an unknown name is.
 */
export function selectModels(names: readonly string[]): ModelCard[] {
  const cards = listCards();
  const picked = names.flatMap((name): ModelCard[] => {
    const family = FAMILIES.find((f) => f.id === fold(name) || fold(f.label) === fold(name));
    if (family) return cards.filter((c) => c.family === family.id);
    if (!isPattern(name)) return [getCard(name)];
    const matched = cards.filter((c) => minimatch(c.id, fold(name), { nocase: true }));
    if (matched.length === 0) {
      const guess = closest(name.replace(/[*?[\]]/g, ''), [...FAMILIES.map((f) => f.id), ...cards.map((c) => c.id)]);
      throw new LevitError(
        `no model matches ${name}${guess ? `: did you mean ${guess}?` : ''}`,
        ExitCode.usage,
        `Patterns match the ids levit zoo lists; families: ${FAMILIES.map((f) => f.id).join(', ')}.`,
      );
    }
    return matched;
  });
  return [...new Set(picked)];
}
