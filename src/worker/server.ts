import { createInterface } from 'node:readline';
import type { Readable, Writable } from 'node:stream';
import { type Arm, sessionArmOf } from '../bench/arms.js';
import { openBackends, planSessions } from '../bench/configurations.js';
import { packageVersion } from '../util/paths.js';
import { defaultDownloadOptions } from '../download/checkpoints.js';
import type { InferenceSession } from '../runtime/backend.js';
import { LevitError } from '../core/errors.js';

/**
 * A bench worker: a long-lived process of one levit checkout that loads configurations and times
 * batches on request, so that a coordinator (compare/live.ts) can interleave two checkouts, two
 * ONNX files or two runtime versions in one set of rounds. It speaks JSON lines on stdin/stdout:
 *
 *   {"op":"hello"}                                   -> {"ok":true,"protocol":1,"levit_version":...,"backends":{...}}
 *   {"op":"load","id":"a","model":"levit_128s","backend":"ort-cpu","threads":1,"batch":16,"onnx"?:PATH,"allow_int8_saturation"?:true}
 *                                                    -> {"ok":true,"label":...,"weights":...,"warnings"?:[...]}
 *   {"op":"run","id":"a","batches":4}                -> {"ok":true,"times_ms":[...]}
 *   {"op":"quit"}                                    -> exits
 * Any failure answers {"ok":false,"error":MESSAGE}. Only the batches are timed, here, where they run;
 * the messages around them are not. The protocol number changes when a message changes meaning.
 */
export const WORKER_PROTOCOL = 1;

export type WorkerRequest = { op: 'hello' } | ({ op: 'load'; id: string } & LoadRequest) | { op: 'run'; id: string; batches: number } | { op: 'quit' };

export interface LoadRequest {
  model: string;
  backend: string;
  threads: number;
  batch: number;
  /** Time this ONNX file as the model (its input contract) instead of levit's own artifact. */
  onnx?: string;
  /** Time an int8 file whose products saturate here (refused otherwise: classifier/int8-form.ts). */
  allow_int8_saturation?: boolean;
}

/** Loads one configuration with synthetic weights (speed does not depend on their values): the arm and what it runs. */
async function load(r: LoadRequest): Promise<{ arm: Arm; session: InferenceSession; weights: string; warnings: string[] }> {
  const plan = {
    models: [r.model],
    backends: [r.backend],
    threads: [r.threads],
    batches: [r.batch],
    weights: { kind: 'synthetic' as const, seed: 0 },
    download: defaultDownloadOptions(),
    externalOnnx: r.onnx,
    allowInt8Saturation: r.allow_int8_saturation,
  };
  const { sessions, warnings } = await planSessions(plan, await openBackends(plan));
  const [s] = sessions;
  const session = await s.backend.load(s.artifact.path, { threads: s.threads });
  if (session.threads !== s.threads) {
    await session.release();
    throw new Error(`${s.backend.id} runs ${session.threads} threads here, not ${s.threads}`);
  }
  return { arm: sessionArmOf(s, session, r.batch), session, weights: s.artifact.weights.id, warnings };
}

/** Serves requests until quit or the end of input; every configuration is released on the way out. */
export async function serveWorker(input: Readable, output: Writable): Promise<void> {
  const loaded = new Map<string, { arm: Arm; session: InferenceSession }>();
  const reply = (o: object) => output.write(`${JSON.stringify(o)}\n`);
  try {
    for await (const line of createInterface({ input, crlfDelay: Infinity })) {
      if (!line.trim()) continue;
      let request: WorkerRequest;
      try {
        request = JSON.parse(line) as WorkerRequest;
      } catch {
        reply({ ok: false, error: 'not a JSON line' });
        continue;
      }
      if (request.op === 'quit') break;
      try {
        if (request.op === 'hello') {
          reply({ ok: true, protocol: WORKER_PROTOCOL, levit_version: packageVersion, node: process.version });
        } else if (request.op === 'load') {
          const l = await load(request);
          loaded.get(request.id)?.session.release();
          loaded.set(request.id, l);
          reply({ ok: true, label: l.arm.key, weights: l.weights, ...(l.warnings.length ? { warnings: l.warnings } : {}) });
        } else if (request.op === 'run') {
          const l = loaded.get(request.id);
          if (!l) throw new Error(`no configuration '${request.id}' is loaded`);
          await l.arm.prepare?.();
          reply({ ok: true, times_ms: await l.arm.slice(request.batches) });
        } else {
          throw new Error(`unknown op ${JSON.stringify((request as { op: unknown }).op)}`);
        }
      } catch (e) {
        // A refusal's exit code and hint travel along (compare exits as bench would: 5 for an artifact that cannot run exactly here).
        const refusal = e instanceof LevitError ? { exit_code: e.exitCode, ...(e.hint ? { hint: e.hint } : {}) } : {};
        reply({ ok: false, error: (e as Error).message.split('\n')[0], ...refusal });
      }
    }
  } finally {
    for (const l of loaded.values()) await l.session.release();
  }
}
