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

/** levit eval over 400 images, sent Ctrl-C (SIGINT) once its progress passes 10 images: what it printed and its exit code. */
async function interruptedEval(
  root: string,
  args: string[],
  env: NodeJS.ProcessEnv,
): Promise<{ status: number | null; stdout: string; stderr: string; sent: boolean }> {
  const child = spawn(
    process.execPath,
    [join(packageRoot, 'bin', 'run.js'), 'eval', 'levit_128s', root, '--weights', 'synthetic', '--batch', '2', '--workers', '1', ...args],
    {
      env,
    },
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
  return { status, stdout, stderr, sent };
}

test('Ctrl-C during eval --predictions-out: a message, the partial summary, exit 130, no .partial left; a later run removes stale ones', async (t) => {
  const dir = tempDir(t);
  const root = await smallImageFolder(dir, 400);
  const preds = join(dir, 'preds.jsonl');
  const env = { ...process.env, NO_COLOR: '1', LEVIT_CACHE_DIR: dir, LEVIT_PROGRESS_SECONDS: '0' };
  // Build the artifact first, so that the interrupted run is interrupted while it evaluates.
  assert.equal(runCli(['eval', 'levit_128s', root, '--weights', 'synthetic', '--limit', '1'], env).status, 0);
  const { status, stdout, stderr, sent } = await interruptedEval(root, ['--predictions-out', preds], env);
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

test('Ctrl-C during eval --json: exit 130 and one JSON error that carries the partial summary, its hint pointing there', async (t) => {
  const dir = tempDir(t);
  const root = await smallImageFolder(dir, 400);
  const env = { ...process.env, NO_COLOR: '1', LEVIT_CACHE_DIR: dir, LEVIT_PROGRESS_SECONDS: '0' };
  assert.equal(runCli(['eval', 'levit_128s', root, '--weights', 'synthetic', '--limit', '1'], env).status, 0);
  const { status, stdout, stderr, sent } = await interruptedEval(root, ['--json'], env);
  assert.ok(sent, stderr);
  assert.equal(status, 130, stderr);
  const { error } = JSON.parse(stdout) as {
    error: {
      message: string;
      hint: string;
      exitCode: number;
      summary: { interrupted: boolean; evaluated: number; failed: number; top1: number; dataset: { images: number } };
    };
  };
  assert.equal(error.exitCode, 130);
  const m = /^interrupted after (\d+) of 400 images$/.exec(error.message);
  assert.ok(m, error.message);
  assert.equal(error.summary.interrupted, true);
  assert.equal(error.summary.evaluated + error.summary.failed, Number(m[1]));
  assert.equal(error.summary.dataset.images, 400);
  assert.equal(typeof error.summary.top1, 'number');
  assert.doesNotMatch(error.hint, /above/, 'nothing is printed above a JSON error');
  assert.match(error.hint, /error\.summary/);
});
