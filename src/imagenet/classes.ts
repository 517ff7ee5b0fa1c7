import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { zooDir } from '../util/paths.js';

export interface ImageNetClass {
  index: number;
  wnid: string;
  /** The first of its names, e.g. "tench". */
  name: string;
  names: string;
}

let classes: ImageNetClass[] | undefined;

/** The 1000 ImageNet-1k classes in output order (sorted WordNet ids). */
export function imagenetClasses(): ImageNetClass[] {
  classes ??= readFileSync(join(zooDir, 'imagenet', 'classes.tsv'), 'utf8')
    .split('\n')
    .filter(Boolean)
    .map((line, index) => {
      const [wnid, names] = line.split('\t');
      return { index, wnid, name: names.split(',')[0].trim(), names };
    });
  if (classes.length !== 1000) throw new Error(`zoo/imagenet/classes.tsv lists ${classes.length} classes, not 1000`);
  return classes;
}

export interface Prediction {
  index: number;
  wnid: string;
  name: string;
  probability: number;
}

/** Softmax over one row of logits, then the k most probable classes. */
export function topK(logits: Float32Array, k: number): Prediction[] {
  let max = -Infinity;
  for (const v of logits) max = Math.max(max, v);
  let sum = 0;
  const exp = logits.map((v) => {
    const e = Math.exp(v - max);
    sum += e;
    return e;
  });
  const order = Array.from(exp.keys())
    .sort((a, b) => exp[b] - exp[a])
    .slice(0, k);
  const names = imagenetClasses();
  return order.map((i) => ({ index: i, wnid: names[i].wnid, name: names[i].name, probability: exp[i] / sum }));
}
