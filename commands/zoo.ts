import { LevitCommand } from '../src/cli/base.js';
import { grouped, millions, table } from '../src/cli/format.js';
import { type ZooEntry, listZoo } from '../src/pipeline/zoo.js';

export default class Zoo extends LevitCommand {
  static override summary = 'List the models: exact parameter and FLOP counts, accuracy, checkpoints.';
  static override description = `Parameters and FLOPs are computed from each model's graph, not copied from a paper:
FLOPs are multiply-adds for one image, counted as the official LeViT code counts them
(convolutions and matrix products by multiply-adds, softmax by elements).
Published top-1/top-5 figures are listed with their source.`;
  static override examples = ['<%= config.bin %> zoo', '<%= config.bin %> zoo --json | jq ".[].params"'];

  async run(): Promise<ZooEntry[]> {
    await this.parse(Zoo);
    const zoo = listZoo();
    const rows = table(
      ['model', 'params', 'FLOPs', 'res', 'crop', 'top-1', 'source of top-1', 'checkpoint'],
      ['left', 'right', 'right', 'right', 'right', 'right', 'left', 'left'],
    );
    for (const e of zoo) {
      const best = e.published[0];
      rows.push([
        e.id,
        millions(e.params),
        millions(e.flops, 0),
        e.resolution,
        e.crop_pct,
        best ? best.top1.toFixed(1) : '-',
        best?.source ?? '-',
        e.checkpoint ? e.checkpoint.url.split('/').pop()! : '-',
      ]);
    }
    this.log(rows.toString());
    this.log(`Exact counts: levit info <model>. Totals: ${zoo.length} models, ${grouped(zoo.reduce((s, e) => s + e.params, 0))} parameters.`);
    return zoo;
  }
}
