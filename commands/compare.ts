import { Args, Flags } from '@oclif/core';
import { existsSync } from 'node:fs';
import { LevitCommand } from '../src/cli/base.js';
import { readResults } from '../src/bench/validate.js';
import { baselinePath } from '../src/bench/store.js';
import { type CompareReport, compareExitCode, compareResults, parseThreshold } from '../src/compare/compare.js';
import { renderCompareMarkdown, renderCompareTable } from '../src/render/compare.js';
import { ExitCode, LevitError } from '../src/core/errors.js';

export default class Compare extends LevitCommand {
  static override summary = 'Compare two benchmark results; exit 1 on a regression, 6 when the evidence cannot decide (for CI).';
  static override description = `Records are matched by model, backend, threads, batch, resolution and precision. For each
pair, a seeded bootstrap gives a (1 - alpha) interval of the change of the median batch time
(the same files always get the same verdict):
  regressed     the whole interval is slower than --threshold
  improved      the whole interval is faster than --threshold
  unchanged     the whole interval lies within ±threshold
  inconclusive  anything else, with the reason: an interval across the threshold (too noisy),
                fewer than 10 timed batches a side, a record flagged as taken on a busy or
                unstable machine, or a calibration that moved between two runs of one machine;
                unless the interval lies past the threshold compounded with the machine's own
                swing (measured by the calibrations around both records): a 2x slowdown is
                not explained by a machine that ran 20% slower, and is still a regression.
missing (in the baseline only) and new (in the current only) are reported too. When the files
come from different machines, the current times are scaled by the ratio of their calibrations
(float32 MatMul GFLOP/s) first, and the output says so. BASELINE may be 'auto': the baseline
committed for CURRENT's machine in results/baselines. A record timed under emulation
(qemu-user, Rosetta 2) is no speed figure: such pairs are reported as emulated and never decided.

Exit codes: 0 every configuration decided and none regressed; 1 a regression (whatever else);
6 no regression but some configuration inconclusive (re-run on a quiet machine or with a
longer --duration); 2 usage; 3 a file that is not a valid results file (the message names
the field); 4 a file not found.`;
  static override examples = [
    '<%= config.bin %> compare results/baselines/my-machine.json current.json',
    '<%= config.bin %> compare auto current.json --threshold 10% --markdown >> "$GITHUB_STEP_SUMMARY"',
  ];
  static override args = {
    baseline: Args.string({ description: "baseline results file, or 'auto'", required: true }),
    current: Args.string({ description: 'current results file', required: true }),
  };
  static override flags = {
    threshold: Flags.string({ description: 'change of the median batch time that counts (10% or 0.1)', default: '10%' }),
    alpha: Flags.string({ description: '1 - confidence of the interval of the change (0.01: a 99% interval)', default: '0.01' }),
    markdown: Flags.boolean({ description: 'print Markdown (for a CI job summary)' }),
  };

  async run(): Promise<CompareReport> {
    const { args, flags } = await this.parse(Compare);
    const alpha = Number(flags.alpha);
    if (!(alpha > 0 && alpha < 0.5)) throw new LevitError(`--alpha: '${flags.alpha}' must lie between 0 and 0.5`, ExitCode.usage);
    const threshold = parseThreshold(flags.threshold);
    const current = readResults(args.current);
    const baselineFile = args.baseline === 'auto' ? baselinePath(current.system) : args.baseline;
    if (args.baseline === 'auto' && !existsSync(baselineFile)) {
      throw new LevitError(
        `no baseline for machine '${current.system.id}' (looked for ${baselineFile})`,
        ExitCode.notFound,
        'Make one on this machine with levit bench --save-baseline, or name a baseline file.',
      );
    }
    const baseline = readResults(baselineFile);
    const report = compareResults(baseline, current, { threshold, alpha });
    this.log(flags.markdown ? renderCompareMarkdown(report) : renderCompareTable(report));
    for (const c of report.comparisons.filter((x) => x.verdict === 'regressed')) {
      const atLeast = c.change_interval ? `, interval +${(c.change_interval[0] * 100).toFixed(1)}% or more` : '';
      this.logToStderr(`regressed: ${c.key} (${((c.change ?? 0) * 100).toFixed(1)}% slower${atLeast})`);
    }
    for (const c of report.comparisons.filter((x) => x.verdict === 'inconclusive')) this.logToStderr(`inconclusive: ${c.key}: ${c.note}`);
    process.exitCode = compareExitCode(report);
    return report;
  }
}
