import { type FloatTensor, asFloat, floatTensor, numel, toIntArray } from '../core/tensor.js';
import { batchNormAffine } from './arithmetic.js';
import { evaluateConstantNode } from './evaluate-constants.js';
import type { Graph, Node } from './graph.js';

/**
 * Rewrites that turn the reference graph into the inference graph. Each is exact in real
 * arithmetic; in float32 they move logits by ~1e-6.
 */
export function optimizeForInference(graph: Graph): Graph {
  foldConstantNodes(graph);
  foldBatchNorms(graph);
  foldConstantAttentionBiases(graph);
  mergeSummedLinears(graph);
  foldScalesIntoProducers(graph);
  graph.pruneInitializers();
  return graph;
}

const onlyConsumer = (graph: Graph, value: string, node: Node) => {
  const users = graph.consumers(value);
  return users.length === 1 && users[0] === node && !graph.outputs.includes(value);
};

const isParametrised = (graph: Graph, n: Node | undefined): n is Node & { op: 'conv2d' | 'linear' } =>
  !!n && (n.op === 'conv2d' || n.op === 'linear') && n.inputs.slice(1).every((i) => graph.isInitializer(i));

function setWeights(graph: Graph, node: Node, weight: FloatTensor, bias: FloatTensor): void {
  const w = graph.addInitializer(graph.freshName(`${node.name}.weight`), weight, 'constant');
  const b = graph.addInitializer(graph.freshName(`${node.name}.bias`), bias, 'constant');
  node.inputs = [node.inputs[0], w, b];
}

function biasOf(graph: Graph, node: Node, outChannels: number): Float32Array {
  return node.inputs[2] ? asFloat(graph.tensor(node.inputs[2]), node.inputs[2]).data : new Float32Array(outChannels);
}

/** BatchNorm after a convolution or linear layer, or before the linear layers it feeds. */
export function foldBatchNorms(graph: Graph): void {
  for (const bn of graph.nodes.filter((n): n is Node & { op: 'batchnorm' } => n.op === 'batchnorm')) {
    const rank = graph.shape(bn.inputs[0]).length;
    const axis = bn.axis < 0 ? rank + bn.axis : bn.axis;
    const producer = graph.producer(bn.inputs[0]);
    const { scale, shift } = batchNormAffine(graph, bn);
    const channelAxisOk = producer?.op === 'conv2d' ? axis === 1 : axis === rank - 1;
    if (isParametrised(graph, producer) && channelAxisOk && onlyConsumer(graph, bn.inputs[0], bn)) {
      foldAfter(graph, producer, scale, shift);
      graph.removeNode(bn);
      graph.rewire(bn.outputs[0], producer.outputs[0]);
      continue;
    }
    const users = graph.consumers(bn.outputs[0]);
    if (axis === rank - 1 && users.length > 0 && users.every((u) => u.op === 'linear' && isParametrised(graph, u))) {
      for (const u of users) foldBefore(graph, u, scale, shift);
      graph.removeNode(bn);
      graph.rewire(bn.outputs[0], bn.inputs[0]);
    }
  }
}

/** W' = W * scale[out], b' = b * scale + shift. */
function foldAfter(graph: Graph, node: Node, scale: Float32Array, shift: Float32Array): void {
  const weight = asFloat(graph.tensor(node.inputs[1]), node.inputs[1]);
  const outC = weight.shape[0];
  const per = numel(weight.shape) / outC;
  const w = new Float32Array(weight.data.length);
  for (let o = 0; o < outC; o++) for (let i = 0; i < per; i++) w[o * per + i] = weight.data[o * per + i] * scale[o];
  const bias = biasOf(graph, node, outC);
  const b = new Float32Array(outC);
  for (let o = 0; o < outC; o++) b[o] = bias[o] * scale[o] + shift[o];
  setWeights(graph, node, floatTensor(weight.shape, w), floatTensor([outC], b));
}

/** Linear of (x * scale + shift): W' = W * scale[in], b' = b + W shift. */
function foldBefore(graph: Graph, node: Node, scale: Float32Array, shift: Float32Array): void {
  const weight = asFloat(graph.tensor(node.inputs[1]), node.inputs[1]);
  const [outF, inF] = weight.shape;
  const bias = biasOf(graph, node, outF);
  const w = new Float32Array(weight.data.length);
  const b = new Float32Array(outF);
  for (let o = 0; o < outF; o++) {
    let acc = bias[o];
    for (let i = 0; i < inF; i++) {
      w[o * inF + i] = weight.data[o * inF + i] * scale[i];
      acc += weight.data[o * inF + i] * shift[i];
    }
    b[o] = acc;
  }
  setWeights(graph, node, floatTensor(weight.shape, w), floatTensor([outF], b));
}

/** Nodes that read initializers only (e.g. a projection of a fixed positional encoding) become constants. */
export function foldConstantNodes(graph: Graph): void {
  for (const node of [...graph.nodes]) {
    if (!node.inputs.every((v) => graph.isInitializer(v)) || node.outputs.some((v) => graph.outputs.includes(v))) continue;
    const value = evaluateConstantNode(graph, node);
    if (!value) continue;
    graph.removeNode(node);
    const name = graph.addInitializer(graph.freshName(`${node.name}.value`), value, 'constant');
    graph.rewire(node.outputs[0], name);
  }
}

/** table[:, idxs] computed once: the attention biases are constants at inference. */
export function foldConstantAttentionBiases(graph: Graph): void {
  for (const node of graph.nodes.filter((n) => n.op === 'gather_bias')) {
    const [tableName, idxName] = node.inputs;
    if (!graph.isInitializer(tableName) || !graph.isInitializer(idxName)) continue;
    const table = asFloat(graph.tensor(tableName), tableName);
    const idxs = toIntArray(graph.tensor(idxName));
    const [heads, offsets] = table.shape;
    const out = new Float32Array(heads * idxs.length);
    for (let h = 0; h < heads; h++) {
      for (let i = 0; i < idxs.length; i++) out[h * idxs.length + i] = table.data[h * offsets + idxs[i]];
    }
    graph.removeNode(node);
    const name = `${node.name}.table`;
    graph.addInitializer(name, floatTensor(graph.shape(node.outputs[0]) as number[], out), 'constant');
    graph.rewire(node.outputs[0], name);
  }
}

/** linear_a(x) + linear_b(x) -> one linear with summed weights (e.g. LeViT's two heads). */
export function mergeSummedLinears(graph: Graph): void {
  for (const add of graph.nodes.filter((n) => n.op === 'add')) {
    const [pa, pb] = add.inputs.map((v) => graph.producer(v));
    if (!isParametrised(graph, pa) || !isParametrised(graph, pb) || pa.op !== 'linear' || pb.op !== 'linear') continue;
    if (pa.inputs[0] !== pb.inputs[0] || !onlyConsumer(graph, pa.outputs[0], add) || !onlyConsumer(graph, pb.outputs[0], add)) continue;
    const wa = asFloat(graph.tensor(pa.inputs[1]), pa.inputs[1]);
    const wb = asFloat(graph.tensor(pb.inputs[1]), pb.inputs[1]);
    const outF = wa.shape[0];
    const [ba, bb] = [biasOf(graph, pa, outF), biasOf(graph, pb, outF)];
    setWeights(
      graph,
      pa,
      floatTensor(
        wa.shape,
        wa.data.map((v, i) => v + wb.data[i]),
      ),
      floatTensor(
        [outF],
        ba.map((v, i) => v + bb[i]),
      ),
    );
    graph.removeNode(pb);
    graph.removeNode(add);
    graph.rewire(add.outputs[0], pa.outputs[0]);
  }
}

/**
 * linear(x) * c and conv(x) * c -> one layer with W*c, b*c, for a constant c that is a scalar or
 * one value per output channel (LayerScale's gamma, a distilled model's averaging 0.5).
 */
export function foldScalesIntoProducers(graph: Graph): void {
  for (const mul of graph.nodes.filter((n) => n.op === 'mul')) {
    const constant = mul.inputs.find((v) => graph.isInitializer(v));
    const other = mul.inputs.find((v) => v !== constant);
    const producer = other ? graph.producer(other) : undefined;
    if (!constant || !other || !isParametrised(graph, producer) || !onlyConsumer(graph, other, mul)) continue;
    const outC = graph.shape(producer.inputs[1])[0] as number;
    const scale = perOutputChannel(graph.shape(constant) as number[], producer.op, outC);
    if (!scale) continue;
    const c = asFloat(graph.tensor(constant), constant).data;
    const channelScale = scale === 'scalar' ? new Float32Array(outC).fill(c[0]) : c;
    foldAfter(graph, producer, channelScale, new Float32Array(outC));
    graph.removeNode(mul);
    graph.rewire(mul.outputs[0], other);
  }
}

/** Whether a constant of this shape scales a layer's output uniformly or per output channel, without broadcasting it wider. */
function perOutputChannel(shape: number[], op: 'conv2d' | 'linear', outC: number): 'scalar' | 'channels' | undefined {
  if (numel(shape) === 1) return 'scalar';
  const dims = shape.filter((d, i) => d !== 1 || i >= shape.length - (op === 'conv2d' ? 3 : 1));
  const channels = op === 'conv2d' ? [outC, 1, 1] : [outC];
  return dims.length === channels.length && dims.every((d, i) => d === channels[i]) ? 'channels' : undefined;
}
