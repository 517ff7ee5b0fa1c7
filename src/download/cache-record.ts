import { readFileSync } from 'node:fs';
import { writeFileAtomic } from '../util/atomic.js';

/** How a checkpoint's bytes were checked, strongest first. */
export type Verification = 'full-pin' | 'server-digest' | 'prefix-pin' | 'unverified';

export const verificationText: Record<Verification, string> = {
  'full-pin': 'matches a pinned full sha256',
  'server-digest': "matches the server's full sha256",
  'prefix-pin': 'matches only a 32-bit sha256 prefix (the file name pins no more)',
  unverified: 'NOT verified (no hash pinned or stated)',
};

/** What the cache remembers of a file it verified: every later use is checked against it (trust on first use). */
export interface CacheRecord {
  sha256: string;
  bytes: number;
  verifiedBy: Verification;
  url: string;
  recordedAt: string;
}

export const recordPath = (cached: string) => `${cached}.sha256.json`;

export function readRecord(cached: string): CacheRecord | null {
  try {
    const r = JSON.parse(readFileSync(recordPath(cached), 'utf8')) as CacheRecord;
    return typeof r.sha256 === 'string' && /^[0-9a-f]{64}$/.test(r.sha256) && Number.isSafeInteger(r.bytes) ? r : null;
  } catch {
    return null;
  }
}

export function writeRecord(cached: string, r: CacheRecord): void {
  writeFileAtomic(recordPath(cached), `${JSON.stringify(r, null, 2)}\n`);
}

/** A pin from the card, --sha256, or LEVIT_SHA256_<MODEL> (e.g. LEVIT_SHA256_LEVIT_128S): 8 to 64 hex digits. */
export interface Pin {
  sha256: string;
  source: string;
}

export const pinEnvName = (modelId: string) => `LEVIT_SHA256_${modelId.toUpperCase().replace(/[^A-Z0-9]/g, '_')}`;

export function isFullPin(pin: Pin | null): boolean {
  return pin?.sha256.length === 64;
}
