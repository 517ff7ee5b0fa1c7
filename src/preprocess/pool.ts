import { Worker } from 'node:worker_threads';
import { ExitCode, LevitError } from '../core/errors.js';
import type { Preprocessing } from '../models/card.js';
import type { PreprocessReply, PreprocessRequest } from './worker.js';

interface Pending {
  worker: Worker;
  resolve: (r: PreprocessReply) => void;
  reject: (e: Error) => void;
}

/**
 * Worker threads that decode and preprocess images while the main thread runs the model. A worker
 * that dies (an uncaught error, out of memory, killed) fails what it was given and every later
 * request, instead of leaving them waiting forever.
 */
export class PreprocessPool {
  private readonly workers: Worker[];
  private readonly pending = new Map<number, Pending>();
  private next = 0;
  private turn = 0;
  private closing = false;
  private dead: LevitError | undefined;

  /** `script` is the worker module; tests give another one to exercise a dying worker. */
  constructor(size: number, script: URL = new URL('./worker.js', import.meta.url)) {
    this.workers = Array.from({ length: Math.max(1, size) }, () => {
      const w = new Worker(script);
      w.on('message', (r: PreprocessReply) => {
        this.pending.get(r.id)?.resolve(r);
        this.pending.delete(r.id);
      });
      w.on('error', (e) => this.fail(w, `failed: ${e.message}`));
      w.on('exit', (code) => this.fail(w, `exited with code ${code}`));
      return w;
    });
  }

  get size(): number {
    return this.workers.length;
  }

  preprocess(file: string, preprocessing: Preprocessing): Promise<PreprocessReply> {
    if (this.dead) return Promise.reject(this.dead);
    const id = this.next++;
    const worker = this.workers[this.turn++ % this.workers.length];
    const reply = new Promise<PreprocessReply>((resolve, reject) => {
      this.pending.set(id, { worker, resolve, reject });
      worker.postMessage({ id, file, preprocessing } satisfies PreprocessRequest);
    });
    // Callers await replies in order: one that fails while an earlier one is awaited must not crash the process.
    reply.catch(() => {});
    return reply;
  }

  async close(): Promise<void> {
    this.closing = true;
    await Promise.all(this.workers.map((w) => w.terminate()));
  }

  private fail(worker: Worker, how: string): void {
    if (this.closing) return;
    const hint = 'run again; if it recurs, try --workers 1 and report the image it stopped at';
    this.dead ??= new LevitError(`a preprocessing worker ${how}`, ExitCode.failure, hint);
    for (const [id, p] of this.pending) {
      if (p.worker !== worker) continue;
      p.reject(this.dead);
      this.pending.delete(id);
    }
  }
}
