import { Worker } from 'node:worker_threads';
import type { Preprocessing } from '../models/card.js';
import type { PreprocessReply, PreprocessRequest } from './worker.js';

/** Worker threads that decode and preprocess images while the main thread runs the model. */
export class PreprocessPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, (r: PreprocessReply) => void>();
  private next = 0;
  private turn = 0;

  constructor(size: number) {
    const script = new URL('./worker.js', import.meta.url);
    this.workers = Array.from({ length: Math.max(1, size) }, () => {
      const w = new Worker(script);
      w.on('message', (r: PreprocessReply) => {
        this.pending.get(r.id)?.(r);
        this.pending.delete(r.id);
      });
      return w;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  preprocess(file: string, preprocessing: Preprocessing): Promise<PreprocessReply> {
    const id = this.next++;
    const worker = this.workers[this.turn++ % this.workers.length];
    return new Promise((resolve) => {
      this.pending.set(id, resolve);
      worker.postMessage({ id, file, preprocessing } satisfies PreprocessRequest);
    });
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((w) => w.terminate()));
  }
}
