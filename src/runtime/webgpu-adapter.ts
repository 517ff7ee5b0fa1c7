import { execFile } from 'node:child_process';
import { createRequire } from 'node:module';
import { pathToFileURL } from 'node:url';

const require = createRequire(import.meta.url);

/**
 * onnxruntime-node does not say which WebGPU adapter its provider took. Its provider asks Dawn for a
 * high-performance adapter of the platform's backend (Vulkan on Linux); the optional `webgpu` package (Dawn
 * for Node) makes the same request and reads the adapter's name. It runs in a child process: two Dawn builds
 * in one process are not something either package promises to support, and a hung driver cannot hang levit.
 */
const QUERY = `
const { create } = await import(process.argv[1]);
const adapter = await create([]).requestAdapter({ powerPreference: 'high-performance' });
const i = adapter?.info;
process.stdout.write(JSON.stringify(i ? { vendor: i.vendor, architecture: i.architecture, device: i.device, description: i.description } : null));
process.exit(0);
`;

export interface AdapterInfo {
  vendor: string;
  architecture: string;
  device: string;
  description: string;
}

/** How the record's `device` names an adapter: its description (the driver's name for it), then vendor and architecture. */
export function adapterLabel(info: AdapterInfo): string {
  const name = info.description.trim() || info.device.trim() || 'unnamed adapter';
  const detail = [info.vendor, info.architecture]
    .map((s) => s.trim())
    .filter(Boolean)
    .join(' ');
  return `${name}${detail ? ` (${detail})` : ''}`;
}

/** The adapter a high-performance WebGPU request gets here, or null when the `webgpu` package is absent or finds none. */
export function queryAdapter(timeoutMs = 30_000): Promise<AdapterInfo | null> {
  let entry: string;
  try {
    entry = pathToFileURL(require.resolve('webgpu')).href;
  } catch {
    return Promise.resolve(null);
  }
  return new Promise((resolve) => {
    execFile(process.execPath, ['--input-type=module', '-e', QUERY, entry], { timeout: timeoutMs, env: process.env }, (error, stdout) => {
      if (error) return resolve(null);
      try {
        resolve(JSON.parse(stdout) as AdapterInfo | null);
      } catch {
        resolve(null);
      }
    });
  });
}
