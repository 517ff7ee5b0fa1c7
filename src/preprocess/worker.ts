import { parentPort } from 'node:worker_threads';
import sharp from 'sharp';
import type { Preprocessing } from '../models/card.js';
import { decodeRgb } from './decode.js';
import { evalTransformInto } from './transform.js';

/** A preprocessing worker: decodes and transforms one image per message, off the inference thread. */
export interface PreprocessRequest {
  id: number;
  file: string;
  preprocessing: Preprocessing;
}
export type PreprocessReply = { id: number; data: Float32Array } | { id: number; error: string };

// Parallelism comes from the pool: one libvips thread per worker keeps the cores for the model.
sharp.concurrency(1);

parentPort?.on('message', async (req: PreprocessRequest) => {
  try {
    const img = await decodeRgb(req.file);
    const r = req.preprocessing.resolution;
    const data = new Float32Array(3 * r * r);
    evalTransformInto(img, req.preprocessing, data, 0);
    parentPort!.postMessage({ id: req.id, data } satisfies PreprocessReply, [data.buffer]);
  } catch (e) {
    parentPort!.postMessage({ id: req.id, error: (e as Error).message } satisfies PreprocessReply);
  }
});
