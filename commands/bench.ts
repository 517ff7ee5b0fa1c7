import { Flags } from '@oclif/core';
import { LevitCommand } from '../src/cli/base.js';
import {
  benchListFlags,
  calibrationFlag,
  forceFlag,
  machineCheck,
  machineCheckFlags,
  modelList,
  numberFlag,
  precisionFlags,
  precisionSpecs,
  weightsChoice,
  weightsFlags,
} from '../src/cli/flags.js';
import { MIN_BATCHES } from '../src/compare/interval.js';
import { preflightOutput } from '../src/util/output.js';
import { Progress, duration } from '../src/cli/progress.js';
import { renderPlot } from '../src/render/plot.js';
import { renderMarkdown, renderRecordLine, renderTable } from '../src/render/bench.js';
import { type BenchResults, RESULTS_SCHEMA } from '../src/bench/results.js';
import { appendHistory, machineBaseline, saveBaseline } from '../src/bench/store.js';
import { detectEmulation, refuseEmulated } from '../src/bench/emulation.js';
import { renderClaims, renderClaimsMarkdown } from '../src/render/claims.js';
import { type ClaimCheck, checkClaims, loadClaims } from '../src/compare/claims.js';
import { DEFAULT_MODELS, runBench } from '../src/bench/runner.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { defaultDownloadOptions } from '../src/download/checkpoints.js';
import { benchCsv } from '../src/render/csv.js';

export default class Bench extends LevitCommand {
  static override summary = 'Measure throughput and latency of models on this machine, per backend, thread count and batch.';
  static override description = `Each configuration is warmed up for --warmup seconds, then timed batch by batch for
--duration seconds (at least --min-iterations batches). Images/s come from the median
batch time; latency is reported as mean ± σ and min … max (as hyperfine prints them), median,
p90 and p99, with the relative interquartile range as the spread; columns at batch 1 also show
their latency in the table. --csv writes timm benchmark.py's inference columns (model,
infer_samples_per_sec, infer_step_time, infer_batch_size, infer_img_size, param_count).
Building artifacts and creating sessions happen before timing and are reported apart.

Adaptive stopping: past --duration and --min-iterations, timing goes on until the median's
95% interval is within --target-ci of it, or --max-duration is spent; each record says why
it stopped. The default minimum, ${MIN_BATCHES} batches, is what levit compare needs to decide.

A machine check (single-thread float32 MatMul GFLOP/s, the "calibration" in the results) makes
results from different machines comparable; --no-machine-check skips it. It is repeated briefly
after each configuration: a record whose calibrations
before and after disagree by over 15%, or fall under 80% of the run's first one, is flagged
as taken on a busy machine (a "!" in the table, "stability" in the JSON), and levit compare
calls it inconclusive. bench warns when this machine calibrates under 80% of its baseline's
(results/baselines).

Models are named as in timm: ids or timm names, shell patterns ('levit*', quoted; as timm's
list_models takes them), or families (levit, efficientnet, deit, ...); --all runs every model
of the zoo. With no models, runs the paper's comparison: ${DEFAULT_MODELS.join(', ')},
on ort-cpu with 1 thread and all threads, batch 16, synthetic weights (speed does not
depend on the weight values; the table says so).

Under emulation (qemu-user, Rosetta 2; LEVIT_EMULATED=1 forces it) the run still works,
but its times are the translator's: records and tables say "emulated", and --record and
--save-baseline refuse to store them.

Published speed claims (the LeViT paper's Table 3 and headline, EfficientFormer's against
LeViT; zoo/claims/) follow the table with a verdict for each the run measured: holds, does
not hold or inconclusive, from a seeded bootstrap interval of the measured speed-up.
--claims lists every claim, with why the others are not measured here (docs/claims.md).`;
  static override examples = [
    '<%= config.bin %> bench',
    "<%= config.bin %> bench 'levit*' efficientnet --threads 1 --batch 16",
    '<%= config.bin %> bench levit_128s efficientnet_b0 --backend ort-cpu --threads 1 --batch 16 --duration 3 --json',
    '<%= config.bin %> bench levit_256 --threads 1,2,all --batch 1,16 --out results/mine.json --plot speed.svg',
    '<%= config.bin %> bench levit_192 efficientnet_b2 --threads 1 --batch 16 --min-iterations 20 --claims',
    '<%= config.bin %> bench LeViT_128S efficientnet_b0.ra_in1k --batch 1,16 --csv bench.csv',
    '<%= config.bin %> bench levit_128s --weights official --precision fp32,int8,fp16 --calibration imagenet/calib --threads 1 --batch 1,16',
  ];
  static override strict = false;
  static override args = {};
  static override flags = {
    ...weightsFlags('synthetic'),
    ...benchListFlags,
    duration: numberFlag({ description: 'seconds of timed runs per configuration, at least', default: 3, min: 0, helpValue: 'SECONDS' }),
    'max-duration': numberFlag({
      description:
        'time cap: seconds of timed runs per configuration at most while the median is not yet as precise as --target-ci (--min-iterations come first)',
      default: 15,
      min: 0,
      exclusive: true,
      helpValue: 'SECONDS',
    }),
    'target-ci': numberFlag({
      description: "relative half-width of the median's 95% interval to reach before stopping",
      default: 0.02,
      min: 0,
      helpValue: 'FRACTION',
    }),
    warmup: numberFlag({ description: 'seconds of warm-up per configuration (at least one run)', default: 1, min: 0, helpValue: 'SECONDS' }),
    'min-iterations': Flags.integer({
      description: `timed batches at least, even past --duration (levit compare needs ${MIN_BATCHES} to decide)`,
      default: MIN_BATCHES,
      min: 1,
    }),
    'max-iterations': Flags.integer({ description: 'timed batches at most', default: 10000, min: 1 }),
    out: Flags.string({ char: 'o', description: `write the results (JSON, schema ${RESULTS_SCHEMA}) to FILE`, helpValue: 'FILE' }),
    markdown: Flags.boolean({ description: 'print the table as Markdown' }),
    csv: Flags.string({ description: "write one row per configuration with timm benchmark.py's inference columns to FILE", helpValue: 'FILE.csv' }),
    plot: Flags.string({ description: 'write the speed/accuracy plot (SVG) to FILE', helpValue: 'FILE.svg' }),
    onnx: Flags.string({
      description:
        "time this ONNX file (e.g. a torch.onnx export) for the one model named, instead of levit's own; " +
        "its parameter count must be within 10% of the model's, and the table labels it external",
      helpValue: 'FILE',
    }),
    record: Flags.boolean({ description: "append the results to this machine's history (results/history/<machine>.jsonl)" }),
    'save-baseline': Flags.boolean({ description: "make the results this machine's baseline (results/baselines/<machine>.json)" }),
    all: Flags.boolean({ description: 'every model of the zoo (levit zoo lists them)' }),
    claims: Flags.boolean({ description: 'list every published speed claim, also those this run cannot test (and why)' }),
    'keep-going': Flags.boolean({ description: 'skip a batch size that fails (e.g. out of GPU memory), saying why, instead of stopping' }),
    ...machineCheckFlags,
    calibration: calibrationFlag(['calibration-dir']),
    ...precisionFlags("precisions of the artifacts, comma-separated: fp32, fp16, int8 (the table shows each one's speed-up over fp32)", 'fp32'),
    ...forceFlag,
  };

  async run(): Promise<BenchResults & { claims: ClaimCheck[] }> {
    const { argv, flags } = await this.parse(Bench);
    // Before minutes of timing, not after: the store refuses emulated results anyway.
    if (flags.record || flags['save-baseline']) refuseEmulated(detectEmulation(), flags.record ? '--record' : '--save-baseline');
    if (flags.out) preflightOutput(flags.out, 'out', 'file');
    if (flags.plot) preflightOutput(flags.plot, 'plot', 'file');
    if (flags.csv) preflightOutput(flags.csv, 'csv', 'file');
    const models = modelList(argv as string[], flags.all) ?? DEFAULT_MODELS;
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
          warmupSeconds: flags.warmup,
          durationSeconds: flags.duration,
          maxDurationSeconds: flags['max-duration'],
          targetCi: flags['target-ci'],
          minIterations: flags['min-iterations'],
          maxIterations: flags['max-iterations'],
        },
        calibrate: machineCheck(flags),
        precisions: precisionSpecs(flags.precision, flags, flags.calibration),
        reference: machineBaseline,
        externalOnnx: flags.onnx,
        keepGoing: flags['keep-going'],
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
        warning: (message) => progress.log(`warning: ${message}`),
      },
    );
    progress.clear();
    if (flags.out) writeFileAtomic(flags.out, `${JSON.stringify(results, null, 1)}\n`);
    if (flags.plot) writeFileAtomic(flags.plot, renderPlot(results));
    if (flags.csv) writeFileAtomic(flags.csv, benchCsv(results.records));
    const stored = [flags.record ? `history: ${appendHistory(results)}` : '', flags['save-baseline'] ? `baseline: ${saveBaseline(results, flags.force)}` : ''];
    this.log(flags.markdown ? renderMarkdown(results) : renderTable(results));
    const checks = checkClaims(results, loadClaims());
    const shown = flags.claims ? checks : checks.filter((c) => c.verdict !== 'not measured');
    if (shown.length) this.log(`\nPublished speed claims\n${flags.markdown ? renderClaimsMarkdown(shown) : renderClaims(shown)}`);
    if (flags.out) this.log(`results: ${flags.out}`);
    if (flags.plot) this.log(`plot: ${flags.plot}`);
    if (flags.csv) this.log(`csv: ${flags.csv}`);
    for (const line of stored.filter(Boolean)) this.log(line);
    return { ...results, claims: checks };
  }
}
