import { createWriteStream, rmSync, statSync, type WriteStream } from 'node:fs';
import type { IncomingMessage } from 'node:http';
import { Transform } from 'node:stream';
import { ExitCode, LevitError } from '../core/errors.js';
import { writeFailureReason } from '../util/files.js';
import { startGet } from './proxy.js';

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
  /** A try slower than this over a whole `timeoutMs` window is abandoned, as curl's --speed-limit (bytes/s). */
  minBytesPerSecond?: number;
  /** The whole download, every try included, must end within this (ms); none when absent. */
  deadlineMs?: number;
  retries: number;
  /** First retry delay; doubled each time. */
  backoffMs: number;
  onProgress?: (p: TransferProgress) => void;
  onRetry?: (attempt: number, reason: string, delayMs: number) => void;
  /**
   * For a body whose end nothing marks (no Content-Length, not chunked, no digest stated): why the
   * file received is not whole, or null. A body cut there is otherwise indistinguishable from a
   * complete one; an incomplete file is resumed like a dropped connection.
   */
  incomplete?: (file: string) => string | null;
  /**
   * Completes "fetch the file elsewhere and …" in hints: how the command in use takes a file
   * fetched by other means (default: pass it with --checkpoint PATH, as predict, eval and convert do).
   */
  elsewhere?: string;
}

export const PASS_CHECKPOINT = 'pass it with --checkpoint PATH';

export interface FetchResult {
  bytes: number;
  /** A sha256 the server stated for the file (Hugging Face's X-Linked-ETag, or a Digest header). */
  serverSha256: string | null;
  resumed: boolean;
}

/** A failure that a later attempt may not repeat: dropped connections, timeouts, 5xx, 408, 429. */
class Transient extends Error {}

const MAX_REDIRECTS = 5;
/** Two bodies cut this close to each other (bytes) end at the same place. */
const SAME_END_BYTES = 64 * 1024;
const DEFAULT_MIN_BYTES_PER_SECOND = 1024;
/** Errors of the connection, which a retry may not meet again. */
const NETWORK_CODES = new Set(['ECONNRESET', 'ECONNREFUSED', 'EPIPE', 'ETIMEDOUT', 'EAI_AGAIN', 'ENETUNREACH', 'EHOSTUNREACH', 'ECONNABORTED']);
/** A sha256 the server stated in full (64 hex digits or 32 bytes of base64); shorter digests are ignored. */
export function statedSha256(headers: Record<string, string | string[] | undefined>): string | null {
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
  const hex = b64 ? Buffer.from(b64, 'base64').toString('hex') : '';
  return hex.length === 64 ? hex : null;
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/**
 * Fetches `url` into `partial`, resuming from whatever `partial` already holds (HTTP Range),
 * retrying transient failures with exponential backoff. The partial file is kept on failure,
 * so that the next attempt (or the next run) resumes it.
 */
export async function fetchToFile(url: string, partial: string, o: FetchOptions): Promise<FetchResult> {
  const deadline = o.deadlineMs === undefined ? Number.POSITIVE_INFINITY : performance.now() + o.deadlineMs;
  let serverSha256: string | null = null;
  let resumed = false;
  const seen: TransferState = { announced: null, shortAt: null };
  for (let attempt = 0; ; attempt++) {
    try {
      const r = await fetchOnce(new URL(url), partial, o, deadline, seen);
      serverSha256 = r.serverSha256 ?? serverSha256;
      resumed ||= r.resumed;
      return { bytes: r.bytes, serverSha256, resumed };
    } catch (e) {
      if (e instanceof LevitError) throw e;
      const reason = (e as Error).message;
      const delay = o.backoffMs * 2 ** attempt;
      if (!isTransient(e) || attempt >= o.retries || performance.now() + delay >= deadline) {
        const have = sizeOf(partial);
        const resume = have > 0 ? ` A later run resumes the ${have} bytes already in ${partial}.` : '';
        throw new DownloadError(
          `download of ${url} failed: ${reason}`,
          `Check the network (HTTPS_PROXY is honoured) or use --mirror; or fetch the file elsewhere and ${o.elsewhere ?? PASS_CHECKPOINT}.${resume}`,
        );
      }
      o.onRetry?.(attempt + 1, reason, delay);
      await sleep(delay);
    }
  }
}

function isTransient(e: unknown): boolean {
  return e instanceof Transient || NETWORK_CODES.has((e as NodeJS.ErrnoException)?.code ?? '');
}

/** One GET, following redirects; a loop, too many hops or a scheme other than http(s) fails for good. */
async function getFollowing(url: URL, headers: Record<string, string>, timeoutMs: number, elsewhere: string): Promise<{ res: IncomingMessage; url: URL }> {
  const seen = new Set<string>();
  for (let hop = 0; ; hop++) {
    if (url.protocol !== 'http:' && url.protocol !== 'https:') {
      const hint = `For a file on this machine, ${elsewhere}.`;
      throw new DownloadError(`cannot download ${url.href}: only http:// and https:// are fetched`, hint, ExitCode.usage);
    }
    seen.add(url.href);
    const res = await getOnce(url, headers, timeoutMs);
    const location = res.headers.location;
    if (![301, 302, 303, 307, 308].includes(res.statusCode ?? 0) || !location) return { res, url };
    res.resume();
    const next = new URL(location, url);
    if (seen.has(next.href)) throw new DownloadError(`redirect loop: ${url.href} sends back to ${next.href}`, 'The server or mirror is misconfigured.');
    if (hop >= MAX_REDIRECTS) throw new DownloadError(`more than ${MAX_REDIRECTS} redirects from ${[...seen][0]}`, 'The server or mirror is misconfigured.');
    url = next;
  }
}

function getOnce(url: URL, headers: Record<string, string>, timeoutMs: number): Promise<IncomingMessage> {
  return new Promise((resolve, reject) => {
    const req = startGet(url, headers, resolve);
    // The socket's idle timeout: connect, headers, and every gap between body chunks.
    req.setTimeout(timeoutMs, () => req.destroy(new Transient(`no answer within ${timeoutMs / 1000} s (timeout)`)));
    req.on('error', reject);
    req.end();
  });
}

/**
 * Copies a response body into a file. When the connection fails, what arrived is still flushed
 * to the file before the error is passed on, so that the next try resumes after it.
 */
function drain(res: IncomingMessage, meter: Transform, out: WriteStream): Promise<void> {
  return new Promise((resolve, reject) => {
    let failure: Error | null = null;
    res.once('error', (e) => {
      failure ??= e;
      res.unpipe(meter);
      meter.end();
    });
    out.once('error', (e) => {
      failure = e;
      res.destroy();
      reject(e);
    });
    out.once('finish', () => (failure ? reject(failure) : resolve()));
    res.pipe(meter).pipe(out);
  });
}

function sizeOf(path: string): number {
  try {
    return statSync(path).size;
  } catch {
    return 0;
  }
}

/** The start a 206's Content-Range states ("bytes START-END/TOTAL"), or null. */
function rangeStart(header: string | undefined): number | null {
  const m = /^bytes (\d+)-\d+\/(?:\d+|\*)$/.exec(header?.trim() ?? '');
  return m ? Number(m[1]) : null;
}

type OneTry = { bytes: number; serverSha256: string | null; resumed: boolean };

/** What earlier tries of one download saw: the size announced, and where a body ended short of it. */
interface TransferState {
  announced: number | null;
  shortAt: { received: number; total: number } | null;
}

/** The whole size a 416's Content-Range states ("bytes *\/SIZE"), or null. */
function unsatisfiedSize(header: string | undefined): number | null {
  const m = /^bytes \*\/(\d+)$/.exec(header?.trim() ?? '');
  return m ? Number(m[1]) : null;
}

/** A server that says one size and serves another: no retry can help. */
function inconsistent(url: URL, detail: string, elsewhere: string): DownloadError {
  return new DownloadError(
    `${url.href}: the server contradicts itself: ${detail}`,
    `A misconfigured server or a proxy that changes the file: use --mirror, or fetch the file elsewhere and ${elsewhere}.`,
  );
}

/**
 * Notes a body that ended before its announced size. The same end twice from the start (within what
 * a broken connection loses of its last chunks) is a server that lies, not a network: no retry helps.
 */
function endedShort(url: URL, seen: TransferState, received: number, total: number | null, resumed: boolean, elsewhere: string): void {
  if (total === null) return;
  const again = seen.shortAt && seen.shortAt.total === total && Math.abs(seen.shortAt.received - received) <= SAME_END_BYTES;
  if (again && !resumed) throw inconsistent(url, `it announces ${total} bytes and sends ${received}, every time`, elsewhere);
  seen.shortAt = { received, total };
}

async function fetchOnce(url: URL, partial: string, o: FetchOptions, deadline: number, seen: TransferState): Promise<OneTry> {
  const have = sizeOf(partial);
  const elsewhere = o.elsewhere ?? PASS_CHECKPOINT;
  const { res, url: finalUrl } = await getFollowing(url, have > 0 ? { range: `bytes=${have}-` } : {}, o.timeoutMs, elsewhere);
  const status = res.statusCode ?? 0;
  const serverSha256 = statedSha256(res.headers);
  if (status === 416 && have > 0) {
    res.resume();
    const size = unsatisfiedSize(res.headers['content-range']);
    if (size !== null && size <= have && seen.announced !== null && seen.announced > size) {
      rmSync(partial, { force: true });
      const detail = `it announced ${seen.announced} bytes (Content-Length), but its file is ${size} bytes (HTTP 416, Content-Range bytes */${size})`;
      throw inconsistent(finalUrl, detail, elsewhere);
    }
    // Our partial file is not a prefix the server recognises: start over.
    rmSync(partial, { force: true });
    throw new Transient('the server refused to resume (HTTP 416); restarting');
  }
  if (status >= 400 || status < 200 || status >= 300) {
    res.resume();
    const message = `HTTP ${status} from ${finalUrl.href}`;
    if (status >= 500 || status === 408 || status === 429) throw new Transient(message);
    throw new DownloadError(
      status === 404 ? `not found: ${message}` : message,
      status === 404 ? `The file may have moved: set LEVIT_MIRROR to a server that has it, or fetch the file elsewhere and ${elsewhere}.` : undefined,
      status === 404 ? ExitCode.notFound : ExitCode.unavailable,
    );
  }
  const resumed = status === 206;
  if (resumed && rangeStart(res.headers['content-range']) !== have) {
    res.resume();
    rmSync(partial, { force: true });
    throw new Transient(`the server resumed at ${res.headers['content-range'] ?? 'an unstated offset'}, not at byte ${have}; restarting`);
  }
  const start = resumed ? have : 0;
  const length = Number(res.headers['content-length']);
  const total = res.headers['content-length'] !== undefined && Number.isSafeInteger(length) ? start + length : null;
  seen.announced = total ?? seen.announced;
  const delimited = total !== null || /chunked/i.test(String(res.headers['transfer-encoding'] ?? ''));
  let received = start;
  const began = performance.now();
  const minSpeed = o.minBytesPerSecond ?? DEFAULT_MIN_BYTES_PER_SECOND;
  let window = { at: began, received };
  const watch = setInterval(
    () => {
      const now = performance.now();
      if (now >= deadline) {
        res.destroy(new DownloadError(`download of ${url.href} did not finish within ${((o.deadlineMs ?? 0) / 1000).toFixed(0)} s (deadline)`));
      } else if (now - window.at >= o.timeoutMs) {
        const speed = ((received - window.received) * 1000) / (now - window.at);
        if (speed < minSpeed) res.destroy(new Transient(`slower than ${minSpeed} bytes/s for ${o.timeoutMs / 1000} s (${speed.toFixed(0)} bytes/s)`));
        window = { at: now, received };
      }
    },
    Math.min(1000, o.timeoutMs / 4),
  );
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      received += chunk.length;
      const seconds = (performance.now() - began) / 1000;
      o.onProgress?.({ received, total, bytesPerSecond: seconds > 0 ? (received - start) / seconds : 0 });
      done(null, chunk);
    },
  });
  try {
    await drain(res, meter, createWriteStream(partial, { flags: resumed ? 'a' : 'w' }));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code ?? '';
    const diskFailure = writeFailureReason(e as NodeJS.ErrnoException);
    if (diskFailure) {
      const hint = 'Free space or fix permissions in the cache (LEVIT_CACHE_DIR), then run again: the download resumes.';
      throw new DownloadError(`cannot write ${partial}: ${diskFailure}`, hint, ExitCode.failure);
    }
    if (e instanceof LevitError || e instanceof Transient) throw e;
    // A body cut off mid-way (chunked or not) surfaces as an aborted response: worth a retry.
    endedShort(finalUrl, seen, received, total, resumed, elsewhere);
    throw new Transient(`connection closed after ${received} bytes${total !== null ? ` of ${total}` : ''} (${code || (e as Error).message})`);
  } finally {
    clearInterval(watch);
  }
  if (total !== null && received !== total) {
    endedShort(finalUrl, seen, received, total, resumed, elsewhere);
    throw new Transient(`connection closed after ${received} of ${total} bytes`);
  }
  if (!res.complete) throw new Transient(`connection closed after ${received} bytes, before the end of the body`);
  const cut = !delimited && !serverSha256 ? o.incomplete?.(partial) : null;
  if (cut) throw new Transient(`the server stated no length, and the ${received} bytes received are not a whole file (${cut})`);
  return { bytes: received, serverSha256, resumed };
}
