import { Args, Flags } from '@oclif/core';
import { LevitCommand } from '../src/cli/base.js';
import { renderPlot } from '../src/render/plot.js';
import { renderMarkdown, renderTable } from '../src/render/bench.js';
import { readResults } from '../src/bench/results.js';
import { type MergedReport, firstColumnPerMachine, machinesLegend, mergeResults } from '../src/bench/merge-machines.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { ExitCode, LevitError } from '../src/core/errors.js';

export default class Report extends LevitCommand {
  static override summary = 'Merge benchmark results from several machines into one table and plot.';
  static override description = `Each machine (by fingerprint) gets a label, m1, m2, ...; the table has one column per machine
and configuration, with LeViT's speed-ups at matched accuracy in each, and the plot one
line per family and machine. Used by the CI workflow to put x64, arm64 and macOS runners
side by side.`;
  static override examples = ['<%= config.bin %> report linux-x64.json linux-arm64.json macos-arm64.json --markdown --plot all.svg'];
  static override strict = false;
  static override args = { results: Args.string({ description: 'results files (levit bench --out)' }) };
  static override flags = {
    markdown: Flags.boolean({ description: 'print Markdown' }),
    plot: Flags.string({ description: 'write the speed/accuracy plot (SVG) to FILE', helpValue: 'FILE.svg' }),
  };

  async run(): Promise<Omit<MergedReport, 'merged'> & { records: MergedReport['merged']['records'] }> {
    const { argv, flags } = await this.parse(Report);
    const files = argv as string[];
    if (files.length === 0) throw new LevitError('name one or more results files', ExitCode.usage);
    const report = mergeResults(files.map((file) => ({ file, results: readResults(file) })));
    const legend = `Machines: ${machinesLegend(report)}.`;
    this.log(flags.markdown ? renderMarkdown(report.merged, legend) : renderTable(report.merged, legend));
    if (flags.plot) {
      writeFileAtomic(flags.plot, renderPlot(report.merged, firstColumnPerMachine(report)));
      this.log(`plot: ${flags.plot}`);
    }
    return { machines: report.machines, records: report.merged.records };
  }
}
