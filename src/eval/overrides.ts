import type { ModelCard } from '../models/families.js';
import type { Preprocessing } from '../models/card.js';
import { ExitCode, LevitError } from '../core/errors.js';

/** What timm's validate.py lets a user change in the evaluation transform: --img-size, --crop-pct, --interpolation. */
export interface PreprocessingOverrides {
  resolution?: number;
  crop_pct?: number;
  interpolation?: Preprocessing['interpolation'];
}

/**
 * The card with its evaluation transform changed (e.g. timm's crop 0.9 for LeViT); the transform stays
 * torchvision's on PIL for any crop. The graph is built for the card's resolution, so another image size is refused.
 */
export function withPreprocessing(card: ModelCard, o: PreprocessingOverrides): ModelCard {
  const p = card.preprocessing;
  if (o.resolution !== undefined && o.resolution !== p.resolution) {
    const hint = `Leave --img-size out, or give ${p.resolution}: the exported graph's shapes (position biases, pooling) are those of ${p.resolution}px.`;
    throw new LevitError(`--img-size ${o.resolution}: ${card.id} is built for ${p.resolution}x${p.resolution} inputs`, ExitCode.usage, hint);
  }
  if (o.crop_pct !== undefined && !(o.crop_pct > 0 && o.crop_pct <= 1)) {
    throw new LevitError(`--crop-pct ${o.crop_pct}: must be in (0, 1]`, ExitCode.usage, 'timm uses 0.875 to 1; e.g. --crop-pct 0.9 for its LeViT figures.');
  }
  // A published figure without a crop was measured with the card's own: say so, so that another crop does not match it.
  const published = card.published.map((f) => ({ ...f, crop_pct: f.crop_pct ?? p.crop_pct }));
  return { ...card, published, preprocessing: { ...p, crop_pct: o.crop_pct ?? p.crop_pct, interpolation: o.interpolation ?? p.interpolation } };
}
