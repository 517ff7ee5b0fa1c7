import { Flags } from '@oclif/core';
import { LevitCommand } from '../src/cli/base.js';
import { benchListFlags, calibrationDirFlag, parseList, precisionFlags, precisionSpecs, weightsChoice, weightsFlags } from '../src/cli/flags.js';
import { Progress, duration } from '../src/cli/progress.js';
import { renderPlot } from '../src/render/plot.js';
import { renderMarkdown, renderRecordLine, renderTable } from '../src/render/bench.js';
import type { BenchResults } from '../src/bench/results.js';
import { appendHistory, saveBaseline } from '../src/bench/store.js';
import { DEFAULT_MODELS, runBench } from '../src/bench/runner.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { defaultDownloadOptions } from '../src/download/checkpoints.js';
import { benchCsv } from '../src/render/csv.js';

export default class Bench extends LevitCommand {
  static override summary = 'Measure throughput and latency of models on this machine, per backend, thread count and batch.';
  static override description = `Each configuration is warmed up for --warmup seconds, then timed batch by batch for
--duration seconds (at least --min-iterations batches). Images/s come from the median
batch time; latency is reported as mean ± σ and min … max (as hyperfine prints them), median,
p90 and p99, with the relative interquartile range as the spread. Columns at batch 1 also
show their latency in the table. --csv writes timm benchmark.py's inference columns
(model, infer_samples_per_sec, infer_step_time, infer_batch_size, infer_img_size, param_count). Building artifacts and creating sessions happen before
timing and are reported apart. A calibration (single-thread float32 MatMul GFLOP/s) makes
results from different machines comparable.

With no models, runs the paper's comparison: ${DEFAULT_MODELS.join(', ')},
on ort-cpu with 1 thread and all threads, batch 16, synthetic weights (speed does not
depend on the weight values; the table says so).`;
  static override examples = [
    '<%= config.bin %> bench',
    '<%= config.bin %> bench levit_128s efficientnet_b0 --backend ort-cpu --threads 1 --batch 16 --duration 3 --json',
    '<%= config.bin %> bench levit_256 --threads 1,2,all --batch 1,16 --out results/mine.json --plot speed.svg',
    '<%= config.bin %> bench LeViT_128S efficientnet_b0.ra_in1k --batch 1,16 --csv bench.csv',
    '<%= config.bin %> bench levit_128s --weights official --precision fp32,int8,fp16 --calibration-dir imagenet/calib --threads 1 --batch 1,16',
  ];
  static override strict = false;
  static override args = {};
  static override flags = {
    ...weightsFlags('synthetic'),
    ...benchListFlags,
    duration: Flags.string({ description: 'seconds of timed runs per configuration', default: '3' }),
    warmup: Flags.string({ description: 'seconds of warm-up per configuration (at least one run)', default: '1' }),
    'min-iterations': Flags.integer({ description: 'timed batches at least, even past --duration', default: 5 }),
    'max-iterations': Flags.integer({ description: 'timed batches at most', default: 10000 }),
    out: Flags.string({ char: 'o', description: 'write the results (JSON, schema levit-bench/1) to FILE', helpValue: 'FILE' }),
    markdown: Flags.boolean({ description: 'print the table as Markdown' }),
    csv: Flags.string({ description: "write one row per configuration with timm benchmark.py's inference columns to FILE", helpValue: 'FILE.csv' }),
    plot: Flags.string({ description: 'write the speed/accuracy plot (SVG) to FILE', helpValue: 'FILE.svg' }),
    onnx: Flags.string({ description: "time this ONNX file (e.g. a torch.onnx export) for the one model named, instead of levit's own", helpValue: 'FILE' }),
    record: Flags.boolean({ description: "append the results to this machine's history (results/history/<machine>.jsonl)" }),
    'save-baseline': Flags.boolean({ description: "make the results this machine's baseline (results/baselines/<machine>.json)" }),
    calibration: Flags.boolean({ description: 'measure the machine (float32 MatMul GFLOP/s) first', default: true, allowNo: true }),
    'calibration-dir': calibrationDirFlag('int8: folder of representative images for static int8 (see levit convert --help); without it int8 is dynamic'),
    ...precisionFlags('precisions of the artifacts, comma-separated: fp32, fp16, int8 (the table shows each one\'s speed-up over fp32)', 'fp32'),
  };

  async run(): Promise<BenchResults> {
    const { argv, flags } = await this.parse(Bench);
    const seconds = (flag: string, v: string) => parseList(flag, v, (s) => (Number(s) >= 0 ? Number(s) : undefined))[0];
    const models = (argv as string[]).length ? (argv as string[]) : DEFAULT_MODELS;
    const progress = new Progress();
    let configStarted = 0;
    let label = '';
    const results = await runBench(
      {
        models,
        backends: flags.backend,
        threads: flags.threads,
        batches: flags.batch,
        weights: weightsChoice(flags),
        download: defaultDownloadOptions(flags),
        measure: {
          warmupSeconds: seconds('warmup', flags.warmup),
          durationSeconds: seconds('duration', flags.duration),
          minIterations: flags['min-iterations'],
          maxIterations: flags['max-iterations'],
        },
        calibrate: flags.calibration,
        precisions: precisionSpecs(flags.precision, flags, flags['calibration-dir']),
        externalOnnx: flags.onnx,
      },
      {
        phase: (m) => progress.update(m, true),
        configStart: (i, n, l) => {
          configStarted = i;
          label = `[${i}/${n}] ${l}`;
          progress.update(`${label}: building and warming up`, true);
        },
        iteration: (done, elapsed) => progress.update(`${label}: ${done} timed batches, ${duration(elapsed)}`),
        configDone: (r) => progress.log(`[${configStarted}] ${renderRecordLine(r)}`),
        skipped: (message) => progress.log(`note: ${message}`),
      },
    );
    progress.clear();
    if (flags.out) writeFileAtomic(flags.out, `${JSON.stringify(results, null, 1)}\n`);
    if (flags.plot) writeFileAtomic(flags.plot, renderPlot(results));
    if (flags.csv) writeFileAtomic(flags.csv, benchCsv(results.records));
    const stored = [flags.record ? `history: ${appendHistory(results)}` : '', flags['save-baseline'] ? `baseline: ${saveBaseline(results)}` : ''];
    this.log(flags.markdown ? renderMarkdown(results) : renderTable(results));
    if (flags.out) this.log(`results: ${flags.out}`);
    if (flags.plot) this.log(`plot: ${flags.plot}`);
    if (flags.csv) this.log(`csv: ${flags.csv}`);
    for (const line of stored.filter(Boolean)) this.log(line);
    return results;
  }
}
