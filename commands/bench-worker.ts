import { LevitCommand } from '../src/cli/base.js';
import { WORKER_PROTOCOL, serveWorker } from '../src/worker/server.js';
import { prose } from '../src/cli/prose.js';

export default class BenchWorker extends LevitCommand {
  static override hidden = true;
  static override enableJsonFlag = false;
  static override summary = 'Serve bench requests as JSON lines on stdin/stdout (used by levit compare to interleave two checkouts).';
  static override description = prose(`Protocol ${WORKER_PROTOCOL}, described in src/worker/server.ts. Not for people: levit compare
starts one of these in each checkout it compares and times their batches in interleaved rounds.`);

  async run(): Promise<void> {
    await this.parse(BenchWorker);
    await serveWorker(process.stdin, process.stdout);
    // After quit, stdin may still be open (the coordinator keeps its end): stop reading it, so that the process ends.
    process.stdin.destroy();
  }
}
