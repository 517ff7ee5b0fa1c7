import { LevitCommand } from '../src/cli/base.js';
import { millions } from '../src/render/format.js';
import { fitTable, wrapText } from '../src/render/fit.js';
import { type ZooEntry, listZoo } from '../src/classifier/zoo.js';
import { prose } from '../src/cli/prose.js';

export default class Zoo extends LevitCommand {
  static override summary = 'List the models: exact parameter and FLOP counts, accuracy, checkpoints.';
  static override description = prose(`Parameters and FLOPs are computed from each model's graph, not copied from a paper:
FLOPs are multiply-adds for one image, counted as the official LeViT code counts them
(convolutions and matrix products by multiply-adds, softmax by elements).
Published top-1/top-5 figures are listed with their source.`);
  static override examples = ['<%= config.bin %> zoo', '<%= config.bin %> zoo --json | jq ".[].params"'];

  async run(): Promise<ZooEntry[]> {
    await this.parse(Zoo);
    const zoo = listZoo();
    const rows = fitTable(
      [
        { header: 'model', nowrap: true },
        { header: 'params', align: 'right' },
        { header: 'FLOPs', align: 'right', drop: 6 },
        { header: 'res', align: 'right', drop: 5 },
        { header: 'crop', align: 'right', drop: 3 },
        { header: 'top-1', align: 'right' },
        { header: 'source of top-1', short: 'source', drop: 4, min: 24 },
        { header: 'checkpoint', drop: 1 },
        { header: 'cached', align: 'center', drop: 2 },
      ],
      { more: 'levit info <model> and levit zoo --json give everything' },
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
    this.log(wrapText(`${zoo.length} models. Exact counts and URLs: levit info <model>; fetch checkpoints: levit download <model>.`));
    return zoo;
  }
}
