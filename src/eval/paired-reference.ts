import type { PrecisionSpec } from '../classifier/precision.js';
import type { ModelCard } from '../models/families.js';
import { NO_FUSION, fusionName, isFused } from '../models/fusion/spec.js';
import { withTokenFusion } from '../models/registry.js';

/** The model an eval is paired with, run on the same batches. */
export interface PairedReference {
  card: ModelCard;
  kind: 'precision' | 'fusion';
  /** The evaluated model's setting: its precision, or its token fusion ('mctf:16'). */
  name: string;
}

/**
 * What an eval compares its model with on the same images: the float32 model for a reduced precision,
 * the plain model (float32, same weights) for token fusion; nothing for a plain float32 model.
 */
export function pairedReference(model: ModelCard, precision: PrecisionSpec): PairedReference | undefined {
  if (isFused(model.token_fusion)) return { card: withTokenFusion(model, NO_FUSION), kind: 'fusion', name: fusionName(model.token_fusion) };
  if (precision.precision !== 'fp32') return { card: model, kind: 'precision', name: precision.precision };
  return undefined;
}
