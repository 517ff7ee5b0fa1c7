import { numel, type Tensor } from '../core/tensor.js';

/** A dimension: a number, or the batch size, left free in every exported artifact. */
export type Dim = number | 'N';
export type Shape = readonly Dim[];

/**
 * What an initializer is to the model. Parameters are what PyTorch's model.parameters()
 * counts; buffers are state such as BatchNorm statistics; constants are made by passes.
 */
export type InitializerRole = 'param' | 'buffer' | 'constant';

export interface Initializer {
  readonly tensor: Tensor;
  readonly role: InitializerRole;
}

/** The operations of the IR, with their attributes. Inputs and outputs are value names. */
export type OpAttrs =
  | { op: 'conv2d'; stride: number; pad: number; groups: number }
  | { op: 'batchnorm'; axis: number; eps: number }
  | { op: 'linear' }
  | { op: 'matmul' }
  | { op: 'add' }
  | { op: 'sub' }
  | { op: 'mul' }
  | { op: 'relu' }
  | { op: 'hardswish' }
  | { op: 'silu' }
  | { op: 'sigmoid' }
  | { op: 'gelu' }
  | { op: 'layernorm'; eps: number }
  | { op: 'prepend_tokens' }
  | { op: 'softmax'; axis: number }
  | { op: 'reshape'; shape: Shape }
  | { op: 'transpose'; perm: readonly number[] }
  | { op: 'slice'; axis: number; start: number; end: number; step: number }
  | { op: 'split'; axis: number; sizes: readonly number[] }
  | { op: 'mean'; axes: readonly number[]; keepdims: boolean }
  | { op: 'concat'; axis: number }
  /** Average over a square window; countIncludePad false divides by the in-image cells only (PyTorch's count_include_pad). */
  | { op: 'avgpool2d'; kernel: number; stride: number; pad: number; countIncludePad: boolean }
  /** x / max(||x||_2, eps) along one axis, as torch.nn.functional.normalize. */
  | { op: 'l2normalize'; axis: number; eps: number }
  | { op: 'gather_bias' }
  /** a / b, broadcast. */
  | { op: 'div' }
  /** x ** exponent, elementwise. */
  | { op: 'pow'; exponent: number }
  /** Natural logarithm, elementwise (log 0 = -inf). */
  | { op: 'log' }
  /** The largest value or the sum along one axis. */
  | { op: 'reduce'; reduction: 'max' | 'sum'; axis: number; keepdims: boolean }
  /** The index of the first largest value along one axis (the axis is removed), as a float32 whole number. */
  | { op: 'argmax'; axis: number }
  /** 1 where a > b (greater) or a = b (equal), else 0, as float32; broadcast. */
  | { op: 'compare'; relation: 'greater' | 'equal' }
  /** Running sum along one axis, each element included. */
  | { op: 'cumsum'; axis: number }
  /**
   * Token rows summed into groups: x [N, L, C] and group ids [N, L] (float32 whole numbers below
   * `groups`) give [N, groups, C], row g the sum of the rows whose id is g (zero if none): a
   * scatter-add along the tokens (token fusion's merge).
   */
  | { op: 'segment_sum'; groups: number }
  /** Token rows picked by index: x [N, M, C] and ids [N, L] (float32 whole numbers below M) give [N, L, C], row l = x[ids[l]]. */
  | { op: 'gather_rows' };

export type OpType = OpAttrs['op'];

export type Node = OpAttrs & {
  readonly name: string;
  inputs: string[];
  outputs: string[];
};

/**
 * A model as a list of nodes in execution order over named values. Every value has a
 * static shape (the batch dimension excepted), so counts and exporters need no inference.
 */
export class Graph {
  readonly nodes: Node[] = [];
  readonly initializers = new Map<string, Initializer>();
  readonly shapes = new Map<string, Shape>();
  readonly inputs: string[] = [];
  readonly outputs: string[] = [];

  constructor(readonly name: string) {}

  shape(value: string): Shape {
    const s = this.shapes.get(value);
    if (!s) throw new Error(`graph ${this.name}: no value named ${value}`);
    return s;
  }

  /** Nodes that read a value, so that passes can tell when a value has one consumer. */
  consumers(value: string): Node[] {
    return this.nodes.filter((n) => n.inputs.includes(value));
  }

  producer(value: string): Node | undefined {
    return this.nodes.find((n) => n.outputs.includes(value));
  }

  isInitializer(value: string): boolean {
    return this.initializers.has(value);
  }

  tensor(name: string): Tensor {
    const init = this.initializers.get(name);
    if (!init) throw new Error(`graph ${this.name}: no initializer named ${name}`);
    return init.tensor;
  }

  addInitializer(name: string, tensor: Tensor, role: InitializerRole): string {
    if (this.shapes.has(name)) throw new Error(`graph ${this.name}: ${name} is defined twice`);
    this.initializers.set(name, { tensor, role });
    this.shapes.set(name, tensor.shape);
    return name;
  }

  /** A value name not yet in use, derived from `base`. */
  freshName(base: string): string {
    let name = base;
    for (let i = 1; this.shapes.has(name); i++) name = `${base}~${i}`;
    return name;
  }

  /** Drops initializers that no node reads any more (after passes have folded them). */
  pruneInitializers(): void {
    const used = new Set(this.nodes.flatMap((n) => n.inputs));
    for (const name of [...this.initializers.keys()]) {
      if (!used.has(name)) {
        this.initializers.delete(name);
        this.shapes.delete(name);
      }
    }
  }

  /** Replaces every read of `from` by `to` (used when a pass removes a node). */
  rewire(from: string, to: string): void {
    for (const n of this.nodes) n.inputs = n.inputs.map((v) => (v === from ? to : v));
    const i = this.outputs.indexOf(from);
    if (i >= 0) {
      // Graph outputs keep their public name: rename the producer's value instead.
      const producer = this.producer(to);
      if (!producer) throw new Error(`graph ${this.name}: output ${from} would lose its producer`);
      producer.outputs = producer.outputs.map((v) => (v === to ? from : v));
      this.shapes.set(from, this.shape(to));
      for (const n of this.nodes) n.inputs = n.inputs.map((v) => (v === to ? from : v));
    }
  }

  removeNode(node: Node): void {
    const i = this.nodes.indexOf(node);
    if (i >= 0) this.nodes.splice(i, 1);
  }
}

export function staticDims(shape: Shape, batch = 1): number[] {
  return shape.map((d) => (d === 'N' ? batch : d));
}

export function elementsPerImage(shape: Shape): number {
  return numel(staticDims(shape, 1));
}
