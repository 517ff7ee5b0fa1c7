import { ExitCode, LevitError } from '../core/errors.js';
import { closest } from '../util/suggest.js';
import { BACKEND_IDS, type Backend, type BackendId, type BackendStatus } from './backend.js';
import { ortCpu, ortCuda, ortWebgpu } from './ort-node.js';
import { ortWasm } from './ort-web.js';
import { tfjsCpu, tfjsNode, tfjsWasm } from './tfjs.js';

const backends: Record<BackendId, Backend> = {
  'ort-cpu': ortCpu,
  'ort-webgpu': ortWebgpu,
  'ort-cuda': ortCuda,
  'ort-wasm': ortWasm,
  'tfjs-node': tfjsNode,
  'tfjs-wasm': tfjsWasm,
  'tfjs-cpu': tfjsCpu,
};

export function isBackendId(id: string): id is BackendId {
  return (BACKEND_IDS as readonly string[]).includes(id);
}

export function getBackend(id: string): Backend {
  if (!isBackendId(id)) {
    const guess = closest(id, BACKEND_IDS);
    const batch = /^\d+$/.test(id) ? `-b is --backend in levit (as in levit bench); the batch size is --batch ${id}. ` : '';
    const hint = `${batch}${guess ? `Did you mean ${guess}? ` : ''}Backends: ${BACKEND_IDS.join(', ')} (levit backends shows which run here)`;
    throw new LevitError(`unknown backend ${id}`, ExitCode.usage, hint);
  }
  return backends[id];
}

/**
 * A backend that can run here with its status (probed once), or an error that says why not and what to do.
 * `threads`: the thread count to start a runtime with that fixes it when it starts.
 */
export async function requireBackend(id: string, threads = 0): Promise<{ backend: Backend; status: BackendStatus }> {
  const backend = getBackend(id);
  const status = await backend.probe(threads);
  if (!status.available) throw new LevitError(`backend ${id} is not available here: ${status.reason}`, ExitCode.unavailable);
  return { backend, status };
}

/** Every backend's status, probed one after the other (some start native runtimes). */
export async function probeAll(): Promise<BackendStatus[]> {
  const out: BackendStatus[] = [];
  for (const id of BACKEND_IDS) out.push(await backends[id].probe());
  return out;
}
