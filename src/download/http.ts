import { createWriteStream, rmSync, statSync } from 'node:fs';
import { pipeline } from 'node:stream/promises';
import { Transform } from 'node:stream';
import { type Dispatcher, EnvHttpProxyAgent, errors, interceptors, request } from 'undici';
import { ExitCode, LevitError } from '../core/errors.js';

export class DownloadError extends LevitError {
  constructor(message: string, hint?: string, exitCode: ExitCode = ExitCode.unavailable) {
    super(message, exitCode, hint);
    this.name = 'DownloadError';
  }
}

export interface TransferProgress {
  received: number;
  total: number | null;
  bytesPerSecond: number;
}

export interface FetchOptions {
  /** Gives up on a silent connection after this long (connect, headers, or between body chunks). */
  timeoutMs: number;
  retries: number;
  /** First retry delay; doubled each time. */
  backoffMs: number;
  onProgress?: (p: TransferProgress) => void;
  onRetry?: (attempt: number, reason: string, delayMs: number) => void;
}

export interface FetchResult {
  bytes: number;
  /** A sha256 the server stated for the file (Hugging Face's X-Linked-ETag, or a Digest header). */
  serverSha256: string | null;
  resumed: boolean;
}

/** A failure that a later attempt may not repeat: dropped connections, timeouts, 5xx, 408, 429. */
class Transient extends Error {}

const agents = new Map<number, Dispatcher>();
/** HTTP_PROXY, HTTPS_PROXY and NO_PROXY are honoured; redirects (hub -> CDN) are followed. */
function dispatcher(timeoutMs: number): Dispatcher {
  let agent = agents.get(timeoutMs);
  if (!agent) {
    agent = new EnvHttpProxyAgent({ connectTimeout: timeoutMs, headersTimeout: timeoutMs, bodyTimeout: timeoutMs }).compose(
      interceptors.redirect({ maxRedirections: 5 }),
    );
    agents.set(timeoutMs, agent);
  }
  return agent;
}

function statedSha256(headers: Record<string, string | string[] | undefined>): string | null {
  const first = (name: string) => {
    const v = headers[name];
    return (Array.isArray(v) ? v[0] : v)?.replace(/^W\//, '').replace(/"/g, '').trim();
  };
  for (const name of ['x-linked-etag', 'x-checksum-sha256', 'etag']) {
    const v = first(name);
    if (v && /^[0-9a-f]{64}$/i.test(v)) return v.toLowerCase();
  }
  const digest = first('digest') ?? first('repr-digest');
  const b64 = digest && /sha-256=:?([A-Za-z0-9+/=]+):?/i.exec(digest)?.[1];
  return b64 ? Buffer.from(b64, 'base64').toString('hex') : null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Fetches `url` into `partial`, resuming from whatever `partial` already holds (HTTP Range),
 * retrying transient failures with exponential backoff. The partial file is kept on failure,
 * so that the next attempt (or the next run) resumes it.
 */
export async function fetchToFile(url: string, partial: string, o: FetchOptions): Promise<FetchResult> {
  let serverSha256: string | null = null;
  let resumed = false;
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await fetchOnce(url, partial, o);
      serverSha256 = r.serverSha256 ?? serverSha256;
      resumed ||= r.resumed;
      return { bytes: r.bytes, serverSha256, resumed };
    } catch (e) {
      const reason = describe(e, o.timeoutMs);
      if (!(e instanceof Transient || isNetworkError(e)) || attempt >= o.retries) {
        if (e instanceof LevitError) throw e;
        throw new DownloadError(`download of ${url} failed: ${reason}`, 'Check the network (HTTPS_PROXY is honoured) or use --mirror; a later run resumes the partial file.');
      }
      const delay = o.backoffMs * 2 ** attempt;
      o.onRetry?.(attempt + 1, reason, delay);
      await sleep(delay);
    }
  }
}

function isNetworkError(e: unknown): boolean {
  return e instanceof errors.UndiciError || ['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'UND_ERR_SOCKET'].includes((e as NodeJS.ErrnoException)?.code ?? '');
}

function describe(e: unknown, timeoutMs: number): string {
  if (e instanceof errors.HeadersTimeoutError || e instanceof errors.BodyTimeoutError || e instanceof errors.ConnectTimeoutError) {
    return `no answer within ${timeoutMs / 1000} s (timeout)`;
  }
  const err = e as NodeJS.ErrnoException & { cause?: NodeJS.ErrnoException };
  return err.cause?.code ? `${err.message} (${err.cause.code})` : err.message;
}

async function fetchOnce(url: string, partial: string, o: FetchOptions): Promise<{ bytes: number; serverSha256: string | null; resumed: boolean }> {
  const have = (() => {
    try {
      return statSync(partial).size;
    } catch {
      return 0;
    }
  })();
  const res = await request(url, {
    dispatcher: dispatcher(o.timeoutMs),
    headers: have > 0 ? { range: `bytes=${have}-` } : {},
  });
  const serverSha256 = statedSha256(res.headers);
  if (res.statusCode === 416 && have > 0) {
    // Our partial file is not a prefix the server recognises: start over.
    await res.body.dump();
    rmSync(partial, { force: true });
    throw new Transient('the server refused to resume (HTTP 416); restarting');
  }
  if (res.statusCode >= 400) {
    await res.body.dump();
    const message = `HTTP ${res.statusCode} from ${url}`;
    if (res.statusCode >= 500 || res.statusCode === 408 || res.statusCode === 429) throw new Transient(message);
    throw new DownloadError(
      res.statusCode === 404 ? `not found: ${message}` : message,
      res.statusCode === 404 ? 'The file may have moved: set LEVIT_MIRROR to a server that has it, or pass --checkpoint.' : undefined,
      res.statusCode === 404 ? ExitCode.notFound : ExitCode.unavailable,
    );
  }
  const resumed = res.statusCode === 206;
  const start = resumed ? have : 0;
  const length = Number(res.headers['content-length']);
  const total = Number.isFinite(length) ? start + length : null;
  let received = start;
  const began = performance.now();
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      const seconds = (performance.now() - began) / 1000;
      o.onProgress?.({ received, total, bytesPerSecond: seconds > 0 ? (received - start) / seconds : 0 });
      done(null, chunk);
    },
  });
  await pipeline(res.body, meter, createWriteStream(partial, { flags: resumed ? 'a' : 'w' }));
  if (total !== null && received !== total) throw new Transient(`connection closed after ${received} of ${total} bytes`);
  return { bytes: received, serverSha256, resumed };
}
