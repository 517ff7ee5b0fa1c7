import assert from 'node:assert/strict';
import { existsSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { preflightOutput } from '../src/util/output.js';
import { runCli, tempDir } from './helpers/shared.js';

test('an output folder is tried with a real file, which it leaves no trace of', (t) => {
  const dir = tempDir(t);
  preflightOutput(join(dir, 'new', 'deeper', 'results.json'), 'out', 'file');
  assert.deepEqual(readdirSync(dir), [], 'no probe file, no folder made');
});

// Permission bits say yes to root everywhere: /proc is a place where even root cannot create a file.
const procRefuses = process.platform === 'linux' && existsSync('/proc/self');

test('an output path where nothing can be created is a usage error before the work', { skip: !procRefuses && 'needs Linux /proc' }, (t) => {
  assert.throws(
    () => preflightOutput('/proc/levit-results.json', 'out', 'file'),
    (e: Error & { exitCode?: number }) => /--out \/proc\/levit-results\.json: cannot write in \/proc: /.test(e.message) && e.exitCode === 2,
  );
  const cache = join(tempDir(t), 'cache');
  const r = runCli(['bench', 'levit_128s', '--threads', '1', '--csv', '/proc/levit.csv', '--json'], { LEVIT_CACHE_DIR: cache });
  assert.equal(r.status, 2, r.stderr);
  assert.match(JSON.parse(r.stdout).error.message, /--csv \/proc\/levit\.csv: cannot write in \/proc/);
  assert.equal(existsSync(cache), false, 'refused before benchmarking: no model was built');
});
