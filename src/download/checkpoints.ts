import { existsSync, renameSync, rmSync, statSync } from 'node:fs';
import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';
import type { CheckpointRef } from '../models/card.js';
import type { ModelCard } from '../models/families.js';
import { ExitCode, LevitError } from '../core/errors.js';
import { sha256File } from '../util/hash.js';
import { cacheDir } from '../util/paths.js';
import { DownloadError, type FetchOptions, type TransferProgress, fetchToFile } from './http.js';

export interface DownloadOptions {
  /** Never touch the network (--offline, LEVIT_OFFLINE=1). */
  offline: boolean;
  /** Base URL serving the same file names (--mirror, LEVIT_MIRROR). */
  mirror?: string;
  /** Accept a file no hash can be checked against (neither pinned nor stated by the server). */
  allowUnverified?: boolean;
  fetch?: Partial<FetchOptions>;
}

export interface DownloadResult {
  model: string;
  path: string;
  url: string;
  bytes: number;
  /** Null when the file was already cached (it was checked when it was downloaded). */
  sha256: string | null;
  /** 'cached': nothing was fetched. */
  status: 'downloaded' | 'resumed' | 'cached';
  /** What the hash was checked against. */
  verified: 'pinned' | 'server' | 'unverified' | 'earlier';
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

/**
 * The official checkpoint of a model in the cache, downloaded first when missing and allowed.
 * The file appears under its final name only after its sha256 has been checked.
 */
export async function ensureCheckpoint(card: ModelCard, o: DownloadOptions, onProgress?: (p: TransferProgress) => void): Promise<DownloadResult> {
  const ref = requireCheckpoint(card);
  const path = checkpointPath(card);
  const url = sourceUrl(ref, o.mirror);
  if (existsSync(path)) {
    return { model: card.id, path, url, bytes: statSync(path).size, sha256: null, status: 'cached', verified: 'earlier' };
  }
  if (o.offline) {
    throw new LevitError(
      `${card.id}: the checkpoint is not in the cache (${path}) and downloads are off (offline)`,
      ExitCode.unavailable,
      `Run levit download ${card.id} where the network is reachable, copy the file there, or pass --checkpoint PATH.`,
    );
  }
  await mkdir(join(cacheDir(), 'checkpoints'), { recursive: true });
  const partial = `${path}.partial`;
  const fetched = await fetchToFile(url, partial, {
    timeoutMs: 30_000,
    retries: 4,
    backoffMs: 1000,
    ...o.fetch,
    onProgress: onProgress ?? o.fetch?.onProgress,
  });
  const sha256 = await sha256File(partial);
  const expected = ref.sha256?.toLowerCase() ?? fetched.serverSha256;
  const verified: DownloadResult['verified'] = ref.sha256 ? 'pinned' : fetched.serverSha256 ? 'server' : 'unverified';
  if (expected && !sha256.startsWith(expected)) {
    rmSync(partial, { force: true });
    throw new DownloadError(
      `${card.id}: checksum mismatch for ${url}: expected sha256 ${expected}${verified === 'server' ? ' (stated by the server)' : ''}, found ${sha256}`,
      'The partial file was deleted. Try again; if it persists, the server or mirror serves a different file.',
      ExitCode.badInput,
    );
  }
  if (!expected && !o.allowUnverified) {
    rmSync(partial, { force: true });
    throw new DownloadError(
      `${card.id}: no sha256 to check ${url} against (none pinned, none stated by the server)`,
      'Pass --allow-unverified to accept it anyway.',
      ExitCode.badInput,
    );
  }
  renameSync(partial, path);
  return { model: card.id, path, url, bytes: fetched.bytes, sha256, status: fetched.resumed ? 'resumed' : 'downloaded', verified };
}
