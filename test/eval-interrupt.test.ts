import assert from 'node:assert/strict';
import { spawn, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { Progress } from '../src/cli/progress.js';
import { packageRoot } from '../src/util/paths.js';
import { smallImageFolder } from './helpers/images.js';
import { runCli, tempDir } from './helpers/shared.js';

/** A stream that keeps what is written to it. */
const sink = () => {
  const chunks: string[] = [];
  return { chunks, stream: { write: (s: string) => chunks.push(s) > 0 } as unknown as NodeJS.WritableStream };
};

test('progress off a terminal: a line at once, then one per interval; forced phases at once; never a carriage return', () => {
  const { chunks, stream } = sink();
  const p = new Progress(stream, false, 60_000);
  p.update('[#.......] 1/100');
  p.update('[##......] 2/100'); // within the interval: dropped
  p.update('building levit_128s', true);
  p.update('building levit_128s', true); // the same line twice: once
  p.clear();
  assert.deepEqual(chunks, ['[#.......] 1/100\n', 'building levit_128s\n']);
  const every = sink();
  const q = new Progress(every.stream, false, 0);
  for (const n of [1, 2, 3]) q.update(`${n}/3`);
  assert.deepEqual(every.chunks, ['1/3\n', '2/3\n', '3/3\n']);
});

test('levit eval under a pipe prints progress lines to stderr (LEVIT_PROGRESS_SECONDS)', async (t) => {
  const dir = tempDir(t);
  const root = await smallImageFolder(dir, 12);
  const r = runCli(['eval', 'levit_128s', root, '--weights', 'synthetic', '--batch', '4', '--workers', '1'], {
    LEVIT_CACHE_DIR: dir,
    LEVIT_PROGRESS_SECONDS: '0',
  });
  assert.equal(r.status, 0, r.stderr);
  const lines = r.stderr.split('\n').filter((l) => /\d+\/12 .* img\/s/.test(l));
  assert.ok(lines.length >= 3, r.stderr);
  assert.ok(!r.stderr.includes('\r') && !r.stderr.includes('\u001b['), 'plain lines, no terminal codes');
});

test('Ctrl-C during eval --predictions-out: a message, the partial summary, exit 130, no .partial left; a later run removes stale ones', async (t) => {
  const dir = tempDir(t);
  const root = await smallImageFolder(dir, 400);
  const preds = join(dir, 'preds.jsonl');
  const env = { ...process.env, NO_COLOR: '1', LEVIT_CACHE_DIR: dir, LEVIT_PROGRESS_SECONDS: '0' };
  // Build the artifact first, so that the interrupted run is interrupted while it evaluates.
  assert.equal(runCli(['eval', 'levit_128s', root, '--weights', 'synthetic', '--limit', '1'], env).status, 0);
  const child = spawn(
    process.execPath,
    [join(packageRoot, 'bin', 'run.js'), 'eval', 'levit_128s', root, '--weights', 'synthetic', '--batch', '2', '--workers', '1', '--predictions-out', preds],
    { env },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d) => (stdout += d));
  let sent = false;
  child.stderr.on('data', (d) => {
    stderr += d;
    if (!sent && /\d+\/400 /.test(stderr) && /(\d{2,})\/400/.test(stderr)) {
      sent = true;
      child.kill('SIGINT');
    }
  });
  const status = await new Promise<number | null>((resolve) => child.on('close', resolve));
  assert.ok(sent, stderr);
  assert.equal(status, 130, stderr);
  assert.match(stderr, /Interrupted \(Ctrl-C\)/);
  assert.match(stdout, /stopped +by Ctrl-C after \d+ of 400 images/);
  assert.match(stdout, /top-1 +\d/);
  assert.match(stderr, /Error: interrupted after \d+ of 400 images: .*preds\.jsonl not written/);
  assert.ok(stderr.endsWith('\n') && stdout.endsWith('\n'), 'the prompt comes back on a line of its own');
  assert.deepEqual(
    readdirSync(dir).filter((n) => n.startsWith('preds.jsonl')),
    [],
    'no predictions file and no .partial',
  );

  // A .partial a killed run left behind (its process is gone) goes with the next run.
  const stale = `${preds}.${spawnSync(process.execPath, ['-e', '0']).pid}.partial`;
  writeFileSync(stale, '{"file": "x"}\n');
  const r = runCli(['eval', 'levit_128s', root, '--weights', 'synthetic', '--limit', '4', '--predictions-out', preds], env);
  assert.equal(r.status, 0, r.stderr);
  assert.ok(!existsSync(stale), 'the stale .partial is removed');
  assert.ok(existsSync(preds));
});
