import { numel } from '../core/tensor.js';
import { type Graph, type Node, elementsPerImage } from './graph.js';

/** Trainable parameters: the initializers PyTorch's model.parameters() would yield. */
export function countParams(graph: Graph): number {
  let total = 0;
  for (const init of graph.initializers.values()) if (init.role === 'param') total += numel(init.tensor.shape);
  return total;
}

/**
 * Multiply-adds for one image, counted as the official LeViT code counts its FLOPs:
 * convolutions, linear layers and activation products by their multiply-adds, softmax by its
 * elements; normalisation, activations, additions and data movement are free. Work on constants
 * (e.g. a positional attention that depends only on the resolution) is done once, not per image.
 */
export function countFlops(graph: Graph): number {
  const perImage = inputDependent(graph);
  let total = 0;
  for (const node of graph.nodes) if (node.outputs.some((o) => perImage.has(o))) total += nodeFlops(graph, node);
  return total;
}

/** Values computed from the graph's input; the rest depends on weights and resolution only, computed once. */
function inputDependent(graph: Graph): Set<string> {
  const values = new Set(graph.inputs);
  for (const node of graph.nodes) if (node.inputs.some((v) => values.has(v))) for (const o of node.outputs) values.add(o);
  return values;
}

function nodeFlops(graph: Graph, node: Node): number {
  const out = () => elementsPerImage(graph.shape(node.outputs[0]));
  switch (node.op) {
    case 'conv2d': {
      const [, cinPerGroup, kh, kw] = graph.shape(node.inputs[1]) as number[];
      return out() * cinPerGroup * kh * kw;
    }
    case 'linear':
      return out() * (graph.shape(node.inputs[1])[1] as number);
    case 'matmul':
      return out() * (graph.shape(node.inputs[0]).at(-1) as number);
    case 'softmax':
      return out();
    default:
      return 0;
  }
}
