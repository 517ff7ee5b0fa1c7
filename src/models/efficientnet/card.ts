import type { CardCommon } from '../card.js';

/**
 * EfficientNet in timm's layout. Stages use timm's block strings, e.g. 'ir_r2_k3_s2_e6_c24_se0.25':
 * block type (ds = depthwise separable, ir = inverted residual), repeats, kernel, stride,
 * expansion, output channels, squeeze-excite ratio; scaled by the width and depth multipliers.
 */
export interface EfficientNetArchitecture {
  readonly width_multiplier: number;
  readonly depth_multiplier: number;
  readonly stem_channels: number;
  readonly head_channels: number;
  readonly stages: readonly string[];
  readonly bn_eps: number;
}

export interface EfficientNetCard extends CardCommon {
  readonly family: 'efficientnet';
  readonly architecture: EfficientNetArchitecture;
}
