import assert from 'node:assert/strict';
import { test } from 'node:test';
import { LevitError } from '../src/core/errors.js';
import type { Preprocessing } from '../src/models/card.js';
import { PreprocessPool } from '../src/preprocess/pool.js';

const dying = new URL('./helpers/dying-worker.js', import.meta.url);
const preprocessing: Preprocessing = { resolution: 8, crop_pct: 1, interpolation: 'bicubic', mean: [0, 0, 0], std: [1, 1, 1] };

for (const [file, how] of [
  ['exit', /exited with code 7/],
  ['throw', /failed: boom/],
] as const) {
  test(`a preprocessing worker that dies (${file}) fails its requests and later ones instead of hanging`, { timeout: 20_000 }, async () => {
    const pool = new PreprocessPool(1, dying);
    try {
      const queued = [pool.preprocess(file, preprocessing), pool.preprocess('second', preprocessing)];
      for (const reply of queued) await assert.rejects(reply, (e: Error) => e instanceof LevitError && how.test(e.message));
      await assert.rejects(pool.preprocess('later', preprocessing), LevitError);
    } finally {
      await pool.close();
    }
  });
}
