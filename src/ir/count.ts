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
 * elements; normalisation, activations, additions and data movement are free.
 */
export function countFlops(graph: Graph): number {
  let total = 0;
  for (const node of graph.nodes) total += nodeFlops(graph, node);
  return total;
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
