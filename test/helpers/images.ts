import { mkdirSync } from 'node:fs';
import { join } from 'node:path';
import sharp from 'sharp';
import { imagenetClasses } from '../../src/imagenet/classes.js';

/**
 * An ImageFolder of `count` small JPEGs (flat colours, 64×48), spread over the first classes:
 * enough for eval to run on synthetic weights without ../shared.
 */
export async function smallImageFolder(dir: string, count: number, classes = 4): Promise<string> {
  const root = join(dir, 'val');
  const wnids = imagenetClasses().map((c) => c.wnid);
  for (let i = 0; i < count; i++) {
    const folder = join(root, wnids[i % classes]);
    mkdirSync(folder, { recursive: true });
    const background = { r: (i * 37) % 256, g: (i * 91) % 256, b: (i * 53) % 256 };
    await sharp({ create: { width: 64, height: 48, channels: 3, background } })
      .jpeg()
      .toFile(join(folder, `img${String(i).padStart(4, '0')}.JPEG`));
  }
  return root;
}
