import { Args, Flags } from '@oclif/core';
import { LevitCommand } from '../src/cli/base.js';
import { renderPlot } from '../src/render/plot.js';
import { renderMarkdown, renderTable } from '../src/render/bench.js';
import { readResults } from '../src/results/read.js';
import { type GpuTable, gpuTable, renderGpuMarkdown, renderGpuTable } from '../src/render/gpu-table.js';
import { type MergedReport, firstColumnPerMachine, machinesLegend, mergeResults } from '../src/results/merge-machines.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { ExitCode, LevitError } from '../src/core/errors.js';
import { preflightOutput } from '../src/util/output.js';
import { prose } from '../src/cli/prose.js';

export default class Report extends LevitCommand {
  static override summary = 'Merge benchmark results from several machines into one table and plot.';
  static override description = prose(`Each results file gets a label, m1, m2, ... (two runs of one machine stay two labels, never
mixed); the table has one column per file and configuration, LeViT's speed-ups at matched
accuracy in one column per file and family (m1 vs EfficientNet: m1's columns only), a footer
that says how each file's rounds ran, and the plot one line per family and file (colour: family;
marker and dash: file). Used by the CI workflow to put x64, arm64 and macOS runners side by side.

With --gpu: the GPU table instead, levit's ort-webgpu beside PyTorch (torch-cuda records written by
scripts/torch_reference.py) per model and batch, with the ratio of the two, the LeViT paper's V100
figures and timm's published RTX 4090 figures.`);
  static override examples = [
    '<%= config.bin %> report linux-x64.json linux-arm64.json macos-arm64.json --markdown --plot all.svg',
    '<%= config.bin %> report --gpu results/gpu/levit-webgpu.json results/gpu/torch-cuda.json --markdown',
  ];
  static override strict = false;
  static override args = { results: Args.string({ description: 'results files (levit bench --out)' }) };
  static override flags = {
    markdown: Flags.boolean({ description: 'print Markdown' }),
    plot: Flags.string({ description: 'write the speed/accuracy plot (SVG) to FILE', helpValue: 'FILE.svg' }),
    gpu: Flags.boolean({ description: 'print the GPU table: levit WebGPU beside PyTorch CUDA on the same card', exclusive: ['plot'] }),
  };

  async run(): Promise<(Omit<MergedReport, 'merged'> & { records: MergedReport['merged']['records'] }) | GpuTable> {
    const { argv, flags } = await this.parse(Report);
    const files = argv as string[];
    if (files.length === 0) throw new LevitError('name one or more results files', ExitCode.usage);
    if (flags.gpu) {
      const t = gpuTable(files.map(readResults));
      if (t.rows.length === 0) {
        throw new LevitError('no ort-webgpu or torch-cuda records in these files', ExitCode.badInput, 'Write them with scripts/gpu-run.sh.');
      }
      this.log(flags.markdown ? renderGpuMarkdown(t) : renderGpuTable(t));
      return t;
    }
    if (flags.plot) preflightOutput(flags.plot, 'plot', 'file');
    const report = mergeResults(files.map((file) => ({ file, results: readResults(file) })));
    this.log(flags.markdown ? renderMarkdown(report) : renderTable(report));
    if (flags.plot) {
      writeFileAtomic(flags.plot, renderPlot(report.merged, firstColumnPerMachine(report), machinesLegend(report)));
      this.log(`plot: ${flags.plot}`);
    }
    return { machines: report.machines, records: report.merged.records };
  }
}
