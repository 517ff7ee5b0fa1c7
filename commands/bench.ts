import { Flags } from '@oclif/core';
import { LevitCommand } from '../src/cli/base.js';
import {
  benchListFlags,
  calibrationFlag,
  forceFlag,
  int8SaturationFlag,
  machineCheck,
  machineCheckFlags,
  modelList,
  onnxFlag,
  precisionFlags,
  precisionSpecs,
  tokenFusionListFlag,
  weightsChoice,
  weightsFlags,
} from '../src/cli/flags.js';
import { roundFlags, roundSettings } from '../src/cli/round-flags.js';
import { onInterrupt } from '../src/cli/interrupt.js';
import { ExitCode } from '../src/core/errors.js';
import { preflightOutput } from '../src/util/output.js';
import { Progress, duration } from '../src/cli/progress.js';
import { renderPlot } from '../src/render/plot.js';
import { outputWidth, wrapText } from '../src/render/fit.js';
import { renderMarkdown, renderRecordLine, renderTable } from '../src/render/bench.js';
import { type BenchResults, RESULTS_SCHEMA } from '../src/results/types.js';
import { appendHistory, machineBaseline, saveBaseline } from '../src/results/store.js';
import { appendRunHistory, machineRunSpreads } from '../src/stats/run-history.js';
import { detectEmulation, refuseEmulated } from '../src/results/emulation.js';
import { renderClaims, renderClaimsMarkdown } from '../src/render/claims.js';
import { type ClaimCheck, checkClaims, loadClaims } from '../src/claims/speed-claims.js';
import { DEFAULT_MODELS, runBench } from '../src/bench/runner.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { defaultDownloadOptions } from '../src/download/checkpoints.js';
import { benchCsv } from '../src/render/csv.js';
import { prose } from '../src/cli/prose.js';

export default class Bench extends LevitCommand {
  static override summary = 'Measure throughput and latency of models on this machine, per backend, thread count and batch.';
  static override description = prose(`Every configuration of the run (model, backend, precision, threads, batch) is loaded
together and measured in interleaved rounds: each round runs every configuration for one
slice (--slice seconds, at least one batch) in a fresh random order, after
each configuration's own --warmup (--order-seed seeds the order). Whatever the machine does during a round, every
configuration sees it; this is how shared cloud machines, whose speed swings by a third for
seconds at a time, still give figures to decide on. The machine check, a float32 MatMul, runs as one
more configuration of every round: it measures the machine, for comparisons between machines.

Rounds go on until --min-rounds, --duration seconds and --min-iterations batches per
configuration, then until every configuration's images/s is known to --target-ci (95%), or
the rounds have taken --max-duration seconds per configuration on average.

Images/s is the median over rounds of each round's median batch time, with a 95% interval
from resampling whole rounds (in blocks of consecutive rounds). A whole run can fall in one
state of a shared host, which its rounds cannot see: every completed run leaves a summary in
levit's cache (bench-history/), and from three runs of a configuration on, its interval
includes how far it moved between them on this machine (the table says by how much); until
then it is the rounds' own, and the table says reruns may move more. Speed-ups (one model over
another, a precision over float32, the claims) are paired: computed from the rounds both ran
in, resampled jointly, so the machine's drift divides out; their intervals are then widened
by how far such a ratio was measured to move from one run to the next on levit's shared VM
(±11% on one thread, ±29% on more), or on this machine where its runs show more. Latency is reported as mean ± σ and
min … max of the batch times (as hyperfine prints them), median, p90 and p99. --csv writes
timm benchmark.py's inference columns. Building artifacts and creating sessions happen before
timing and are reported apart. When the sessions do not fit in memory together they are
measured in groups, each in its own rounds, and the output says so.

The machine check (the float32 MatMul, "machine_check" in the results) puts results from
different machines on one scale and gives each configuration's share of its speed;
--no-machine-check leaves it out. bench warns when this machine's check runs under 80% of its
baseline's (results/baselines; only a baseline of the same kind of CPU, by its instruction-set flags).

Ctrl-C stops after the round in progress: the rounds finished so far are kept, printed and
written to --out (marked interrupted), and bench exits 130.

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
not hold or inconclusive, from the paired interval of the measured speed-up.
--claims lists every claim, with why the others are not measured here (docs/claims.md).

--token-fusion none,mctf,tome:13 (DeiT and ViT; levit convert --help explains the settings):
each setting is its own configuration, a row of its own in the table with its own FLOPs and
its speed-up over the plain model ("vs plain"); models that cannot merge tokens (LeViT,
EfficientNet, ...) run once, plain. Fused rows show the plain model's published top-1 in
parentheses: fusion changes accuracy, which levit eval --token-fusion measures.`);
  static override examples = [
    '<%= config.bin %> bench',
    "<%= config.bin %> bench 'levit*' efficientnet --threads 1 --batch 16",
    '<%= config.bin %> bench levit_128s efficientnet_b0 --backend ort-cpu --threads 1 --batch 16 --duration 3 --json',
    '<%= config.bin %> bench levit_256 --threads 1,2,all --batch 1,16 --out results/mine.json --plot speed.svg',
    '<%= config.bin %> bench levit_192 efficientnet_b2 --threads 1 --batch 16 --min-iterations 20 --claims',
    '<%= config.bin %> bench LeViT_128S efficientnet_b0.ra_in1k --batch 1,16 --csv bench.csv',
    '<%= config.bin %> bench levit_128s --weights official --precision fp32,int8,fp16 --calibration imagenet/calib --threads 1 --batch 1,16',
    '<%= config.bin %> bench deit_small_patch16_224 --token-fusion none,mctf,mctf-fast,tome:8,tome:13 --threads 1 --batch 16',
    '<%= config.bin %> bench levit_128s deit_tiny_patch16_224 --token-fusion none,mctf --threads 1 --plot fusion.svg',
  ];
  static override strict = false;
  // The models are the non-strict command's arguments, which oclif's usage line would leave out.
  static override usage = '<%= command.id %> [MODEL...] [FLAGS]';
  static override args = {};
  static override flags = {
    ...weightsFlags('synthetic'),
    ...benchListFlags,
    ...roundFlags,
    'max-memory': Flags.integer({
      description: 'MiB the loaded sessions may take together; past it they are measured in groups (default: 60% of the free memory)',
      min: 1,
      helpValue: 'MIB',
    }),
    out: Flags.string({ char: 'o', description: `write the results (JSON, schema ${RESULTS_SCHEMA}) to FILE`, helpValue: 'FILE' }),
    markdown: Flags.boolean({ description: 'print the table as Markdown' }),
    csv: Flags.string({ description: "write one row per configuration with timm benchmark.py's inference columns to FILE", helpValue: 'FILE.csv' }),
    plot: Flags.string({ description: 'write the speed/accuracy plot (SVG) to FILE', helpValue: 'FILE.svg' }),
    ...onnxFlag('time', '; the table labels it external'),
    ...int8SaturationFlag,
    record: Flags.boolean({ description: "append the results to this machine's history (results/history/<machine>.jsonl)" }),
    'save-baseline': Flags.boolean({ description: "make the results this machine's baseline (results/baselines/<machine>.json)" }),
    all: Flags.boolean({ description: 'every model of the zoo (levit zoo lists them)' }),
    claims: Flags.boolean({ description: 'list every published speed claim, also those this run cannot test (and why)' }),
    'keep-going': Flags.boolean({ description: 'skip a batch size that fails (e.g. out of GPU memory), saying why, instead of stopping' }),
    ...machineCheckFlags,
    calibration: calibrationFlag(['calibration-dir']),
    ...precisionFlags("precisions of the artifacts, comma-separated: fp32, fp16, int8 (the table shows each one's speed-up over fp32)", 'fp32'),
    ...tokenFusionListFlag,
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
    const interrupt = onInterrupt(() => progress.log('interrupted: finishing the round in progress (Ctrl-C again to quit at once)'));
    let results: BenchResults;
    try {
      results = await runBench(
        {
          models,
          backends: flags.backend,
          threads: flags.threads,
          batches: flags.batch,
          weights: weightsChoice(flags),
          download: defaultDownloadOptions(flags),
          rounds: roundSettings(flags),
          machineCheck: machineCheck(flags),
          precisions: await precisionSpecs(flags.precision, flags, flags.calibration),
          reference: machineBaseline,
          betweenRuns: machineRunSpreads,
          externalOnnx: flags.onnx,
          allowInt8Saturation: flags['allow-int8-saturation'],
          keepGoing: flags['keep-going'],
          memoryBudgetBytes: flags['max-memory'] === undefined ? undefined : flags['max-memory'] * 2 ** 20,
          fusions: flags['token-fusion'],
        },
        {
          phase: (m) => progress.update(m, true),
          group: (i, n, label) => progress.log(`${label}: ${n} configuration${n === 1 ? '' : 's'} loaded; warming up, then interleaved rounds`),
          warmup: (label, i, n) => progress.update(`warming up [${i + 1}/${n}] ${label}`, true),
          round: (r, elapsed) => progress.update(`round ${r} (at least ${flags['min-rounds']}), ${duration(elapsed)}`),
          configDone: (r) => progress.log(wrapText(renderRecordLine(r), outputWidth(process.stderr))),
          skipped: (message) => progress.log(`note: ${message}`),
          warning: (message) => progress.log(`warning: ${message}`),
        },
        interrupt.signal,
      );
    } finally {
      interrupt.dispose();
    }
    progress.clear();
    if (flags.out) writeFileAtomic(flags.out, `${JSON.stringify(results, null, 1)}\n`);
    if (flags.plot) writeFileAtomic(flags.plot, renderPlot(results));
    if (flags.csv) writeFileAtomic(flags.csv, benchCsv(results.records));
    const stored = [flags.record ? `history: ${appendHistory(results)}` : '', flags['save-baseline'] ? `baseline: ${saveBaseline(results, flags.force)}` : ''];
    this.keepRun(results, progress);
    this.log(flags.markdown ? renderMarkdown(results) : renderTable(results));
    const checks = checkClaims(results, loadClaims());
    const shown = flags.claims ? checks : checks.filter((c) => c.verdict !== 'not measured');
    if (shown.length) this.log(`\nPublished speed claims\n${flags.markdown ? renderClaimsMarkdown(shown) : renderClaims(shown)}`);
    if (flags.out) this.log(`results: ${flags.out}`);
    if (flags.plot) this.log(`plot: ${flags.plot}`);
    if (flags.csv) this.log(`csv: ${flags.csv}`);
    for (const line of stored.filter(Boolean)) this.log(line);
    if (results.interrupted) {
      this.logToStderr(`interrupted after ${results.schedule?.rounds ?? 0} rounds${flags.out ? `: what was measured is in ${flags.out}` : ''}`);
      process.exitCode = ExitCode.interrupted;
    }
    return { ...results, claims: checks };
  }

  /**
   * The run's summary into levit's history of this machine, for the spread between runs of later ones;
   * a cache that cannot be written costs a note, not the run.
   */
  private keepRun(results: BenchResults, progress: Progress): void {
    try {
      appendRunHistory(results);
    } catch (e) {
      progress.log(`note: this run was not added to levit's history of this machine (${(e as Error).message})`);
    }
  }
}
