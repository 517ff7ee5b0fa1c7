import type { OnnxModel, OnnxNode } from './model.js';

/** The nodes reading each value, in graph order. */
export function readersOf(model: OnnxModel): Map<string, OnnxNode[]> {
  const readers = new Map<string, OnnxNode[]>();
  for (const n of model.nodes) for (const i of n.inputs) readers.set(i, [...(readers.get(i) ?? []), n]);
  return readers;
}

/** The node producing each value. */
export function producersOf(model: OnnxModel): Map<string, OnnxNode> {
  return new Map(model.nodes.flatMap((n) => n.outputs.map((o) => [o, n] as const)));
}
