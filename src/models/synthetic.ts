import { type FloatTensor, numel } from '../core/tensor.js';
import type { TensorKind, WeightSource } from './weights.js';

/** FNV-1a: a stable seed per tensor name, so values do not depend on build order. */
function hash(s: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < s.length; i++) {
    h ^= s.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** xorshift32 mapped to [0, 1). */
function uniform(seed: number): () => number {
  let x = seed || 0x9e3779b9;
  return () => {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    return (x >>> 0) / 4294967296;
  };
}

/**
 * Values in the ranges trained networks have (unit-variance fan-in scaling, BatchNorm
 * statistics near identity), so activations stay finite and timings are representative.
 */
export function syntheticTensor(key: string, shape: readonly number[], kind: TensorKind): FloatTensor {
  const next = uniform(hash(key));
  const data = new Float32Array(numel(shape));
  const fanIn = shape.length > 1 ? numel(shape.slice(1)) : 1;
  const [low, high] = ((): [number, number] => {
    switch (kind) {
      case 'conv_weight':
      case 'linear_weight': {
        const a = Math.sqrt(3 / fanIn);
        return [-a, a];
      }
      case 'bias':
      case 'bn_bias':
      case 'bn_mean':
        return [-0.1, 0.1];
      case 'bn_weight':
        return [0.5, 1];
      case 'bn_var':
        return [0.5, 1.5];
      case 'attention_biases':
        return [-0.5, 0.5];
      case 'embedding':
        return [-0.02, 0.02];
    }
  })();
  for (let i = 0; i < data.length; i++) data[i] = low + (high - low) * next();
  return { dtype: 'float32', shape: [...shape], data };
}

/** Deterministic made-up weights: architecture-only work (benchmarks) needs no download. */
export class SyntheticWeights implements WeightSource {
  constructor(private readonly seed = 0) {}

  tensor(name: string, shape: readonly number[], kind: TensorKind): FloatTensor {
    return syntheticTensor(`${this.seed}:${name}`, shape, kind);
  }
  verifyIndexBuffer(): void {}
  ignore(): void {}
  finish(): void {}
}
