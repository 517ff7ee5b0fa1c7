import { type ChildProcessWithoutNullStreams, spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { createInterface } from 'node:readline';
import { ExitCode, LevitError } from '../core/errors.js';
import { WORKER_PROTOCOL, type WorkerRequest } from './server.js';

/**
 * A bench worker of one levit checkout, run as a child process (server.ts speaks the protocol).
 * Each worker gets its own artifact cache, so that two checkouts never share a graph built by the
 * other's code; it is removed when the worker closes.
 */
export class WorkerClient {
  private readonly replies: ((line: string) => void)[] = [];
  private stderrTail = '';
  private exited: string | null = null;

  private constructor(
    readonly root: string,
    private readonly child: ChildProcessWithoutNullStreams,
    private readonly cache: string,
  ) {
    createInterface({ input: child.stdout, crlfDelay: Infinity }).on('line', (line) => this.replies.shift()?.(line));
    child.stderr.on('data', (d: Buffer) => (this.stderrTail = (this.stderrTail + d.toString()).slice(-2000)));
    child.on('exit', (code, signal) => {
      this.exited = `exited (${signal ?? `code ${code}`})`;
      for (const r of this.replies.splice(0)) r('');
    });
  }

  /** Starts the worker of the checkout at `root` (behind `prefix`, e.g. taskset) and checks that it speaks this protocol. */
  static async start(root: string, prefix: readonly string[] = []): Promise<WorkerClient> {
    const bin = join(root, 'bin', 'run.js');
    if (!existsSync(bin)) {
      throw new LevitError(
        `${root} is not a levit checkout (no bin/run.js)`,
        ExitCode.notFound,
        'Name a levit checkout (with npm ci run in it), or an .onnx file.',
      );
    }
    const cache = mkdtempSync(join(tmpdir(), 'levit-worker-'));
    // Where this Node runs under qemu-user (scripts/arm64, scripts/x86-avx2 set LEVIT_EMULATOR), its workers must too: qemu starts children natively.
    const emulator = (process.env.LEVIT_EMULATOR ?? '').split(' ').filter(Boolean);
    const [command, ...args] = [...prefix, ...emulator, process.execPath, bin, 'bench-worker'];
    const child = spawn(command, args, { cwd: root, env: { ...process.env, LEVIT_CACHE_DIR: cache }, stdio: 'pipe' });
    const client = new WorkerClient(root, child, cache);
    const hello = await client.request({ op: 'hello' }).catch((e: Error) => {
      throw new LevitError(
        `the levit at ${root} did not start a bench worker: ${e.message}`,
        ExitCode.unavailable,
        'An older levit has no worker: bench it with levit bench --out FILE and compare the files instead; or run npm ci there.',
      );
    });
    if (hello.protocol !== WORKER_PROTOCOL) {
      await client.close();
      throw new LevitError(`the levit at ${root} speaks worker protocol ${String(hello.protocol)}, this one ${WORKER_PROTOCOL}`, ExitCode.unavailable);
    }
    return client;
  }

  /** One request, one reply; a failure the worker reports becomes an error with its message. */
  request(r: WorkerRequest): Promise<Record<string, unknown>> {
    if (this.exited) return Promise.reject(new Error(`the worker ${this.exited}${this.lastWords()}`));
    return new Promise((resolve, reject) => {
      this.replies.push((line) => {
        let reply: Record<string, unknown>;
        try {
          reply = JSON.parse(line);
        } catch {
          return reject(
            new Error(line ? `the worker answered ${JSON.stringify(line.slice(0, 200))}` : `the worker ${this.exited ?? 'closed'}${this.lastWords()}`),
          );
        }
        if (reply.ok === true) resolve(reply);
        else reject(workerError(reply));
      });
      this.child.stdin.write(`${JSON.stringify(r)}\n`);
    });
  }

  private lastWords(): string {
    const tail = this.stderrTail.trim().split('\n').slice(-2).join(' / ');
    return tail ? `: ${tail}` : '';
  }

  async close(): Promise<void> {
    if (!this.exited) {
      const gone = new Promise((r) => this.child.once('exit', r));
      this.child.stdin.end(`${JSON.stringify({ op: 'quit' })}\n`);
      const timer = setTimeout(() => this.child.kill('SIGKILL'), 10_000);
      await gone;
      clearTimeout(timer);
    }
    rmSync(this.cache, { recursive: true, force: true });
  }
}

/** A failure the worker reports: a LevitError with its exit code and hint where the worker sent them (a refused artifact: 5), else a plain error. */
function workerError(reply: Record<string, unknown>): Error {
  const message = String(reply.error);
  const code = reply.exit_code;
  if (typeof code !== 'number' || !(Object.values(ExitCode) as number[]).includes(code)) return new Error(message);
  return new LevitError(message, code as ExitCode, typeof reply.hint === 'string' ? reply.hint : undefined);
}
