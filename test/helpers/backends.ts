import type { BackendStatus } from '../../src/runtime/backend.js';

/**
 * CI installs lavapipe and sets LEVIT_REQUIRE_WEBGPU=1 (.ci/run), so that a broken WebGPU setup
 * fails there; on any other machine a test needing a backend that does not run here skips, saying why.
 */
export const webgpuRequired = process.env.LEVIT_REQUIRE_WEBGPU === '1';

/** Whether a test of `status`'s backend must run anyway: ort-webgpu where CI requires it. */
export const mustRun = (id: string): boolean => id === 'ort-webgpu' && webgpuRequired;

/** A test's skip reason for a backend: false when it runs here (or must run), else why it cannot. */
export function skipUnlessRuns(status: Pick<BackendStatus, 'id' | 'available' | 'reason'> | undefined, id = status?.id ?? ''): string | false {
  if (status?.available || mustRun(id)) return false;
  return `${id} is not available here${status?.reason ? `: ${status.reason.split('. ')[0]}` : ''}`;
}
