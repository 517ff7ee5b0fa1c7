import { existsSync, readFileSync, renameSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { readCheckpoint } from '../checkpoint/index.js';
import type { CheckpointRef } from '../models/card.js';
import type { ModelCard } from '../models/families.js';
import { ExitCode, LevitError } from '../core/errors.js';
import { sha256File } from '../util/hash.js';
import { makeDirs, pidAlive, writeError } from '../util/files.js';
import { CACHE_HINT, cacheDir } from '../util/paths.js';
import { type CacheRecord, isFullPin, type Pin, pinEnvName, readRecord, type Verification, writeRecord } from './cache-record.js';
import { DownloadError, type FetchOptions, PASS_CHECKPOINT, type TransferProgress, fetchToFile } from './http.js';

export interface DownloadOptions {
  /** Never touch the network (--offline, LEVIT_OFFLINE=1). */
  offline: boolean;
  /** Base URL serving the same file names (--mirror, LEVIT_MIRROR). */
  mirror?: string;
  /** Accept a file no hash can be checked against (neither pinned nor stated by the server). */
  allowUnverified?: boolean;
  /** A full sha256 (or a prefix) the file must match, over the card's pin (--sha256). */
  sha256?: string;
  /**
   * The command takes no --checkpoint (levit download): hints then say how to put a file fetched by
   * other means into the cache, instead of passing it with --checkpoint PATH.
   */
  cacheOnly?: boolean;
  fetch?: Partial<FetchOptions>;
}

/** A model levit download --verify found nothing of in the cache. */
export interface NotCached {
  model: string;
  path: string;
  status: 'not-cached';
}

export interface DownloadResult {
  model: string;
  path: string;
  url: string;
  bytes: number;
  /** The full sha256: hashed on download, or as recorded when the file was first verified. */
  sha256: string;
  /** 'cached': nothing was fetched. */
  status: 'downloaded' | 'resumed' | 'cached';
  /** What the hash was checked against when the file entered the cache. */
  verified: Verification;
}

export function defaultDownloadOptions(flags: { offline?: boolean; mirror?: string } = {}): DownloadOptions {
  return {
    offline: flags.offline || process.env.LEVIT_OFFLINE === '1',
    mirror: flags.mirror || process.env.LEVIT_MIRROR || undefined,
  };
}

function requireCheckpoint(card: ModelCard): CheckpointRef {
  if (!card.checkpoint) throw new LevitError(`${card.id} has no official checkpoint`, ExitCode.usage, 'Pass --checkpoint PATH or use --weights synthetic.');
  return card.checkpoint;
}

/** The file name a checkpoint has in the cache and on a mirror. */
export function checkpointFileName(ref: CheckpointRef): string {
  return ref.file ?? new URL(ref.url).pathname.split('/').pop()!;
}

export function checkpointPath(card: ModelCard): string {
  return join(cacheDir(), 'checkpoints', checkpointFileName(requireCheckpoint(card)));
}

export function isCached(card: ModelCard): boolean {
  return !!card.checkpoint && existsSync(checkpointPath(card));
}

export function sourceUrl(ref: CheckpointRef, mirror?: string): string {
  return mirror ? `${mirror.replace(/\/+$/, '')}/${checkpointFileName(ref)}` : ref.url;
}

/** The strongest pin known for a model: --sha256, then LEVIT_SHA256_<MODEL>, then the card. */
export function pinFor(card: ModelCard, o: Pick<DownloadOptions, 'sha256'>): Pin | null {
  const env = process.env[pinEnvName(card.id)];
  const candidates: [string | null | undefined, string][] = [
    [o.sha256, '--sha256'],
    [env, pinEnvName(card.id)],
    [card.checkpoint?.sha256, `the ${card.id} card`],
  ];
  for (const [value, source] of candidates) {
    if (!value) continue;
    if (!/^[0-9a-f]{8,64}$/i.test(value)) throw new LevitError(`${source}: '${value}' is not a sha256 (8 to 64 hex digits)`, ExitCode.usage);
    return { sha256: value.toLowerCase(), source };
  }
  return null;
}

/** Completes "fetch the file elsewhere and …" in a hint: how the command in use takes a file fetched by other means. */
function elsewhere(card: ModelCard, path: string, o: Pick<DownloadOptions, 'cacheOnly'>): string {
  return o.cacheOnly ? `copy it to ${path}, then run levit download --verify ${card.id}` : PASS_CHECKPOINT;
}

function mismatch(card: ModelCard, what: string, expected: string, found: string, hint: string): DownloadError {
  return new DownloadError(`${card.id}: checksum mismatch for ${what}: expected sha256 ${expected}, found ${found}`, hint, ExitCode.badInput);
}

/**
 * A cached file is used only when its size matches its record and, where a full pin exists, the
 * recorded hash matches it. The bytes themselves are checked against the record when read
 * (checkRecordedHash), so no file is hashed twice.
 */
function checkCached(card: ModelCard, path: string, pin: Pin | null): CacheRecord {
  const record = readRecord(path);
  const size = statSync(path).size;
  if (!record) {
    throw new DownloadError(
      `${card.id}: ${path} has no verification record (downloaded by an older levit, or copied in)`,
      `Run levit download --verify ${card.id} to hash and check it, or delete it and download again.`,
      ExitCode.badInput,
    );
  }
  if (record.bytes !== size) {
    const hint = `Delete it and run levit download ${card.id} again.`;
    throw new DownloadError(`${card.id}: ${path} holds ${size} bytes, but ${record.bytes} were verified`, hint, ExitCode.badInput);
  }
  if (pin && !record.sha256.startsWith(pin.sha256)) {
    throw mismatch(card, `the cached ${path} (pinned by ${pin.source})`, pin.sha256, record.sha256, `Delete it and run levit download ${card.id} again.`);
  }
  return record;
}

/** Hashes a cached file again and checks it against its record and pin: levit download --verify. */
export async function verifyCached(card: ModelCard, o: Pick<DownloadOptions, 'sha256'> = {}): Promise<DownloadResult> {
  const ref = requireCheckpoint(card);
  const path = checkpointPath(card);
  if (!existsSync(path)) throw new LevitError(`${card.id}: not in the cache (${path})`, ExitCode.notFound, `Run levit download ${card.id}.`);
  const pin = pinFor(card, o);
  const sha256 = await sha256File(path);
  const bytes = statSync(path).size;
  const record = readRecord(path);
  const hint = `Delete it and run levit download ${card.id} again.`;
  if (record && record.sha256 !== sha256) {
    throw mismatch(card, `the cached ${path} (recorded when it was first verified)`, record.sha256, sha256, hint);
  }
  if (pin && !sha256.startsWith(pin.sha256)) throw mismatch(card, `the cached ${path} (pinned by ${pin.source})`, pin.sha256, sha256, hint);
  const verifiedBy: Verification = isFullPin(pin) ? 'full-pin' : (record?.verifiedBy ?? (pin ? 'prefix-pin' : 'unverified'));
  if (!record) writeRecord(path, { sha256, bytes, verifiedBy, url: sourceUrl(ref), recordedAt: new Date().toISOString() });
  return { model: card.id, path, url: record?.url ?? sourceUrl(ref), bytes, sha256, status: 'cached', verified: verifiedBy };
}

/** verifyCached for levit download --verify over the whole cache: a checkpoint not in the cache is reported as such, not refused. */
export async function verifyIfCached(card: ModelCard, o: Pick<DownloadOptions, 'sha256'> = {}): Promise<DownloadResult | NotCached> {
  return isCached(card) ? verifyCached(card, o) : { model: card.id, path: checkpointPath(card), status: 'not-cached' };
}

/**
 * The official checkpoint of a model in the cache, downloaded first when missing and allowed.
 * The file appears under its final name only after its sha256 has been checked, and a record of
 * that full sha256 is kept beside it. One process at a time fetches a given file (a lock file);
 * another waits for it, then uses its result.
 */
export async function ensureCheckpoint(card: ModelCard, o: DownloadOptions, onProgress?: (p: TransferProgress) => void): Promise<DownloadResult> {
  const path = checkpointPath(card);
  const url = sourceUrl(requireCheckpoint(card), o.mirror);
  const pin = pinFor(card, o);
  const cached = (): DownloadResult => {
    const record = checkCached(card, path, pin);
    return { model: card.id, path, url, bytes: record.bytes, sha256: record.sha256, status: 'cached', verified: record.verifiedBy };
  };
  if (existsSync(path)) return cached();
  if (o.offline) {
    const online = o.cacheOnly
      ? 'Run it again where the network is reachable, without --offline or LEVIT_OFFLINE=1'
      : `Run levit download ${card.id} where the network is reachable and copy the file there`;
    throw new LevitError(
      `${card.id}: the checkpoint is not in the cache (${path}) and downloads are off (offline)`,
      ExitCode.unavailable,
      `${online}, or fetch it elsewhere and ${elsewhere(card, path, o)}.`,
    );
  }
  makeDirs(dirname(path), CACHE_HINT);
  const release = await acquireLock(`${path}.lock`);
  try {
    if (existsSync(path)) return cached(); // another process fetched it while we waited
    return await download(card, path, url, pin, o, onProgress);
  } finally {
    release();
  }
}

async function download(
  card: ModelCard,
  path: string,
  url: string,
  pin: Pin | null,
  o: DownloadOptions,
  onProgress?: (p: TransferProgress) => void,
): Promise<DownloadResult> {
  const partial = `${path}.partial`;
  const fetched = await fetchToFile(url, partial, {
    timeoutMs: 30_000,
    retries: 4,
    backoffMs: 1000,
    ...o.fetch,
    elsewhere: elsewhere(card, path, o),
    onProgress: onProgress ?? o.fetch?.onProgress,
    // Without a pin, nothing else tells a body cut off without a stated length from a whole file: it must read as a checkpoint.
    incomplete: pin ? undefined : notWholeCheckpoint,
  });
  const sha256 = await sha256File(partial);
  const discard = 'The partial file was deleted. Try again; if it persists, the server or mirror serves a different file.';
  if (pin && !sha256.startsWith(pin.sha256)) {
    rmSync(partial, { force: true });
    throw mismatch(card, `${url} (pinned by ${pin.source})`, pin.sha256, sha256, discard);
  }
  if (fetched.serverSha256 && fetched.serverSha256 !== sha256) {
    rmSync(partial, { force: true });
    throw mismatch(card, `${url} (stated by the server)`, fetched.serverSha256, sha256, discard);
  }
  const verified: Verification = isFullPin(pin) ? 'full-pin' : fetched.serverSha256 ? 'server-digest' : pin ? 'prefix-pin' : 'unverified';
  if (verified === 'unverified' && !o.allowUnverified) {
    rmSync(partial, { force: true });
    throw new DownloadError(
      `${card.id}: no sha256 to check ${url} against (none pinned, none stated by the server)`,
      'Pass --allow-unverified to accept it anyway.',
      ExitCode.badInput,
    );
  }
  const bytes = statSync(partial).size;
  writeRecord(path, { sha256, bytes, verifiedBy: verified, url, recordedAt: new Date().toISOString() });
  renameSync(partial, path);
  return { model: card.id, path, url, bytes, sha256, status: fetched.resumed ? 'resumed' : 'downloaded', verified };
}

/** Why a file is not a whole checkpoint (its reader's error), or null when it reads. */
function notWholeCheckpoint(file: string): string | null {
  try {
    readCheckpoint(file);
    return null;
  } catch (e) {
    if (!(e instanceof LevitError)) throw e;
    return e.message.replace(`${file}: `, '');
  }
}

/** An exclusive lock file holding our pid; a lock whose process is gone is taken over. */
async function acquireLock(lock: string): Promise<() => void> {
  for (;;) {
    try {
      writeFileSync(lock, String(process.pid), { flag: 'wx' });
      return () => rmSync(lock, { force: true });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw new LevitError(writeError(lock, e).message, ExitCode.failure, CACHE_HINT);
    }
    const holder = Number.parseInt(readFileSync(lock, 'utf8') || '0', 10);
    if (!holder || !pidAlive(holder)) rmSync(lock, { force: true });
    else await new Promise((r) => setTimeout(r, 200));
  }
}
