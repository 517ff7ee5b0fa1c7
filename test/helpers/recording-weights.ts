import type { FloatTensor, Tensor } from '../../src/core/tensor.js';
import { SyntheticWeights } from '../../src/models/synthetic.js';
import type { TensorKind, WeightSource } from '../../src/models/weights.js';

/**
 * Synthetic weights that remember every tensor the builder asked for, under its official
 * name: the state_dict an official checkpoint of that architecture would hold.
 */
export class RecordingWeights implements WeightSource {
  readonly stateDict = new Map<string, Tensor>();
  private readonly inner: SyntheticWeights;

  constructor(seed = 0) {
    this.inner = new SyntheticWeights(seed);
  }

  tensor(name: string, shape: readonly number[], kind: TensorKind): FloatTensor {
    const t = this.inner.tensor(name, shape, kind);
    this.stateDict.set(name, t);
    return t;
  }
  verifyIndexBuffer(name: string, expected: readonly number[], shape: readonly number[]): void {
    this.stateDict.set(name, { dtype: 'int64', shape: [...shape], data: BigInt64Array.from(expected, (v) => BigInt(v)) });
  }
  ignore(name: string): void {
    this.stateDict.set(name, { dtype: 'int64', shape: [], data: BigInt64Array.of(0n) });
  }
  finish(): void {}
}
