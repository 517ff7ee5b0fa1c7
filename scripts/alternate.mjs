#!/usr/bin/env node
// Speed ratios of ONNX models measured alternated in one process: every round runs one batch of
// each model, in a fresh random order, so that all of them see the same (noisy, shared) machine.
// Prints each model's median ms a batch and the ratio of medians against the first model.
//
//   node scripts/alternate.mjs BASELINE.onnx OTHER.onnx [...] [--batch 16] [--rounds 60] [--threads 1] [--seconds 50]
//
// Each session runs on one intra-op thread by default; rounds stop early after --seconds.
import { basename } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';

const { values: flags, positionals: models } = parseArgs({
  allowPositionals: true,
  options: {
    batch: { type: 'string', default: '16' },
    rounds: { type: 'string', default: '60' },
    threads: { type: 'string', default: '1' },
    seconds: { type: 'string', default: '50' },
  },
});
if (models.length < 2) {
  console.error('give a baseline model and at least one other');
  process.exit(2);
}
const batch = Number(flags.batch);
const sessions = [];
for (const path of models) {
  const session = await ort.InferenceSession.create(path, {
    graphOptimizationLevel: 'all',
    intraOpNumThreads: Number(flags.threads),
    interOpNumThreads: 1,
    executionMode: 'sequential',
  });
  const res = session.inputMetadata?.[0]?.shape?.at(-1) ?? 224;
  const x = new ort.Tensor(
    'float32',
    Float32Array.from({ length: batch * 3 * res * res }, (_, i) => Math.sin(i)),
    [batch, 3, res, res],
  );
  const feeds = { [session.inputNames[0]]: x };
  await session.run(feeds); // warm-up
  await session.run(feeds);
  sessions.push({ path, session, feeds, times: [] });
}
const deadline = performance.now() + 1000 * Number(flags.seconds);
for (let r = 0; r < Number(flags.rounds) && performance.now() < deadline; r++) {
  const order = sessions.map((s) => [Math.random(), s]).sort((a, b) => a[0] - b[0]);
  for (const [, s] of order) {
    const t0 = performance.now();
    await s.session.run(s.feeds);
    s.times.push(performance.now() - t0);
  }
}
const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};
const base = median(sessions[0].times);
console.log(`batch ${batch}, ${flags.threads} thread(s), ${sessions[0].times.length} alternated rounds`);
for (const s of sessions) {
  const m = median(s.times);
  const rate = ((1000 * batch) / m).toFixed(1);
  console.log(`  ${basename(s.path).padEnd(40)} ${m.toFixed(2).padStart(8)} ms a batch  ${rate.padStart(7)} images/s  ${(base / m).toFixed(2)}x`);
}
for (const s of sessions) await s.session.release();
