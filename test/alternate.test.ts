import assert from 'node:assert/strict';
import { join } from 'node:path';
import { test } from 'node:test';
import { pathToFileURL } from 'node:url';
import { runCli, tempDir } from './helpers/shared.js';
import { packageRoot } from '../src/util/paths.js';

interface Interval {
  value: number;
  low: number;
  high: number;
  confidence: number;
}
interface Row {
  path: string;
  rounds: number;
  ms: number;
  speedup: Interval;
}
interface AlternateModule {
  CONFIDENCE: number;
  alternate(paths: string[], o: { batch?: number; threads?: number; seconds?: number; warmup?: number }): Promise<Row[]>;
  speedup(base: Row, row: Row): Interval;
}

test("scripts/alternate.mjs (the zoo table's speed columns) times ONNX files in bench's interleaved rounds, with paired intervals", async (t) => {
  const dir = tempDir(t);
  const model = join(dir, 'levit_128s.onnx');
  const convert = runCli(['convert', 'levit_128s', '--weights', 'synthetic', '--out', model]);
  assert.equal(convert.status, 0, convert.stderr);
  const { alternate, speedup, CONFIDENCE } = (await import(pathToFileURL(join(packageRoot, 'scripts', 'alternate.mjs')).href)) as AlternateModule;
  const rows = await alternate([model, model], { batch: 1, seconds: 1, warmup: 0.05 });
  assert.equal(rows.length, 2);
  for (const r of rows) {
    assert.ok(r.rounds >= 10, `at least the rounds an interval needs: ${r.rounds}`);
    assert.ok(r.ms > 0);
  }
  assert.deepEqual([rows[0].speedup.value, rows[0].speedup.low, rows[0].speedup.high], [1, 1, 1], 'the baseline against itself');
  const other = rows[1].speedup;
  assert.equal(other.confidence, CONFIDENCE);
  assert.ok(other.low <= other.value && other.value <= other.high, JSON.stringify(other));
  // The between-run spread widens every interval: even an A/A pair is never a point.
  assert.ok(other.high / other.low > 1.2, JSON.stringify(other));
  const back = speedup(rows[1], rows[0]);
  assert.ok(Math.abs(back.value * other.value - 1) < 1e-9, 'the reverse speed-up is the reciprocal');
});
