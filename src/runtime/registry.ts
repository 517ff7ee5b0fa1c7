import { ExitCode, LevitError } from '../util/errors.js';
import { BACKEND_IDS, type Backend, type BackendId, type BackendStatus } from './backend.js';
import { ortCpu } from './ort-node.js';

const backends: Partial<Record<BackendId, Backend>> = {
  'ort-cpu': ortCpu,
};

export function isBackendId(id: string): id is BackendId {
  return (BACKEND_IDS as readonly string[]).includes(id);
}

export function getBackend(id: string): Backend {
  if (!isBackendId(id)) {
    throw new LevitError(`unknown backend ${id}`, ExitCode.usage, `Backends: ${BACKEND_IDS.join(', ')} (levit backends shows which run here)`);
  }
  const backend = backends[id];
  if (!backend) throw new LevitError(`backend ${id} is not built into this version of levit`, ExitCode.unavailable);
  return backend;
}

/** A backend that can run here, or an error that says why not and what to do. */
export async function requireBackend(id: string): Promise<Backend> {
  const backend = getBackend(id);
  const status = await backend.probe();
  if (!status.available) throw new LevitError(`backend ${id} is not available here: ${status.reason}`, ExitCode.unavailable);
  return backend;
}

export async function probeAll(): Promise<BackendStatus[]> {
  return Promise.all(BACKEND_IDS.map((id) => backends[id]?.probe() ?? unbuilt(id)));
}

async function unbuilt(id: BackendId): Promise<BackendStatus> {
  return { id, artifact: 'onnx', available: false, version: null, device: null, reason: 'not built into this version' };
}
