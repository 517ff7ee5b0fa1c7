#!/usr/bin/env node
// Speed ratios of ONNX models measured alternated in one process, with levit bench's rounds and
// statistics (src/bench/rounds.ts, src/stats/paired-intervals.ts): every round runs one slice of batches of each model,
// in a fresh seeded order, so that all of them see the same (noisy, shared) machine; each ratio
// against the first model is the ratio of median round medians, with a paired 99% interval widened by
// the between-run spread bench measured for speed-ups (src/stats/rerun-spread.ts), so that a rerun lands in it.
//
//   node scripts/alternate.mjs BASELINE.onnx OTHER.onnx [...] [--batch 16] [--threads 1] [--seconds 50]
//
// One intra-op thread by default; the rounds take about --seconds in all, after a short warm-up.
// scripts/precision-study.mjs imports alternate() for its speed columns. Run `npm run build` first.
import { basename } from 'node:path';
import { pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';
import { runRounds } from '../dist/src/bench/rounds.js';
import { medianOf, ratioInterval, seriesOf } from '../dist/src/stats/paired-intervals.js';
import { rerunSpread, widened } from '../dist/src/stats/rerun-spread.js';

/** Confidence of the ratios' intervals. */
export const CONFIDENCE = 0.99;

/** How many times faster `row` ran than `base` (base's time / row's), paired over the rounds both ran in, widened by the between-run spread. */
export function speedup(base, row) {
  if (base === row) return { value: 1, low: 1, high: 1, confidence: CONFIDENCE, rounds: row.rounds, paired: true };
  return widened(ratioInterval(base.series, row.series, { confidence: CONFIDENCE, sameRun: true }), rerunSpread('speedUp', row.threads));
}

/**
 * Each model's median ms a batch, and its speed-up over the first model (first model's time /
 * this one's) with a paired interval from the rounds both ran in.
 */
export async function alternate(paths, { batch = 16, threads = 1, seconds = 50, warmup = 0.5 } = {}) {
  const arms = [];
  try {
    for (const path of paths) {
      const session = await ort.InferenceSession.create(path, {
        graphOptimizationLevel: 'all',
        intraOpNumThreads: threads,
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
      arms.push({
        key: path,
        session,
        async slice(batches) {
          const times = [];
          for (let i = 0; i < batches; i++) {
            const t0 = performance.now();
            await session.run(feeds);
            times.push(performance.now() - t0);
          }
          return times;
        },
      });
    }
    const perModel = seconds / paths.length;
    const result = await runRounds(arms, {
      warmupSeconds: warmup,
      sliceSeconds: 0.15,
      minRounds: 15,
      durationSeconds: perModel,
      minIterations: 1,
      // Never "precise": the rounds run for the time given.
      targetCi: 0,
      maxDurationSeconds: perModel,
      maxIterations: Number.MAX_SAFE_INTEGER,
      seed: 1,
    });
    const rows = result.arms.map((a) => {
      const series = seriesOf(a);
      return { path: a.key, rounds: series.values.length, ms: medianOf(series.values), series, threads };
    });
    return rows.map((r) => ({ ...r, speedup: speedup(rows[0], r) }));
  } finally {
    for (const a of arms) await a.session.release();
  }
}

if (import.meta.url === pathToFileURL(process.argv[1]).href) {
  const { values: flags, positionals: models } = parseArgs({
    allowPositionals: true,
    options: {
      batch: { type: 'string', default: '16' },
      threads: { type: 'string', default: '1' },
      seconds: { type: 'string', default: '50' },
    },
  });
  if (models.length < 2) {
    console.error('give a baseline model and at least one other');
    process.exit(2);
  }
  const batch = Number(flags.batch);
  const rows = await alternate(models, { batch, threads: Number(flags.threads), seconds: Number(flags.seconds) });
  console.log(`batch ${batch}, ${flags.threads} thread(s), ${rows[0].rounds} interleaved rounds; speed-up over the first, ${CONFIDENCE * 100}% interval`);
  for (const r of rows) {
    const rate = ((1000 * batch) / r.ms).toFixed(1);
    const { value, low, high } = r.speedup;
    const ratio = `${value.toFixed(2)}x [${low.toFixed(2)}, ${high.toFixed(2)}]`;
    console.log(`  ${basename(r.path).padEnd(40)} ${r.ms.toFixed(2).padStart(8)} ms a batch  ${rate.padStart(7)} images/s  ${ratio}`);
  }
}
