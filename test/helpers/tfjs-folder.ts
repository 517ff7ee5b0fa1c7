import { createHash } from 'node:crypto';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import type { DirFile } from '../../src/util/atomic.js';

/** A stand-in TF.js graph-model folder of version `v`: model.json naming two shards, named as levit names them (by their bytes). */
export function tfjsFiles(v: number): DirFile[] {
  const shards = [1, 2].map((i) => {
    const data = Buffer.alloc(4096 * i, v * 16 + i);
    const tag = createHash('sha256').update(data).digest('hex').slice(0, 10);
    return { name: `group1-shard${i}of2.${tag}.bin`, data };
  });
  const index = { version: v, weightsManifest: [{ paths: shards.map((s) => s.name), weights: [] }] };
  return [{ name: 'model.json', data: JSON.stringify(index) }, ...shards];
}

/**
 * What any reader sees (a stock tf.loadGraphModel reads model.json, then every shard it names):
 * the version whole, or null when there is no model.json. Throws when the folder is half of one.
 */
export function readTfjsFolder(dir: string): number | null {
  if (!existsSync(join(dir, 'model.json'))) return null;
  const index = JSON.parse(readFileSync(join(dir, 'model.json'), 'utf8')) as { version: number; weightsManifest: { paths: string[] }[] };
  const expected = tfjsFiles(index.version);
  for (const path of index.weightsManifest[0].paths) {
    const want = expected.find((f) => f.name === path);
    if (!want || !readFileSync(join(dir, path)).equals(want.data as Buffer)) throw new Error(`${path} is not version ${index.version}'s`);
  }
  return index.version;
}

export const folderNames = (dir: string) => (existsSync(dir) ? readdirSync(dir).sort() : []);
