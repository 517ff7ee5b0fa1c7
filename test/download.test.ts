import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { after, before, beforeEach, test } from 'node:test';
import { type DownloadOptions, checkpointPath, ensureCheckpoint } from '../src/download/checkpoints.js';
import type { ModelCard } from '../src/models/families.js';
import { buildGraph, getCard } from '../src/models/registry.js';
import { DownloadError } from '../src/download/http.js';
import { writeRecord } from '../src/download/cache-record.js';
import { ExitCode, type LevitError } from '../src/core/errors.js';
import { type Behaviour, TestServer } from './helpers/http-server.js';
import { RecordingWeights } from './helpers/recording-weights.js';
import { safetensorsBuffer } from './helpers/safetensors-save.js';
import { runCli, runCliAsync, tempDir } from './helpers/shared.js';

const body = Buffer.from(Array.from({ length: 300_000 }, (_, i) => (i * 7919) % 251));
const sha = createHash('sha256').update(body).digest('hex');

const routes: Record<string, Behaviour> = {
  '/ok.bin': { kind: 'file', body },
  '/drop.bin': { kind: 'drop-once', body, after: 100_000 },
  '/stated.bin': { kind: 'file', body, headers: { 'x-linked-etag': `"${sha}"` } },
  '/stated-wrong.bin': { kind: 'file', body, headers: { 'x-linked-etag': `"${'0'.repeat(64)}"` } },
  '/gone.bin': { kind: 'status', status: 404 },
  '/busy.bin': { kind: 'status', status: 503 },
  '/hang.bin': { kind: 'hang' },
};
const server = new TestServer(routes);
let base = '';
let cache = '';

before(async () => {
  base = await server.start();
});
after(() => server.stop());
beforeEach((t) => {
  cache = tempDir(t as unknown as { after: (fn: () => void) => void });
  process.env.LEVIT_CACHE_DIR = cache;
  server.requests.length = 0;
});

/** A real card whose checkpoint points at the test server. */
function card(file: string, sha256: string | null): ModelCard {
  const c = getCard('levit_128s');
  return { ...c, checkpoint: { url: `${base}/${file}`, sha256 } };
}
const fast: DownloadOptions = { offline: false, fetch: { timeoutMs: 2000, retries: 3, backoffMs: 10 } };
const cacheFiles = () => (existsSync(join(cache, 'checkpoints')) ? readdirSync(join(cache, 'checkpoints')) : []);

test('downloads, checks the pinned sha256 prefix, and renames into place', async () => {
  const r = await ensureCheckpoint(card('ok.bin', sha.slice(0, 8)), fast);
  assert.equal(r.status, 'downloaded');
  assert.equal(r.verified, 'prefix-pin');
  assert.equal(r.sha256, sha);
  assert.deepEqual(readFileSync(r.path), body);
  assert.deepEqual(cacheFiles(), ['ok.bin', 'ok.bin.sha256.json']);
});

test('a dropped connection is resumed with a Range request, not restarted', async () => {
  const retries: string[] = [];
  const r = await ensureCheckpoint(card('drop.bin', sha), { ...fast, fetch: { ...fast.fetch, onRetry: (_a, reason) => retries.push(reason) } });
  assert.equal(r.status, 'resumed');
  assert.deepEqual(readFileSync(r.path), body);
  assert.equal(retries.length, 1);
  const ranges = server.requests.filter((q) => q.path === '/drop.bin').map((q) => q.range);
  assert.equal(ranges.length, 2);
  assert.equal(ranges[0], undefined);
  assert.match(ranges[1]!, /^bytes=\d+-$/);
  assert.ok(Number(/\d+/.exec(ranges[1]!)![0]) >= 100_000, 'resumed where it broke off');
});

test('a wrong hash is refused, naming both hashes, and nothing is left in the cache', async () => {
  await assert.rejects(ensureCheckpoint(card('ok.bin', 'deadbeef'), fast), (e: Error) => {
    assert.ok(e instanceof DownloadError);
    assert.match(e.message, new RegExp(`expected sha256 deadbeef.*found ${sha}`));
    return true;
  });
  assert.deepEqual(cacheFiles(), []);
});

test("without a pinned hash the server's stated digest is checked", async () => {
  const r = await ensureCheckpoint(card('stated.bin', null), fast);
  assert.equal(r.verified, 'server-digest');
  await assert.rejects(ensureCheckpoint(card('stated-wrong.bin', null), fast), /\(stated by the server\): expected sha256 0{64}/);
  await assert.rejects(ensureCheckpoint(card('ok.bin', null), fast), /no sha256 to check/);
  assert.equal((await ensureCheckpoint(card('ok.bin', null), { ...fast, allowUnverified: true })).verified, 'unverified');
});

test('404 fails at once with a clear error; 503 is retried, then reported', async () => {
  await assert.rejects(ensureCheckpoint(card('gone.bin', sha), fast), (e: Error & { exitCode?: number }) => {
    assert.match(e.message, /not found: HTTP 404/);
    assert.equal(e.exitCode, ExitCode.notFound);
    return true;
  });
  assert.equal(server.requests.length, 1);
  await assert.rejects(ensureCheckpoint(card('busy.bin', sha), fast), /HTTP 503/);
  assert.equal(server.requests.filter((q) => q.path === '/busy.bin').length, 4);
});

test('a server that never answers times out with a clear error', async () => {
  await assert.rejects(
    ensureCheckpoint(card('hang.bin', sha), { offline: false, fetch: { timeoutMs: 300, retries: 1, backoffMs: 10 } }),
    /no answer within 0.3 s \(timeout\)/,
  );
  assert.deepEqual(
    cacheFiles().filter((f) => !f.endsWith('.partial')),
    [],
  );
});

test('a second download of a cached file is a no-op', async () => {
  await ensureCheckpoint(card('ok.bin', sha), fast);
  const before = server.requests.length;
  const r = await ensureCheckpoint(card('ok.bin', sha), fast);
  assert.equal(r.status, 'cached');
  assert.equal(server.requests.length, before);
});

test('offline never touches the network; a mirror serves the same file name', async () => {
  await assert.rejects(ensureCheckpoint(card('ok.bin', sha), { ...fast, offline: true }), /not in the cache .* downloads are off/);
  assert.equal(server.requests.length, 0);
  const c = { ...card('ok.bin', sha), checkpoint: { url: 'https://unreachable.invalid/x/ok.bin', sha256: sha, format: 'torch-zip' as const } };
  const r = await ensureCheckpoint(c, { ...fast, mirror: `${base}/` });
  assert.equal(r.url, `${base}/ok.bin`);
  assert.equal(checkpointPath(c), r.path);
});

test('end to end: levit download via a mirror, zoo shows it cached, convert uses it offline', async (t) => {
  const rec = new RecordingWeights(2);
  buildGraph(getCard('efficientnet_b0'), rec);
  const weights = safetensorsBuffer(rec.stateDict);
  const digest = createHash('sha256').update(weights).digest('hex');
  const mirror = new TestServer({ '/efficientnet_b0.ra_in1k.safetensors': { kind: 'file', body: weights, headers: { 'x-linked-etag': `"${digest}"` } } });
  const url = await mirror.start();
  t.after(() => mirror.stop());
  // The CLI runs in a child process: the test server must keep serving meanwhile.
  const env = { LEVIT_CACHE_DIR: cache, LEVIT_MIRROR: url };
  const dl = await runCliAsync(['download', 'efficientnet_b0', '--json'], env);
  assert.equal(dl.status, 0, dl.stderr);
  const [result] = JSON.parse(dl.stdout);
  assert.equal(result.verified, 'server-digest');
  assert.equal(result.sha256, digest);

  const zoo = JSON.parse(runCli(['zoo', '--json'], env).stdout) as { id: string; checkpoint: { cached: boolean } }[];
  assert.equal(zoo.find((e) => e.id === 'efficientnet_b0')!.checkpoint.cached, true);
  assert.equal(zoo.find((e) => e.id === 'levit_128s')!.checkpoint.cached, false);

  const out = join(cache, 'b0.onnx');
  const conv = runCli(['convert', 'efficientnet_b0', '--weights', 'official', '--offline', '--out', out, '--json'], env);
  assert.equal(conv.status, 0, conv.stderr);
  assert.equal(JSON.parse(conv.stdout).weights.sha256, digest);

  const missing = runCli(['convert', 'levit_128s', '--weights', 'official', '--offline', '--out', out], env);
  assert.equal(missing.status, ExitCode.unavailable);
  assert.match(missing.stderr, /not in the cache .* downloads are off[\s\S]*Hint: Run levit download levit_128s/);
});

test('levit download refuses a file that does not match the pinned hash, leaving nothing', async () => {
  const mirror = new TestServer({ '/LeViT-128S-96703c44.pth': { kind: 'file', body } });
  const url = await mirror.start();
  try {
    const r = await runCliAsync(['download', 'levit_128s', '--mirror', url], { LEVIT_CACHE_DIR: cache });
    assert.equal(r.status, ExitCode.badInput);
    assert.match(r.stderr, new RegExp(`checksum mismatch .* expected sha256 96703c44, found ${sha}`));
    assert.deepEqual(cacheFiles(), []);
  } finally {
    await mirror.stop();
  }
});

test("levit download's hints name what download takes (no --checkpoint); predict/eval/convert keep --checkpoint", async () => {
  // The library (predict, eval, convert): a file fetched elsewhere is passed with --checkpoint.
  await assert.rejects(ensureCheckpoint(card('gone.bin', sha), fast), (e: LevitError) => /--checkpoint PATH/.test(e.hint ?? ''));
  await assert.rejects(ensureCheckpoint(card('ok.bin', sha), { ...fast, offline: true }), (e: LevitError) => /--checkpoint PATH/.test(e.hint ?? ''));
  // levit download has no --checkpoint: it says where to copy such a file and how to have it checked.
  const mirror = await runCliAsync(['download', 'levit_128s', '--mirror', base], { LEVIT_CACHE_DIR: cache });
  assert.equal(mirror.status, ExitCode.notFound, mirror.stderr);
  const offline = runCli(['download', 'levit_128s', '--offline'], { LEVIT_CACHE_DIR: cache });
  assert.equal(offline.status, ExitCode.unavailable, offline.stderr);
  const path = join(cache, 'checkpoints', 'LeViT-128S-96703c44.pth');
  for (const r of [mirror, offline]) {
    assert.doesNotMatch(r.stderr, /--checkpoint/);
    assert.ok(r.stderr.includes(`Hint: `) && r.stderr.includes(`copy it to ${path}, then run levit download --verify levit_128s.`), r.stderr);
  }
  // ... and doing as it says puts the file in the cache, verified.
  mkdirSync(dirname(path), { recursive: true });
  writeFileSync(path, body);
  const adopt = runCli(['download', '--verify', 'levit_128s', '--json'], { LEVIT_CACHE_DIR: cache, LEVIT_SHA256_LEVIT_128S: sha });
  assert.equal(adopt.status, 0, adopt.stderr);
  assert.equal(JSON.parse(adopt.stdout)[0].verified, 'full-pin');
  assert.equal(runCli(['download', 'levit_128s', '--offline'], { LEVIT_CACHE_DIR: cache, LEVIT_SHA256_LEVIT_128S: sha }).status, 0);
});

test('levit download --verify with no model (or --all) checks every cached checkpoint and lists the others as not cached', () => {
  const env = { LEVIT_CACHE_DIR: cache };
  const put = (id: string, bytes: Buffer) => {
    const path = checkpointPath(getCard(id));
    mkdirSync(dirname(path), { recursive: true });
    writeFileSync(path, bytes);
    writeRecord(path, { sha256: sha, bytes: bytes.length, verifiedBy: 'server-digest', url: 'https://example.org/x', recordedAt: '2024-01-01T00:00:00Z' });
    return path;
  };
  put('efficientnet_b0', body);
  const cards = JSON.parse(runCli(['zoo', '--json'], env).stdout).filter((e: { checkpoint: unknown }) => e.checkpoint) as { id: string }[];
  for (const args of [['--verify'], ['--all', '--verify', '--offline'], ['--verify', '--offline', '--json']]) {
    const r = runCli(['download', ...args], env);
    assert.equal(r.status, 0, `${args.join(' ')}: ${r.stderr}`);
    if (args.includes('--json')) {
      const results = JSON.parse(r.stdout) as { model: string; status: string; sha256?: string }[];
      assert.equal(results.length, cards.length);
      const b0 = results.find((x) => x.model === 'efficientnet_b0')!;
      assert.deepEqual([b0.status, b0.sha256], ['cached', sha]);
      assert.deepEqual(
        results.find((x) => x.model === 'levit_128'),
        { model: 'levit_128', path: checkpointPath(getCard('levit_128')), status: 'not-cached' },
      );
      continue;
    }
    assert.match(r.stdout, new RegExp(`efficientnet_b0: .* re-hashed: sha256 ${sha} matches its record`));
    assert.match(r.stdout, /^levit_128: not cached$/m);
    assert.match(r.stdout, new RegExp(`^1 verified, 0 failed, ${cards.length - 1} not cached$`, 'm'));
  }
  // A cached file whose bytes changed fails with the integrity exit code; the others are still checked.
  const changed = Buffer.from(body);
  changed[5] ^= 1;
  put('efficientnet_b1', changed);
  put('efficientnet_b2', body);
  const r = runCli(['download', '--verify'], env);
  assert.equal(r.status, ExitCode.badInput, r.stderr);
  assert.match(r.stderr, /failed: efficientnet_b1: checksum mismatch/);
  assert.match(r.stdout, /efficientnet_b2: .* re-hashed/);
  assert.match(r.stdout, new RegExp(`^2 verified, 1 failed, ${cards.length - 3} not cached$`, 'm'));
  assert.match(r.stderr, /Error: 1 of 3 cached checkpoints failed verification: efficientnet_b1/);
  // A model named must be in the cache.
  assert.equal(runCli(['download', 'levit_128', '--verify', '--offline'], env).status, ExitCode.notFound);
});

test('levit download of several models, some failing, --json: each failure with its reason in error.failed (the text output prints them above)', (t) => {
  const empty = tempDir(t);
  const r = runCli(['download', 'levit_128s', 'levit_192', '--offline', '--json'], { LEVIT_CACHE_DIR: empty });
  assert.equal(r.status, ExitCode.unavailable, r.stderr);
  const error = JSON.parse(r.stdout).error;
  assert.match(error.message, /^2 of 2 checkpoints not downloaded: levit_128s, levit_192$/);
  assert.match(error.hint, /^Each one's reason is in error\.failed\./);
  assert.deepEqual(
    error.failed.map((f: { model: string; exitCode: number }) => [f.model, f.exitCode]),
    [
      ['levit_128s', ExitCode.unavailable],
      ['levit_192', ExitCode.unavailable],
    ],
  );
  assert.ok(error.failed.every((f: { reason: string }) => /not in the cache .* downloads are off/.test(f.reason)));
  assert.deepEqual(error.done, []);
  const text = runCli(['download', 'levit_128s', 'levit_192', '--offline'], { LEVIT_CACHE_DIR: empty });
  assert.match(
    text.stderr,
    /failed: levit_128s: .*\nfailed: levit_192: .*\nError: 2 of 2 checkpoints not downloaded[^\n]*\nHint: Each one's reason is above\./,
  );
});
