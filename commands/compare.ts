import { Args, Flags } from '@oclif/core';
import { LevitCommand } from '../src/cli/base.js';
import { readResults } from '../src/bench/results.js';
import { baselinePath } from '../src/bench/store.js';
import { type CompareReport, compareResults, parseThreshold } from '../src/compare/compare.js';
import { renderCompareMarkdown, renderCompareTable } from '../src/render/compare.js';
import { ExitCode, LevitError } from '../src/core/errors.js';

export default class Compare extends LevitCommand {
  static override summary = 'Compare two benchmark results; exit 1 on any regression (for CI).';
  static override description = `Records are matched by model, backend, threads, batch, resolution and precision. Each pair
is decided on the raw batch times: a Mann-Whitney U test says whether they differ at all
(--alpha), and the change of the median must pass --threshold to count. Regressed,
improved, unchanged, missing (in the baseline only) and new (in the current only) are
reported. When the two files come from different machines, the current times are scaled
by the ratio of their calibrations (float32 MatMul GFLOP/s) first, and the output says so.
BASELINE may be 'auto': the baseline committed for CURRENT's machine in results/baselines.

Exit codes: 0 no regression, 1 a regression, 2 usage, 3 unreadable file.`;
  static override examples = [
    '<%= config.bin %> compare results/baselines/my-machine.json current.json',
    '<%= config.bin %> compare auto current.json --threshold 3% --markdown >> "$GITHUB_STEP_SUMMARY"',
  ];
  static override args = {
    baseline: Args.string({ description: "baseline results file, or 'auto'", required: true }),
    current: Args.string({ description: 'current results file', required: true }),
  };
  static override flags = {
    threshold: Flags.string({ description: 'change of the median batch time that counts (5% or 0.05)', default: '5%' }),
    alpha: Flags.string({ description: 'significance level of the Mann-Whitney test', default: '0.01' }),
    markdown: Flags.boolean({ description: 'print Markdown (for a CI job summary)' }),
  };

  async run(): Promise<CompareReport> {
    const { args, flags } = await this.parse(Compare);
    const current = readResults(args.current);
    const baseline = readResults(args.baseline === 'auto' ? baselinePath(current.system) : args.baseline);
    const alpha = Number(flags.alpha);
    if (!(alpha > 0 && alpha < 1)) throw new LevitError('--alpha must lie between 0 and 1', ExitCode.usage);
    const report = compareResults(baseline, current, { threshold: parseThreshold(flags.threshold), alpha });
    this.log(flags.markdown ? renderCompareMarkdown(report) : renderCompareTable(report));
    for (const c of report.comparisons.filter((x) => x.verdict === 'regressed')) {
      this.logToStderr(`regressed: ${c.key} (${((c.change ?? 0) * 100).toFixed(1)}% slower, p = ${c.p_value?.toExponential(1)})`);
    }
    if (report.counts.regressed > 0) process.exitCode = 1;
    return report;
  }
}
