import { Args, Flags } from '@oclif/core';
import { existsSync, statSync } from 'node:fs';
import { LevitCommand } from '../src/cli/base.js';
import { readResults } from '../src/results/read.js';
import { machineId } from '../src/results/machine-id.js';
import { findBaseline } from '../src/results/store.js';
import { DEFAULT_MODELS } from '../src/bench/runner.js';
import { type CompareOptions, type CompareReport, compareExitCode, compareResults, parseFraction, parseThreshold } from '../src/compare/compare.js';
import { type LiveReport, compareLive, sideOf } from '../src/compare/live.js';
import { renderCompareMarkdown, renderCompareTable, selfTestLine } from '../src/render/compare.js';
import { ExitCode, LevitError } from '../src/core/errors.js';
import { configurationFlags, int8SaturationFlag, listFlag, numberFlag } from '../src/cli/flags.js';
import { roundFlags, roundSettings } from '../src/cli/round-flags.js';
import { Progress, duration } from '../src/cli/progress.js';
import { onInterrupt } from '../src/cli/interrupt.js';
import { packageRoot } from '../src/util/paths.js';
import { prose } from '../src/cli/prose.js';
import { selectModels } from '../src/models/select.js';

/**
 * The change that counts by default. Live, both sides are paired round by round and pinned to the same
 * cores: measured here, their 99% intervals are about ±2% wide, so 5% is decided (a real 1.10x slowdown
 * is called regressed) while identical sides stay unchanged. Two results files share no rounds and
 * differ by the runs' own drift: their intervals are wider, and 10% is what they can tell.
 */
const [LIVE_THRESHOLD, FILES_THRESHOLD] = ['5%', '10%'];

/** A live side: a folder (a levit checkout) or an .onnx file; anything else is a results file. */
const isLiveSide = (arg: string) => arg.endsWith('.onnx') || (existsSync(arg) && statSync(arg).isDirectory());

export default class Compare extends LevitCommand {
  static override summary = 'Compare two benchmarks: results files, or two checkouts or ONNX files measured live in interleaved rounds (for CI).';
  static override description = prose(`Two ways to compare, decided by what BASELINE and CURRENT are:

Results files (levit bench --out): records are matched by model, backend, threads, batch,
resolution and precision, and their medians over rounds compared; files from different
machines are put on one scale first, the current times scaled by the ratio of the two runs'
machine checks (float32 MatMul GFLOP/s). The (1 - alpha) interval of the change comes from
resampling each file's rounds on its own (seeded: the same files always get the same verdict):
two runs minutes apart saw different machines, so nothing is paired and a busy spell in one of
them widens its interval. And a whole run can fall in one state of a shared host: the interval
also includes how far one configuration's speed was measured to move between runs there
(--run-spread, a standard deviation; by default 9.5% on one thread, 16% on more, from 13 runs
back to back on this project's 2-core VM, or the machine's own from its earlier runs where the
records carry a larger one), so that two files decide only large changes
(about 1.5x and more). Give --run-spread 0 on a dedicated machine. Identical timings (a file against itself)
are unchanged. To decide a smaller change on a shared machine, measure both sides live (below).

Live (two levit checkouts, or two .onnx files): both sides are measured now, in the same
interleaved rounds: a worker process of each checkout (its own levit, onnxruntime and graphs)
loads the configurations and the coordinator runs their slices in a fresh random order every
round, so drift falls on both alike. The interval of the change is paired round by round, and
widened by how differently two codes were measured to move between runs: nothing for identical
code, growing with the size of the change to bench's speed-up spread from 1.75x on (±14% at 99%
on one thread; src/stats/rerun-spread.ts), so that a rerun lands inside it. This
is the pull-request gate (.github/workflows/bench.yml), and how to compare two ONNX exports
(--model names the model whose input they take) or two runtime versions (two checkouts).
--self-test runs this checkout against itself: an A/A test that tells whether this machine can
gate at all (every interval must contain 0%), and how small a change it can tell.

Verdicts (--threshold: 10% for results files, 5% live, where intervals are narrower):
  regressed     the whole interval is slower than --threshold
  improved      the whole interval is faster than --threshold
  unchanged     the whole interval lies within ±threshold
  inconclusive  anything else, with the reason: an interval across the threshold (too
                noisy), or fewer than 10 rounds a side
missing (in the baseline only) and new (in the current only) are reported too. BASELINE may be
'auto': the baseline committed for CURRENT's machine in results/baselines (its CPU kind included:
another CPU's baseline is never taken). A record timed under
emulation (qemu-user, Rosetta 2) is no speed figure: such pairs are reported and never decided.

Exit codes: 0 every configuration decided and none regressed (self-test: every interval
contains 0%); 1 a regression (whatever else; self-test: identical sides differed); 6 no
regression but some configuration inconclusive; 2 usage; 3 a file that is not a valid results
file (the message names the field); 4 a file or checkout not found; 130 interrupted.`);
  static override examples = [
    '<%= config.bin %> compare results/baselines/my-machine.json current.json',
    '<%= config.bin %> compare auto current.json --threshold 10% --markdown >> "$GITHUB_STEP_SUMMARY"',
    '<%= config.bin %> compare ../levit-main . --model levit_128s,efficientnet_b0',
    '<%= config.bin %> compare torch_export.onnx mine.onnx --model levit_128s --batch 1,16',
    '<%= config.bin %> compare --self-test --model levit_128s',
  ];
  static override args = {
    baseline: Args.string({ description: "baseline: a results file (or 'auto'), a levit checkout, or an .onnx file" }),
    current: Args.string({ description: 'current: the same kind as the baseline' }),
  };
  static override flags = {
    threshold: Flags.string({
      description: `change of the median batch time that counts (10% or 0.1); default ${FILES_THRESHOLD} for results files, ${LIVE_THRESHOLD} live`,
    }),
    alpha: numberFlag({ description: '1 - confidence of the interval of the change (0.01: a 99% interval)', default: 0.01, min: 0, exclusive: true, max: 0.5 }),
    'run-spread': Flags.string({
      description:
        "results files: how far one configuration's speed moves between runs on this machine beyond its rounds " +
        "(a standard deviation, e.g. 5%; default: as measured on a shared VM, or the machine's own where larger; 0: a dedicated machine)",
    }),
    markdown: Flags.boolean({ description: 'print Markdown (for a CI job summary)' }),
    'self-test': Flags.boolean({ description: 'live: this checkout against itself, to learn whether this machine can gate (no arguments)' }),
    model: listFlag('model', (s) => s, { description: `live: models, comma-separated (default: ${DEFAULT_MODELS.join(', ')})`, default: [] }),
    ...configurationFlags([1]),
    ...roundFlags,
    ...int8SaturationFlag,
  };

  async run(): Promise<CompareReport> {
    const { args, flags, raw } = await this.parse(Compare);
    const { alpha } = flags;
    const given = [args.baseline, args.current].filter((a): a is string => a !== undefined);
    if (flags['self-test'] ? given.length !== 0 : given.length !== 2) {
      throw new LevitError(
        flags['self-test'] ? '--self-test compares this checkout with itself: give no BASELINE or CURRENT' : 'give a BASELINE and a CURRENT',
        ExitCode.usage,
        'levit compare --help shows the two ways to compare.',
      );
    }
    const live = flags['self-test'] || given.some(isLiveSide);
    const threshold = parseThreshold(flags.threshold ?? (live ? LIVE_THRESHOLD : FILES_THRESHOLD));
    const liveOnly = raw.flatMap((t) => (t.type === 'flag' && LIVE_ONLY.has(t.flag) ? [`--${t.flag}`] : []));
    if (!live && liveOnly.length) {
      throw new LevitError(
        `${[...new Set(liveOnly)].join(', ')}: for a live comparison; two results files are compared as they were measured`,
        ExitCode.usage,
        'To measure other configurations, run levit bench with them, or compare two checkouts or .onnx files live.',
      );
    }
    if (live && flags['run-spread'] !== undefined)
      throw new LevitError('--run-spread is for results files: a live comparison measures both sides in the same rounds', ExitCode.usage);
    const runSpread = flags['run-spread'] === undefined ? undefined : parseFraction(flags['run-spread'], '--run-spread', true);
    const report = live ? await this.live(given, flags, { threshold, alpha }) : this.files(given[0], given[1], { threshold, alpha, runSpread });
    for (const w of (report as Partial<LiveReport>).warnings ?? []) this.logToStderr(`warning: ${w}`);
    this.log(flags.markdown ? renderCompareMarkdown(report) : renderCompareTable(report));
    if (flags['self-test']) {
      const { line, ok } = selfTestLine(report);
      this.log(line);
      process.exitCode = ok ? ExitCode.ok : ExitCode.failure;
      return report;
    }
    for (const c of report.comparisons.filter((x) => x.verdict === 'regressed')) {
      const atLeast = c.change_interval ? `, interval +${(c.change_interval[0] * 100).toFixed(1)}% or more` : '';
      this.logToStderr(`regressed: ${c.key} (${((c.change ?? 0) * 100).toFixed(1)}% slower${atLeast})`);
    }
    for (const c of report.comparisons.filter((x) => x.verdict === 'inconclusive')) this.logToStderr(`inconclusive: ${c.key}: ${c.note}`);
    if ('stopped' in report && report.stopped === 'interrupted') {
      this.logToStderr('interrupted: the verdicts rest on the rounds finished before Ctrl-C');
      process.exitCode = ExitCode.interrupted;
    } else {
      process.exitCode = compareExitCode(report);
    }
    return report;
  }

  private files(baselineArg: string, currentArg: string, o: CompareOptions): CompareReport {
    const current = readResults(currentArg);
    if (baselineArg !== 'auto') return compareResults(readResults(baselineArg), current, o);
    // Only a baseline of this kind of CPU: another's speed says nothing of this one's.
    const found = findBaseline(current.system);
    if (found.file === null) {
      throw new LevitError(
        `no baseline for machine '${machineId(current.system)}' (looked for ${found.looked.join(' and ')}${found.refused ? `; ${found.refused}` : ''})`,
        ExitCode.notFound,
        'Make one on this machine with levit bench --save-baseline, or name a baseline file.',
      );
    }
    return compareResults(found.results, current, o);
  }

  private async live(given: string[], flags: Parameters<typeof roundSettings>[0] & LiveFlags, o: { threshold: number; alpha: number }): Promise<LiveReport> {
    const [baseline, current] = given.length ? given : [packageRoot, packageRoot];
    if (!isLiveSide(baseline) || !isLiveSide(current)) {
      throw new LevitError(
        `compare ${baseline} with ${current}: both must be results files, or both levit checkouts / .onnx files`,
        ExitCode.usage,
        'levit compare --help shows the two ways to compare.',
      );
    }
    const progress = new Progress();
    const interrupt = onInterrupt(() => progress.log('interrupted: finishing the round in progress (Ctrl-C again to quit at once)'));
    try {
      const report = await compareLive(
        sideOf(baseline, 'baseline'),
        sideOf(current, 'current'),
        {
          ...o,
          models: flags.model.length ? selectModels(flags.model).map((c) => c.id) : DEFAULT_MODELS,
          backends: flags.backend,
          threads: flags.threads,
          batches: flags.batch,
          rounds: roundSettings(flags),
          allowInt8Saturation: flags['allow-int8-saturation'],
        },
        {
          phase: (m) => progress.update(m, true),
          warmup: (key, i, n) => progress.update(`warming up [${i + 1}/${n}] ${key}`, true),
          round: (r, elapsed) => progress.update(`round ${r} (at least ${flags['min-rounds']}), ${duration(elapsed)}`),
        },
        interrupt.signal,
      );
      progress.clear();
      return report;
    } finally {
      interrupt.dispose();
    }
  }
}

/** The flags that say what to measure and how: a live comparison's only. */
const LIVE_ONLY = new Set(['model', ...Object.keys(configurationFlags([1])), ...Object.keys(roundFlags), ...Object.keys(int8SaturationFlag)]);

type LiveFlags = { model: string[]; backend: string[]; threads: (number | 'all')[]; batch: number[]; 'allow-int8-saturation': boolean };
