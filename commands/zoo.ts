import { LevitCommand } from '../src/cli/base.js';
import { millions, table } from '../src/render/format.js';
import { type ZooEntry, listZoo } from '../src/classifier/zoo.js';

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
      ['model', 'params', 'FLOPs', 'res', 'crop', 'top-1', 'source of top-1', 'checkpoint', 'cached'],
      ['left', 'right', 'right', 'right', 'right', 'right', 'left', 'left', 'center'],
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
        e.checkpoint ? new URL(e.checkpoint.url).host : '-',
        e.checkpoint?.cached ? 'yes' : '',
      ]);
    }
    this.log(rows.toString());
    this.log(`${zoo.length} models. Exact counts and URLs: levit info <model>; fetch checkpoints: levit download <model>.`);
    return zoo;
  }
}
