import { type FloatTensor, type Tensor, type WeightsMap, floatTensor, formatShape, sameShape, toIntArray } from '../core/tensor.js';
import { CheckpointMismatchError, type Mismatch } from '../core/errors.js';

/** How a tensor is used, which tells synthetic weights what values are plausible for it. */
export type TensorKind = 'conv_weight' | 'linear_weight' | 'bias' | 'bn_weight' | 'bn_bias' | 'bn_mean' | 'bn_var' | 'attention_biases' | 'embedding';

/**
 * Where a model builder gets its tensors. The builder says what it needs, by name, shape and
 * kind; the source supplies it, or records why it cannot, so that all problems of a checkpoint
 * are reported together when the build finishes.
 */
export interface WeightSource {
  tensor(name: string, shape: readonly number[], kind: TensorKind): FloatTensor;
  /** An index buffer the builder computes itself; a checkpoint's copy must agree with it. */
  verifyIndexBuffer(name: string, expected: readonly number[], shape: readonly number[]): void;
  /** Entries the checkpoint may hold that the inference graph does not need. */
  ignore(name: string): void;
  /** Throws a CheckpointMismatchError listing every missing, unexpected or misshapen tensor. */
  finish(model: string): void;
}

export class CheckpointWeights implements WeightSource {
  private readonly used = new Set<string>();
  private readonly problems: Mismatch[] = [];

  constructor(private readonly weights: WeightsMap) {}

  tensor(name: string, shape: readonly number[], _kind: TensorKind): FloatTensor {
    const t = this.take(name, shape);
    if (t?.dtype === 'float32') return t as FloatTensor;
    if (t) this.problems.push({ kind: 'dtype', text: `${name}: expected floating point, found ${t.dtype}` });
    // A stand-in lets the build go on, so that every problem is reported at once by finish().
    return floatTensor(shape);
  }

  verifyIndexBuffer(name: string, expected: readonly number[], shape: readonly number[]): void {
    if (!this.weights.has(name)) return;
    const t = this.take(name, shape);
    if (t && !toIntArray(t).every((v, i) => v === expected[i])) {
      this.problems.push({ kind: 'values', text: `${name}: indices differ from the official layout of this architecture` });
    }
  }

  ignore(name: string): void {
    this.used.add(name);
  }

  finish(model: string): void {
    for (const name of this.weights.keys()) {
      if (!this.used.has(name)) this.problems.push({ kind: 'unexpected', text: `unexpected tensor ${name} ${formatShape(this.weights.get(name)!.shape)}` });
    }
    if (this.problems.length) throw new CheckpointMismatchError(this.problems, model);
  }

  private take(name: string, shape: readonly number[]): Tensor | undefined {
    this.used.add(name);
    const t = this.weights.get(name);
    if (!t) {
      this.problems.push({ kind: 'missing', text: `missing tensor ${name} ${formatShape(shape)}` });
      return undefined;
    }
    if (!sameShape(t.shape, shape)) {
      this.problems.push({ kind: 'shape', text: `${name}: checkpoint has shape ${formatShape(t.shape)}, model expects ${formatShape(shape)}` });
      return undefined;
    }
    return t;
  }
}

/** All-zero weights: for what needs the architecture only, such as counting parameters and FLOPs. */
export class ZeroWeights implements WeightSource {
  tensor(_name: string, shape: readonly number[]): FloatTensor {
    return floatTensor(shape);
  }
  verifyIndexBuffer(): void {}
  ignore(): void {}
  finish(): void {}
}
