import type { Tensor } from '../core/tensor.js';
import { type Dim, Graph, type InitializerRole, type Node, type OpAttrs, type Shape } from './graph.js';

const fail = (message: string): never => {
  throw new Error(message);
};

/**
 * Adds nodes to a graph, inferring each output's shape from its inputs, so that a model
 * builder reads like the reference forward() and a wrong shape fails where it is made.
 */
export class GraphBuilder {
  readonly graph: Graph;
  private counter = 0;
  private scope: string[] = [];

  constructor(name: string) {
    this.graph = new Graph(name);
  }

  /** Names the nodes made inside `body` after a module path, e.g. blocks.3.m. */
  within<T>(scope: string, body: () => T): T {
    this.scope.push(scope);
    try {
      return body();
    } finally {
      this.scope.pop();
    }
  }

  input(name: string, shape: Shape): string {
    this.graph.shapes.set(name, shape);
    this.graph.inputs.push(name);
    return name;
  }

  output(value: string): void {
    this.graph.outputs.push(value);
  }

  initializer(name: string, tensor: Tensor, role: InitializerRole): string {
    return this.graph.addInitializer(name, tensor, role);
  }

  conv2d(x: string, weight: string, bias: string | undefined, o: { stride: number; pad: number; groups?: number }) {
    const [n, c, h, w] = this.shapeOf(x);
    const [cout, cinPerGroup, kh, kw] = this.shapeOf(weight) as number[];
    const groups = o.groups ?? 1;
    if (c !== cinPerGroup * groups) fail(`conv2d: input has ${c} channels, weight expects ${cinPerGroup * groups}`);
    const out = (size: Dim, k: number) => Math.floor(((size as number) + 2 * o.pad - k) / o.stride) + 1;
    const inputs = bias ? [x, weight, bias] : [x, weight];
    return this.add({ op: 'conv2d', stride: o.stride, pad: o.pad, groups }, inputs, [n, cout, out(h, kh), out(w, kw)]);
  }

  /** BatchNorm over `axis` with inputs (x, weight, bias, running_mean, running_var). */
  batchNorm(x: string, params: [string, string, string, string], axis: number, eps = 1e-5) {
    const shape = this.shapeOf(x);
    const channels = shape.at(axis);
    for (const p of params) {
      if (this.shapeOf(p)[0] !== channels) fail(`batchnorm: ${p} does not have ${channels} channels`);
    }
    return this.add({ op: 'batchnorm', axis, eps }, [x, ...params], shape);
  }

  /** y = x W^T (+ b) over the last axis, W of shape [out, in] as PyTorch stores it. */
  linear(x: string, weight: string, bias?: string) {
    const shape = this.shapeOf(x);
    const [outF, inF] = this.shapeOf(weight) as number[];
    if (shape.at(-1) !== inF) fail(`linear ${weight}: input has ${String(shape.at(-1))} features, weight expects ${inF}`);
    return this.add({ op: 'linear' }, bias ? [x, weight, bias] : [x, weight], [...shape.slice(0, -1), outF]);
  }

  matmul(a: string, b: string) {
    const sa = this.shapeOf(a);
    const sb = this.shapeOf(b);
    if (sa.at(-1) !== sb.at(-2)) fail(`matmul: inner dimensions ${String(sa.at(-1))} and ${String(sb.at(-2))} differ`);
    return this.add({ op: 'matmul' }, [a, b], [...sa.slice(0, -1), sb.at(-1)!]);
  }

  add2(a: string, b: string) {
    return this.add({ op: 'add' }, [a, b], broadcast(this.shapeOf(a), this.shapeOf(b)));
  }

  sub(a: string, b: string) {
    return this.add({ op: 'sub' }, [a, b], broadcast(this.shapeOf(a), this.shapeOf(b)));
  }

  mul(a: string, b: string) {
    return this.add({ op: 'mul' }, [a, b], broadcast(this.shapeOf(a), this.shapeOf(b)));
  }

  relu(x: string) {
    return this.add({ op: 'relu' }, [x], this.shapeOf(x));
  }

  hardswish(x: string) {
    return this.add({ op: 'hardswish' }, [x], this.shapeOf(x));
  }

  silu(x: string) {
    return this.add({ op: 'silu' }, [x], this.shapeOf(x));
  }

  sigmoid(x: string) {
    return this.add({ op: 'sigmoid' }, [x], this.shapeOf(x));
  }

  /** The exact (erf) GELU, as PyTorch's nn.GELU() default. */
  gelu(x: string) {
    return this.add({ op: 'gelu' }, [x], this.shapeOf(x));
  }

  /** LayerNorm over the last axis with (weight, bias). */
  layerNorm(x: string, weight: string, bias: string, eps: number) {
    const shape = this.shapeOf(x);
    for (const p of [weight, bias]) {
      if (this.shapeOf(p)[0] !== shape.at(-1)) fail(`layernorm: ${p} does not match ${String(shape.at(-1))} features`);
    }
    return this.add({ op: 'layernorm', eps }, [x, weight, bias], shape);
  }

  /** cat(tokens.expand(N, -1, -1), x) along the sequence: class and distillation tokens. */
  prependTokens(tokens: string, x: string) {
    const [, k, d] = this.shapeOf(tokens);
    const [n, l, dx] = this.shapeOf(x);
    if (d !== dx) fail(`prepend_tokens: tokens have ${String(d)} features, sequence ${String(dx)}`);
    return this.add({ op: 'prepend_tokens' }, [tokens, x], [n, (k as number) + (l as number), d]);
  }

  softmax(x: string, axis: number) {
    return this.add({ op: 'softmax', axis }, [x], this.shapeOf(x));
  }

  reshape(x: string, shape: Shape) {
    const count = (s: Shape) => s.reduce<number>((m, d) => m * (d === 'N' ? 1 : d), 1);
    if (count(shape) !== count(this.shapeOf(x))) {
      fail(`reshape: [${this.shapeOf(x).join(', ')}] cannot become [${shape.join(', ')}]`);
    }
    return this.add({ op: 'reshape', shape }, [x], shape);
  }

  transpose(x: string, perm: readonly number[]) {
    const s = this.shapeOf(x);
    return this.add(
      { op: 'transpose', perm },
      [x],
      perm.map((p) => s[p]),
    );
  }

  slice(x: string, axis: number, start: number, end: number, step = 1) {
    const s = [...this.shapeOf(x)];
    const size = s[axis] as number;
    s[axis] = Math.max(0, Math.ceil((Math.min(end, size) - start) / step));
    return this.add({ op: 'slice', axis, start, end, step }, [x], s);
  }

  split(x: string, axis: number, sizes: readonly number[]): string[] {
    const s = this.shapeOf(x);
    const total = sizes.reduce((a, b) => a + b, 0);
    if (s.at(axis) !== total) fail(`split: axis has ${String(s.at(axis))}, sizes add up to ${total}`);
    const at = axis < 0 ? s.length + axis : axis;
    const shapes = sizes.map((size) => s.map((d, i) => (i === at ? size : d)));
    return this.addMany({ op: 'split', axis, sizes }, [x], shapes);
  }

  mean(x: string, axes: readonly number[], keepdims = false) {
    const s = this.shapeOf(x);
    const norm = axes.map((a) => (a < 0 ? s.length + a : a));
    const out = s.flatMap((d, i) => (norm.includes(i) ? (keepdims ? [1] : []) : [d]));
    return this.add({ op: 'mean', axes, keepdims }, [x], out);
  }

  /** torch.cat along `axis`: every other dimension must agree. */
  concat(xs: readonly string[], axis: number) {
    const shapes = xs.map((x) => this.shapeOf(x));
    const at = axis < 0 ? shapes[0].length + axis : axis;
    for (const s of shapes) {
      if (s.length !== shapes[0].length || s.some((d, i) => i !== at && d !== shapes[0][i])) {
        fail(`concat: [${s.join(', ')}] does not fit [${shapes[0].join(', ')}] beside axis ${axis}`);
      }
    }
    const size = shapes.reduce((n, s) => n + (s[at] as number), 0);
    return this.add(
      { op: 'concat', axis },
      [...xs],
      shapes[0].map((d, i) => (i === at ? size : d)),
    );
  }

  /** Average pooling over NCHW with a square window and symmetric zero padding. */
  avgPool2d(x: string, o: { kernel: number; stride: number; pad: number; countIncludePad: boolean }) {
    const [n, c, h, w] = this.shapeOf(x);
    const out = (size: Dim) => Math.floor(((size as number) + 2 * o.pad - o.kernel) / o.stride) + 1;
    return this.add({ op: 'avgpool2d', ...o }, [x], [n, c, out(h), out(w)]);
  }

  l2Normalize(x: string, axis: number, eps = 1e-12) {
    return this.add({ op: 'l2normalize', axis, eps }, [x], this.shapeOf(x));
  }

  /** table[:, idxs]: per-head attention biases spread over (query, key) pairs. */
  gatherBias(table: string, idxs: string) {
    const [heads] = this.shapeOf(table);
    return this.add({ op: 'gather_bias' }, [table, idxs], [heads, ...this.shapeOf(idxs)]);
  }

  div(a: string, b: string) {
    return this.add({ op: 'div' }, [a, b], broadcast(this.shapeOf(a), this.shapeOf(b)));
  }

  pow(x: string, exponent: number) {
    return this.add({ op: 'pow', exponent }, [x], this.shapeOf(x));
  }

  log(x: string) {
    return this.add({ op: 'log' }, [x], this.shapeOf(x));
  }

  /** max or sum over one axis. */
  reduce(x: string, reduction: 'max' | 'sum', axis: number, keepdims = false) {
    const s = this.shapeOf(x);
    const at = axis < 0 ? s.length + axis : axis;
    return this.add(
      { op: 'reduce', reduction, axis, keepdims },
      [x],
      s.flatMap((d, i) => (i === at ? (keepdims ? [1] : []) : [d])),
    );
  }

  /** Index of the first maximum along `axis`, which is removed; float32. */
  argmax(x: string, axis: number) {
    const s = this.shapeOf(x);
    const at = axis < 0 ? s.length + axis : axis;
    return this.add(
      { op: 'argmax', axis },
      [x],
      s.filter((_, i) => i !== at),
    );
  }

  /** 1 where the relation holds, else 0 (float32), broadcast. */
  compare(a: string, b: string, relation: 'greater' | 'equal') {
    return this.add({ op: 'compare', relation }, [a, b], broadcast(this.shapeOf(a), this.shapeOf(b)));
  }

  cumsum(x: string, axis: number) {
    return this.add({ op: 'cumsum', axis }, [x], this.shapeOf(x));
  }

  /** Rows of x [N, L, C] (or [1, L, C], the same rows for every image) summed by group id ([N, L], float32) into [N, groups, C]. */
  segmentSum(x: string, ids: string, groups: number) {
    const [n, l, c] = this.shapeOf(x);
    const [ni, li] = this.shapeOf(ids);
    if (this.shapeOf(x).length !== 3 || li !== l || (n !== ni && n !== 1))
      fail(`segment_sum: ids [${this.shapeOf(ids).join(', ')}] do not label the rows of x`);
    return this.add({ op: 'segment_sum', groups }, [x, ids], [ni, groups, c]);
  }

  /** Rows of x [N, M, C] picked by ids [N, L] (float32): [N, L, C]. */
  gatherRows(x: string, ids: string) {
    const [n, , c] = this.shapeOf(x);
    const [ni, l] = this.shapeOf(ids);
    if (this.shapeOf(x).length !== 3 || this.shapeOf(ids).length !== 2 || ni !== n) fail(`gather_rows: ids [${this.shapeOf(ids).join(', ')}] do not fit x`);
    return this.add({ op: 'gather_rows' }, [x, ids], [n, l, c]);
  }

  private shapeOf(v: string): Shape {
    return this.graph.shape(v);
  }

  private add(attrs: OpAttrs, inputs: string[], shape: Shape): string {
    return this.addMany(attrs, inputs, [shape])[0];
  }

  private addMany(attrs: OpAttrs, inputs: string[], shapes: Shape[]): string[] {
    const name = `${[...this.scope, attrs.op].join('/')}_${this.counter++}`;
    const outputs = shapes.map((_, i) => (shapes.length === 1 ? name : `${name}:${i}`));
    outputs.forEach((o, i) => this.graph.shapes.set(o, shapes[i]));
    this.graph.nodes.push({ ...attrs, name, inputs, outputs } as Node);
    return outputs;
  }
}

function broadcast(a: Shape, b: Shape): Shape {
  const n = Math.max(a.length, b.length);
  const out: Dim[] = [];
  for (let i = 0; i < n; i++) {
    const da = a[a.length - n + i] ?? 1;
    const db = b[b.length - n + i] ?? 1;
    if (da !== db && da !== 1 && db !== 1) fail(`cannot broadcast [${a.join(', ')}] with [${b.join(', ')}]`);
    out.push(da === 1 ? db : da);
  }
  return out;
}
