import { parentPort } from 'node:worker_threads';

/** A preprocessing worker that dies on its first request: by an uncaught error for file 'throw', else by exiting. */
parentPort?.on('message', (req: { file: string }) => {
  if (req.file === 'throw') throw new Error('boom');
  process.exit(7);
});
