#!/usr/bin/env node
// Speed ratios of ONNX models measured alternated in one process: every round runs one batch of
// each model, in a fresh random order, so that all of them see the same (noisy, shared) machine.
// Prints each model's median ms a batch and the ratio of medians against the first model.
//
//   node scripts/alternate.mjs BASELINE.onnx OTHER.onnx [...] [--batch 16] [--rounds 60] [--threads 1] [--seconds 50]
//
// Each session runs on one intra-op thread by default; rounds stop early after --seconds.
// scripts/precision-study.mjs imports alternate() for its speed columns.
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';

const median = (a) => {
  const s = [...a].sort((x, y) => x - y);
  return s.length % 2 ? s[(s.length - 1) / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
};

/** Median ms a batch of each model, alternated in random order each round; ratio = first model's median / this one's. */
export async function alternate(paths, { batch = 16, rounds = 60, threads = 1, seconds = 50 } = {}) {
  const sessions = [];
  try {
    for (const path of paths) {
      const session = await ort.InferenceSession.create(path, {
        graphOptimizationLevel: 'all',
        intraOpNumThreads: threads,
        interOpNumThreads: 1,
        executionMode: 'sequential',
      });
      sessions.push({ path, session, times: [] });
      const res = session.inputMetadata?.[0]?.shape?.at(-1) ?? 224;
      const x = new ort.Tensor(
        'float32',
        Float32Array.from({ length: batch * 3 * res * res }, (_, i) => Math.sin(i)),
        [batch, 3, res, res],
      );
      sessions.at(-1).feeds = { [session.inputNames[0]]: x };
      await session.run(sessions.at(-1).feeds); // warm-up
      await session.run(sessions.at(-1).feeds);
    }
    const deadline = performance.now() + 1000 * seconds;
    for (let r = 0; r < rounds && performance.now() < deadline; r++) {
      const order = sessions.map((s) => [Math.random(), s]).sort((a, b) => a[0] - b[0]);
      for (const [, s] of order) {
        const t0 = performance.now();
        await s.session.run(s.feeds);
        s.times.push(performance.now() - t0);
      }
    }
  } finally {
    for (const s of sessions) await s.session.release();
  }
  const base = median(sessions[0].times);
  return sessions.map((s) => ({ path: s.path, rounds: s.times.length, ms: median(s.times), ratio: base / median(s.times) }));
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
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
  const rows = await alternate(models, { batch, rounds: Number(flags.rounds), threads: Number(flags.threads), seconds: Number(flags.seconds) });
  console.log(`batch ${batch}, ${flags.threads} thread(s), ${rows[0].rounds} alternated rounds`);
  for (const r of rows) {
    const rate = ((1000 * batch) / r.ms).toFixed(1);
    console.log(`  ${basename(r.path).padEnd(40)} ${r.ms.toFixed(2).padStart(8)} ms a batch  ${rate.padStart(7)} images/s  ${r.ratio.toFixed(2)}x`);
  }
}
