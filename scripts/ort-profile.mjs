#!/usr/bin/env node
// Where an ONNX model's time goes on onnxruntime's CPU provider, by operator type, from its own
// profiler (enableProfiling: one event per node and run, on the optimized graph it really runs).
//
//   node scripts/ort-profile.mjs MODEL.onnx [MODEL2.onnx ...] [--batch 16] [--runs 20] [--threads 1] [--nodes 0]
//
// Prints, per model, ms per batch and share of the summed kernel time for each operator type
// (and with --nodes N the N costliest nodes). Kernel times are summed over runs after two warm-up
// runs; on a shared machine compare models in one invocation, and judge speed with alternated runs.
import { mkdtempSync, readFileSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { basename, join } from 'node:path';
import { parseArgs } from 'node:util';
import * as ort from 'onnxruntime-node';

const { values: flags, positionals: models } = parseArgs({
  allowPositionals: true,
  options: {
    batch: { type: 'string', default: '16' },
    runs: { type: 'string', default: '20' },
    threads: { type: 'string', default: '1' },
    nodes: { type: 'string', default: '0' },
  },
});
const batch = Number(flags.batch);
const runs = Number(flags.runs);
const WARMUP = 2;

async function profile(model) {
  const dir = mkdtempSync(join(tmpdir(), 'levit-profile-'));
  try {
    const session = await ort.InferenceSession.create(model, {
      graphOptimizationLevel: 'all',
      intraOpNumThreads: Number(flags.threads),
      interOpNumThreads: 1,
      executionMode: 'sequential',
      enableProfiling: true,
      profileFilePrefix: join(dir, 'profile'),
    });
    const input = session.inputNames[0];
    const meta = session.inputMetadata?.[0];
    const res = meta?.shape?.at(-1) ?? 224;
    const x = new ort.Tensor(
      'float32',
      Float32Array.from({ length: batch * 3 * res * res }, (_, i) => Math.sin(i)),
      [batch, 3, res, res],
    );
    for (let i = 0; i < WARMUP; i++) await session.run({ [input]: x });
    const t0 = performance.now();
    for (let i = 0; i < runs; i++) await session.run({ [input]: x });
    const wall = (performance.now() - t0) / runs;
    session.endProfiling();
    await session.release();
    const file = readdirSync(dir).find((f) => f.endsWith('.json'));
    const events = JSON.parse(readFileSync(join(dir, file), 'utf8'));
    // Node events come in run order; a model_run event's ts is its start: the first timed run is number WARMUP.
    const runStarts = events.filter((e) => e.name === 'model_run').map((e) => e.ts);
    const start = runStarts[WARMUP] ?? 0;
    const byType = new Map();
    const byNode = new Map();
    for (const e of events) {
      if (e.cat !== 'Node' || !e.name.endsWith('_kernel_time') || e.ts < start) continue;
      const op = e.args.op_name;
      byType.set(op, (byType.get(op) ?? 0) + e.dur);
      const node = e.name.slice(0, -'_kernel_time'.length);
      byNode.set(node, { op, us: (byNode.get(node)?.us ?? 0) + e.dur });
    }
    return { wall, byType, byNode };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}

for (const model of models) {
  const { wall, byType, byNode } = await profile(model);
  const total = [...byType.values()].reduce((a, b) => a + b, 0);
  const ms = (us) => (us / 1000 / runs).toFixed(2).padStart(7);
  console.log(`${basename(model)}: batch ${batch}, ${runs} runs, wall ${wall.toFixed(1)} ms a batch, kernels ${ms(total).trim()} ms`);
  for (const [op, us] of [...byType].sort((a, b) => b[1] - a[1])) {
    console.log(`  ${op.padEnd(28)} ${ms(us)} ms ${((100 * us) / total).toFixed(1).padStart(5)}%`);
  }
  const top = Number(flags.nodes);
  if (top > 0) {
    console.log(`  costliest nodes:`);
    for (const [node, { op, us }] of [...byNode].sort((a, b) => b[1].us - a[1].us).slice(0, top))
      console.log(`    ${node.padEnd(60)} ${op.padEnd(22)} ${ms(us)} ms`);
  }
}
