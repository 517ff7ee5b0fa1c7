import { GraphBuilder } from '../../ir/builder.js';
import type { Graph } from '../../ir/graph.js';
import type { EfficientNetArchitecture, EfficientNetCard } from './card.js';
import { type BuildContext, batchNorm, conv2d, linear } from '../layers.js';
import type { WeightSource } from '../weights.js';
import { pyRound } from '../../util/python.js';

/** timm's make_divisible: round to a multiple of 8, never more than 10% below the value. */
export function makeDivisible(v: number, divisor = 8, roundLimit = 0.9): number {
  let n = Math.max(divisor, Math.floor(Math.trunc(v + divisor / 2) / divisor) * divisor);
  if (n < roundLimit * v) n += divisor;
  return n;
}

export interface BlockSpec {
  type: 'ds' | 'ir';
  repeats: number;
  kernel: number;
  stride: number;
  expand: number;
  channels: number;
  seRatio: number;
}

/** Parses a timm block string such as 'ir_r2_k3_s2_e6_c24_se0.25'. */
export function parseBlock(s: string): BlockSpec {
  const [type, ...opts] = s.split('_');
  if (type !== 'ds' && type !== 'ir') throw new Error(`EfficientNet block '${s}': unknown type ${type}`);
  const get = (key: string, fallback?: number): number => {
    const o = opts.find((x) => x.startsWith(key) && /^[\d.]+$/.test(x.slice(key.length)));
    if (o === undefined) {
      if (fallback === undefined) throw new Error(`EfficientNet block '${s}': no ${key}`);
      return fallback;
    }
    return Number(o.slice(key.length));
  };
  return { type, repeats: get('r'), kernel: get('k'), stride: get('s'), expand: get('e', 1), channels: get('c'), seRatio: get('se', 0) };
}

/** The stages after width and depth scaling, as timm's decoder produces them. */
export function scaledStages(a: EfficientNetArchitecture): BlockSpec[] {
  return a.stages.map(parseBlock).map((s) => ({
    ...s,
    repeats: Math.ceil(s.repeats * a.depth_multiplier),
    channels: makeDivisible(s.channels * a.width_multiplier),
  }));
}

/** timm's symmetric padding for the non-TF EfficientNets. */
const padding = (kernel: number, stride: number) => Math.floor((stride - 1 + (kernel - 1)) / 2);

export function buildEfficientNet(card: EfficientNetCard, w: WeightSource): Graph {
  const a = card.architecture;
  const res = card.preprocessing.resolution;
  const b = new GraphBuilder(card.id);
  const ctx: BuildContext = { b, w };
  const convBnAct = (x: string, prefix: string, bn: string, o: Parameters<typeof conv2d>[3], act = true) => {
    const y = batchNorm(ctx, conv2d(ctx, x, prefix, o), bn, o.cout, 1, a.bn_eps);
    return act ? b.silu(y) : y;
  };

  const stem = makeDivisible(a.stem_channels * a.width_multiplier);
  let x = convBnAct(b.input('input', ['N', 3, res, res]), 'conv_stem', 'bn1', { cin: 3, cout: stem, kernel: 3, stride: 2, pad: 1 });
  let channels = stem;
  scaledStages(a).forEach((stage, i) => {
    for (let j = 0; j < stage.repeats; j++) {
      const p = `blocks.${i}.${j}`;
      const stride = j === 0 ? stage.stride : 1;
      const block = { cin: channels, cout: stage.channels, kernel: stage.kernel, stride, se: stage.seRatio / stage.expand };
      x = b.within(p, () =>
        stage.type === 'ds' ? depthwiseSeparable(ctx, x, p, block, a.bn_eps) : invertedResidual(ctx, x, p, { ...block, expand: stage.expand }, a.bn_eps),
      );
      channels = stage.channels;
    }
  });
  const head = makeDivisible(a.head_channels * a.width_multiplier);
  x = convBnAct(x, 'conv_head', 'bn2', { cin: channels, cout: head, kernel: 1, stride: 1, pad: 0 });
  b.output(linear(ctx, b.mean(x, [2, 3]), 'classifier', head, card.num_classes, true));
  w.finish(card.id);
  return b.graph;
}

interface BlockArgs {
  cin: number;
  cout: number;
  kernel: number;
  stride: number;
  /** Squeeze-excite ratio relative to the channels it squeezes (timm: se_ratio / exp_ratio). */
  se: number;
}

/** x * sigmoid(expand(silu(reduce(mean(x))))), reduce to round(channels * ratio). */
function squeezeExcite(ctx: BuildContext, x: string, prefix: string, channels: number, ratio: number): string {
  const { b } = ctx;
  const reduced = pyRound(channels * ratio);
  let s = b.mean(x, [2, 3], true);
  s = b.silu(conv2d(ctx, s, `${prefix}.conv_reduce`, { cin: channels, cout: reduced, kernel: 1, stride: 1, pad: 0, bias: true }));
  s = b.sigmoid(conv2d(ctx, s, `${prefix}.conv_expand`, { cin: reduced, cout: channels, kernel: 1, stride: 1, pad: 0, bias: true }));
  return b.mul(x, s);
}

function depthwiseSeparable(ctx: BuildContext, x: string, p: string, o: BlockArgs, eps: number): string {
  const { b } = ctx;
  let y = conv2d(ctx, x, `${p}.conv_dw`, { cin: o.cin, cout: o.cin, kernel: o.kernel, stride: o.stride, pad: padding(o.kernel, o.stride), groups: o.cin });
  y = b.silu(batchNorm(ctx, y, `${p}.bn1`, o.cin, 1, eps));
  if (o.se > 0) y = b.within('se', () => squeezeExcite(ctx, y, `${p}.se`, o.cin, o.se));
  y = batchNorm(ctx, conv2d(ctx, y, `${p}.conv_pw`, { cin: o.cin, cout: o.cout, kernel: 1, stride: 1, pad: 0 }), `${p}.bn2`, o.cout, 1, eps);
  return o.stride === 1 && o.cin === o.cout ? b.add2(x, y) : y;
}

function invertedResidual(ctx: BuildContext, x: string, p: string, o: BlockArgs & { expand: number }, eps: number): string {
  const { b } = ctx;
  const mid = makeDivisible(o.cin * o.expand);
  let y = conv2d(ctx, x, `${p}.conv_pw`, { cin: o.cin, cout: mid, kernel: 1, stride: 1, pad: 0 });
  y = b.silu(batchNorm(ctx, y, `${p}.bn1`, mid, 1, eps));
  y = conv2d(ctx, y, `${p}.conv_dw`, { cin: mid, cout: mid, kernel: o.kernel, stride: o.stride, pad: padding(o.kernel, o.stride), groups: mid });
  y = b.silu(batchNorm(ctx, y, `${p}.bn2`, mid, 1, eps));
  if (o.se > 0) y = b.within('se', () => squeezeExcite(ctx, y, `${p}.se`, mid, o.se));
  y = batchNorm(ctx, conv2d(ctx, y, `${p}.conv_pwl`, { cin: mid, cout: o.cout, kernel: 1, stride: 1, pad: 0 }), `${p}.bn3`, o.cout, 1, eps);
  return o.stride === 1 && o.cin === o.cout ? b.add2(x, y) : y;
}

export function efficientNetStages(card: EfficientNetCard) {
  let r = Math.ceil(card.preprocessing.resolution / 2);
  return scaledStages(card.architecture).map((s, i) => {
    r = Math.ceil(r / s.stride);
    return { stage: i + 1, resolution: r, channels: s.channels, blocks: s.repeats, kernel: s.kernel, stride: s.stride, expand: s.expand };
  });
}
