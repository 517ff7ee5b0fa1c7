import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { appendFileSync, existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { createServer, request, type IncomingMessage, type ServerResponse } from 'node:http';
import { type AddressInfo, type Socket, createServer as createNetServer } from 'node:net';
import { join } from 'node:path';
import { beforeEach, test } from 'node:test';
import { type DownloadOptions, checkpointPath, ensureCheckpoint } from '../src/download/checkpoints.js';
import { DownloadError, fetchToFile, statedSha256 } from '../src/download/http.js';
import type { ModelCard } from '../src/models/families.js';
import { getCard } from '../src/models/registry.js';
import { describeWeights } from '../src/classifier/model.js';
import { ExitCode, LevitError } from '../src/core/errors.js';
import { floatTensor } from '../src/core/tensor.js';
import { makeDirs } from '../src/util/files.js';
import { safetensorsBuffer } from './helpers/safetensors-save.js';
import { runCli, runCliAsync, tempDir } from './helpers/shared.js';

const body = Buffer.from(Array.from({ length: 200_000 }, (_, i) => (i * 7919) % 251));
const sha = createHash('sha256').update(body).digest('hex');
const fast: DownloadOptions = { offline: false, fetch: { timeoutMs: 2000, retries: 2, backoffMs: 10 } };
let cache = '';

beforeEach((t) => {
  cache = tempDir(t as unknown as { after: (fn: () => void) => void });
  process.env.LEVIT_CACHE_DIR = cache;
});

function card(url: string, sha256: string | null = sha): ModelCard {
  return { ...getCard('levit_128s'), checkpoint: { url, sha256 } };
}

/** A local server whose every answer the test writes; it records the requests it saw. */
async function serve(t: { after: (fn: () => Promise<void> | void) => void }, handler: (req: IncomingMessage, res: ServerResponse, n: number) => void) {
  const seen: IncomingMessage[] = [];
  const server = createServer((req, res) => handler(req, res, seen.push(req)));
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => {
    server.closeAllConnections();
    return new Promise<void>((r) => server.close(() => r()));
  });
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, seen };
}

const isDownloadError = (code: number, message: RegExp) => (e: unknown) => e instanceof DownloadError && e.exitCode === code && message.test(e.message);

test('a plain HTTP/1.0 server (python3 -m http.server) serves 26 downloads out of 26', async (t) => {
  const dir = tempDir(t);
  writeFileSync(join(dir, 'LeViT.pth'), body);
  const python: ChildProcess = spawn('python3', ['-u', '-m', 'http.server', '0', '--bind', '127.0.0.1', '--directory', dir], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  t.after(() => python.kill());
  const port = await new Promise<string>((resolve, reject) => {
    python.stdout!.on('data', (d: Buffer) => {
      const m = /port (\d+)/.exec(d.toString());
      if (m) resolve(m[1]);
    });
    python.on('exit', () => reject(new Error('python3 -m http.server did not start')));
  });
  let ok = 0;
  for (let i = 0; i < 26; i++) {
    process.env.LEVIT_CACHE_DIR = join(cache, String(i));
    const r = await ensureCheckpoint(card(`http://127.0.0.1:${port}/LeViT.pth`), { ...fast, fetch: { ...fast.fetch, retries: 0 } });
    if (readFileSync(r.path).equals(body)) ok++;
  }
  assert.equal(ok, 26);
});

test('HTTP_PROXY is used for plain HTTP, and NO_PROXY bypasses it', async (t) => {
  const origin = await serve(t, (_req, res) => res.writeHead(200, { 'content-length': String(body.length) }).end(body));
  const proxied: string[] = [];
  const proxy = await serve(t, (req, res) => {
    proxied.push(req.url!);
    const upstream = request(req.url!, { headers: req.headers }, (up) => {
      res.writeHead(up.statusCode!, up.headers);
      up.pipe(res);
    });
    upstream.end();
  });
  const saved = { HTTP_PROXY: process.env.HTTP_PROXY, NO_PROXY: process.env.NO_PROXY, http_proxy: process.env.http_proxy, no_proxy: process.env.no_proxy };
  t.after(() => {
    for (const [k, v] of Object.entries(saved)) {
      if (v === undefined) delete process.env[k];
      else process.env[k] = v;
    }
  });
  delete process.env.http_proxy;
  delete process.env.no_proxy;
  process.env.HTTP_PROXY = proxy.url;
  process.env.NO_PROXY = '';
  await ensureCheckpoint(card(`${origin.url}/a.pth`), fast);
  assert.deepEqual(proxied, [`${origin.url}/a.pth`]);
  process.env.LEVIT_CACHE_DIR = join(cache, 'again');
  process.env.NO_PROXY = 'example.org,127.0.0.1';
  await ensureCheckpoint(card(`${origin.url}/a.pth`), fast);
  assert.equal(proxied.length, 1, 'NO_PROXY bypassed the proxy');
});

test('HTTPS goes through the proxy by CONNECT; a refusal is reported with the proxy named', async (t) => {
  const connects: string[] = [];
  const proxy = createServer();
  proxy.on('connect', (req, socket) => {
    connects.push(req.url!);
    socket.end('HTTP/1.1 502 Bad Gateway\r\n\r\n');
  });
  await new Promise<void>((r) => proxy.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => proxy.close(() => r())));
  const saved = process.env.HTTPS_PROXY;
  t.after(() => (saved === undefined ? delete process.env.HTTPS_PROXY : (process.env.HTTPS_PROXY = saved)));
  process.env.HTTPS_PROXY = `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`;
  await assert.rejects(
    fetchToFile('https://checkpoints.example.org/x.pth', join(cache, 'x.partial'), { timeoutMs: 2000, retries: 0, backoffMs: 10 }),
    (e: Error) => e instanceof DownloadError && /proxy 127\.0\.0\.1:\d+ refused to connect to checkpoints\.example\.org:443 \(HTTP 502\)/.test(e.message),
  );
  assert.deepEqual(connects, ['checkpoints.example.org:443']);
});

test('a server dripping bytes is abandoned by the minimum speed, and the overall deadline holds', async (t) => {
  const drip = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-length': String(body.length) });
    const timer = setInterval(() => res.write(body.subarray(0, 10)), 50);
    res.on('close', () => clearInterval(timer));
  });
  await assert.rejects(
    fetchToFile(`${drip.url}/x`, join(cache, 'x.partial'), { timeoutMs: 600, retries: 0, backoffMs: 10, minBytesPerSecond: 1000 }),
    isDownloadError(ExitCode.unavailable, /slower than 1000 bytes\/s for 0.6 s/),
  );
  await assert.rejects(
    fetchToFile(`${drip.url}/x`, join(cache, 'y.partial'), { timeoutMs: 5000, retries: 5, backoffMs: 10, minBytesPerSecond: 1, deadlineMs: 700 }),
    isDownloadError(ExitCode.unavailable, /did not finish within 1 s \(deadline\)/),
  );
  // The deadline ended the second download in its first request: none of its 5 retries was tried.
  assert.equal(drip.seen.length, 2);
});

test('a resume answered at the wrong offset is restarted, not appended', async (t) => {
  const liar = await serve(t, (req, res) => {
    if (req.headers.range) {
      res.writeHead(206, { 'content-length': String(body.length), 'content-range': `bytes 0-${body.length - 1}/${body.length}` }).end(body);
    } else res.writeHead(200, { 'content-length': String(body.length) }).end(body);
  });
  const c = card(`${liar.url}/LeViT.pth`);
  mkdirSync(join(cache, 'checkpoints'), { recursive: true });
  writeFileSync(`${checkpointPath(c)}.partial`, body.subarray(0, 5000));
  const r = await ensureCheckpoint(c, fast);
  assert.deepEqual(readFileSync(r.path), body);
  assert.equal(liar.seen.length, 2);
});

test('a chunked body cut mid-way is retried and resumed', async (t) => {
  const cut = await serve(t, (req, res, n) => {
    if (n === 1) {
      res.writeHead(200); // chunked: no content-length
      res.write(body.subarray(0, 50_000), () => setTimeout(() => res.socket?.destroy(), 20));
      return;
    }
    const start = Number(/bytes=(\d+)-/.exec(req.headers.range ?? '')?.[1] ?? 0);
    res.writeHead(start ? 206 : 200, { 'content-range': `bytes ${start}-${body.length - 1}/${body.length}` });
    res.end(body.subarray(start));
  });
  const retries: string[] = [];
  const r = await ensureCheckpoint(card(`${cut.url}/LeViT.pth`), { ...fast, fetch: { ...fast.fetch, onRetry: (_n, why) => retries.push(why) } });
  assert.deepEqual(readFileSync(r.path), body);
  assert.equal(retries.length, 1);
  assert.match(retries[0], /connection closed after \d+ bytes/);
});

test('a full disk is reported as such, at once, not as a network failure', async (t) => {
  const ok = await serve(t, (_req, res) => res.writeHead(200, { 'content-length': String(body.length) }).end(body));
  await assert.rejects(
    fetchToFile(`${ok.url}/x`, '/dev/full', { timeoutMs: 2000, retries: 4, backoffMs: 10 }),
    isDownloadError(ExitCode.failure, /the disk is full \(ENOSPC\)/),
  );
  assert.equal(ok.seen.length, 1, 'no retry');
});

test('file:// and redirect loops fail at once, without retries', async (t) => {
  await assert.rejects(ensureCheckpoint(card('file:///etc/hostname'), fast), isDownloadError(ExitCode.usage, /only http:\/\/ and https:\/\//));
  const loop = await serve(t, (req, res) => res.writeHead(302, { location: req.url === '/a' ? '/b' : '/a' }).end());
  await assert.rejects(ensureCheckpoint(card(`${loop.url}/a`), fast), isDownloadError(ExitCode.unavailable, /redirect loop/));
  assert.equal(loop.seen.length, 2);
});

test('server digests count only at full length', () => {
  assert.equal(statedSha256({ digest: 'sha-256=AA==' }), null);
  assert.equal(statedSha256({ etag: '"abcd1234"' }), null);
  assert.equal(statedSha256({ digest: `sha-256=${Buffer.from(sha, 'hex').toString('base64')}` }), sha);
});

test('concurrent downloads of one file share one transfer; a changed cache entry is never trusted', async (t) => {
  const slow = await serve(t, (_req, res) => {
    res.writeHead(200, { 'content-length': String(body.length) });
    res.write(body.subarray(0, 1000));
    setTimeout(() => res.end(body.subarray(1000)), 300);
  });
  const c = card(`${slow.url}/LeViT.pth`);
  const [a, b] = await Promise.all([ensureCheckpoint(c, fast), ensureCheckpoint(c, fast)]);
  assert.deepEqual([a.status, b.status].sort(), ['cached', 'downloaded']);
  assert.equal(slow.seen.length, 1);
  assert.deepEqual(readFileSync(a.path), body);

  appendFileSync(a.path, 'x');
  await assert.rejects(
    ensureCheckpoint(c, fast),
    (e: Error) => e instanceof LevitError && e.exitCode === ExitCode.badInput && /holds 200001 bytes, but 200000 were verified/.test(e.message),
  );
  const same = Buffer.from(body);
  same[7] ^= 1;
  writeFileSync(a.path, same);
  const r = await ensureCheckpoint(c, fast); // same size: caught when the bytes are read
  await assert.rejects(
    describeWeights({ kind: 'checkpoint', path: r.path, recorded: { sha256: r.sha256, verifiedBy: r.verified } }),
    /changed since it was verified/,
  );
  const verify = await runCliAsync(['download', 'levit_128s', '--verify'], { LEVIT_CACHE_DIR: join(cache, 'empty') });
  assert.equal(verify.status, ExitCode.notFound, verify.stderr);
});

test('a full pin from the environment is enforced, and levit download --verify re-hashes the cache', async (t) => {
  const ok = await serve(t, (_req, res) => res.writeHead(200, { 'content-length': String(body.length) }).end(body));
  const env = { LEVIT_CACHE_DIR: cache, LEVIT_MIRROR: ok.url };
  const wrong = await runCliAsync(['download', 'levit_128s', '--json'], { ...env, LEVIT_SHA256_LEVIT_128S: '0'.repeat(64) });
  assert.equal(wrong.status, ExitCode.badInput);
  assert.match(wrong.stdout + wrong.stderr, /pinned by LEVIT_SHA256_LEVIT_128S/);
  // The real file does not match the card's 32-bit prefix: pin our test body in full instead.
  const good = await runCliAsync(['download', 'levit_128s', '--sha256', sha, '--json'], env);
  assert.equal(good.status, 0, good.stderr);
  assert.equal(JSON.parse(good.stdout)[0].verified, 'full-pin');
  const path = JSON.parse(good.stdout)[0].path as string;
  const verified = await runCliAsync(['download', 'levit_128s', '--verify', '--sha256', sha], env);
  assert.equal(verified.status, 0, verified.stderr);
  assert.match(verified.stdout, new RegExp(`re-hashed: sha256 ${sha} matches its record`));
  const flipped = Buffer.from(body);
  flipped[0] ^= 1;
  writeFileSync(path, flipped);
  const broken = await runCliAsync(['download', 'levit_128s', '--verify', '--sha256', sha], env);
  assert.equal(broken.status, ExitCode.badInput);
  assert.match(broken.stderr, /checksum mismatch .*\(recorded when it was first verified\)/);
});

/** A server speaking raw HTTP/1.1, so that a body can end without Content-Length or chunking (closed connection). */
async function rawServe(t: { after: (fn: () => Promise<void> | void) => void }, handler: (range: number | null, socket: Socket, n: number) => void) {
  let n = 0;
  const server = createNetServer((socket) => {
    let head = '';
    socket.on('data', (d) => {
      head += d;
      if (!head.includes('\r\n\r\n')) return;
      const m = /\r\nrange: bytes=(\d+)-/i.exec(head);
      handler(m ? Number(m[1]) : null, socket, ++n);
    });
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  t.after(() => new Promise<void>((r) => server.close(() => r())));
  return { url: `http://127.0.0.1:${(server.address() as AddressInfo).port}`, requests: () => n };
}

/** A small but real checkpoint (safetensors), so that a cut copy is told from a whole one. */
const checkpointBytes = safetensorsBuffer(
  new Map([
    [
      'w',
      floatTensor(
        [64, 64],
        new Float32Array(4096).map((_, i) => i / 4096),
      ),
    ],
  ]),
);

test('--allow-unverified: a body cut off without a stated length is not cached as whole; it is resumed, or refused', async (t) => {
  const half = checkpointBytes.length >> 1;
  const resumable = await rawServe(t, (range, socket) => {
    const start = range ?? 0;
    const status = range === null ? '200 OK' : `206 Partial Content\r\nContent-Range: bytes ${start}-${checkpointBytes.length - 1}/${checkpointBytes.length}`;
    socket.end(
      Buffer.concat([Buffer.from(`HTTP/1.1 ${status}\r\nConnection: close\r\n\r\n`), checkpointBytes.subarray(start, range === null ? half : undefined)]),
    );
  });
  const c = card(`${resumable.url}/model.safetensors`, null);
  const r = await ensureCheckpoint(c, { ...fast, allowUnverified: true });
  assert.deepEqual(readFileSync(r.path), checkpointBytes, 'the whole file, resumed after the cut');
  assert.equal(resumable.requests(), 2);

  process.env.LEVIT_CACHE_DIR = tempDir(t);
  const alwaysCut = await rawServe(t, (_range, socket) => {
    socket.end(Buffer.concat([Buffer.from('HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n'), checkpointBytes.subarray(0, half)]));
  });
  const cut = card(`${alwaysCut.url}/model.safetensors`, null);
  await assert.rejects(ensureCheckpoint(cut, { ...fast, allowUnverified: true }), isDownloadError(ExitCode.unavailable, /stated no length.*not a whole file/));
  assert.ok(!existsSync(checkpointPath(cut)), 'nothing in the cache under the final name');
});

test('a server whose Content-Length is twice its body: a clear error, no restart loop', async (t) => {
  // It serves ranges, but every answer announces twice the bytes it sends, then closes.
  const liar = await rawServe(t, (range, socket) => {
    const start = range ?? 0;
    if (start >= body.length) {
      socket.end(`HTTP/1.1 416 Range Not Satisfiable\r\nContent-Range: bytes */${body.length}\r\nContent-Length: 0\r\n\r\n`);
      return;
    }
    const status = range === null ? '200 OK' : `206 Partial Content\r\nContent-Range: bytes ${start}-${body.length - 1}/${body.length}`;
    const head = `HTTP/1.1 ${status}\r\nContent-Length: ${2 * (body.length - start)}\r\nConnection: close\r\n\r\n`;
    socket.end(Buffer.concat([Buffer.from(head), body.subarray(start)]));
  });
  const retries: string[] = [];
  const c = card(`${liar.url}/LeViT.pth`);
  await assert.rejects(
    ensureCheckpoint(c, { ...fast, fetch: { ...fast.fetch, retries: 8, onRetry: (_n, why) => retries.push(why) } }),
    isDownloadError(ExitCode.unavailable, /contradicts itself: it announced \d+ bytes \(Content-Length\), but its file is 200000 bytes \(HTTP 416/),
  );
  assert.ok(liar.requests() <= 4, retries.join('; '));
  assert.ok(!retries.some((r) => /restarting/.test(r)), retries.join('; '));
  assert.ok(!existsSync(`${checkpointPath(c)}.partial`));

  // One that ignores Range and cuts every answer at the same place is caught on the second.
  const stubborn = await rawServe(t, (_range, socket) =>
    socket.end(Buffer.concat([Buffer.from(`HTTP/1.1 200 OK\r\nContent-Length: ${2 * body.length}\r\nConnection: close\r\n\r\n`), body])),
  );
  await assert.rejects(
    ensureCheckpoint(card(`${stubborn.url}/LeViT.pth`), { ...fast, fetch: { ...fast.fetch, retries: 8 } }),
    isDownloadError(ExitCode.unavailable, /announces 400000 bytes and sends \d+, every time/),
  );
  assert.equal(stubborn.requests(), 2);
});

test(
  'a cache folder that cannot be made (a read-only place) is said in words, at once, with what to do',
  { skip: process.platform !== 'linux' && 'needs Linux /proc (a place where no folder can be made)' },
  () => {
    const env = { LEVIT_CACHE_DIR: '/proc/levit-cache' };
    for (const args of [
      ['download', 'levit_128s'],
      ['convert', 'levit_128s', '--weights', 'synthetic'],
    ]) {
      const r = runCli(args, env);
      assert.equal(r.status, 1, r.stderr);
      assert.match(r.stderr, /^Error: cannot create the folder \/proc\/levit-cache: no folder can be made there \(ENOENT\)\nHint: .*LEVIT_CACHE_DIR/);
    }
    assert.throws(
      () => makeDirs('/proc/levit-cache/checkpoints'),
      (e: Error) => e instanceof LevitError && /cannot create the folder/.test(e.message),
    );
  },
);

test('download hints: no partial file promised when none was fetched, the cache path named (no --checkpoint); --all --offline names every model', (t) => {
  const closed = runCli(['download', 'levit_128s', '--mirror', 'http://127.0.0.1:1', '--retries', '0']);
  assert.equal(closed.status, ExitCode.unavailable);
  assert.match(closed.stderr, /Hint: .*copy it to .*LeViT-128S-96703c44\.pth, then run levit download --verify levit_128s/);
  assert.doesNotMatch(closed.stderr, /--checkpoint/);
  assert.doesNotMatch(closed.stderr, /resume/);
  mkdirSync(join(cache, 'checkpoints'), { recursive: true });
  writeFileSync(`${checkpointPath(getCard('levit_128s'))}.partial`, body.subarray(0, 1234));
  const partial = runCli(['download', 'levit_128s', '--mirror', 'http://127.0.0.1:1', '--retries', '0']);
  assert.match(partial.stderr, /A later run resumes the 1234 bytes already in .*LeViT-128S-96703c44\.pth\.partial/);

  const all = runCli(['download', '--all', '--offline'], { LEVIT_CACHE_DIR: tempDir(t) });
  assert.equal(all.status, ExitCode.unavailable);
  const withCheckpoints = JSON.parse(runCli(['zoo', '--json']).stdout).filter((e: { checkpoint: unknown }) => e.checkpoint) as { id: string }[];
  for (const { id } of withCheckpoints) assert.match(all.stderr, new RegExp(`failed: ${id}: the checkpoint is not in the cache`), id);
  assert.match(all.stderr, new RegExp(`Error: ${withCheckpoints.length} of ${withCheckpoints.length} checkpoints not downloaded`));
});
