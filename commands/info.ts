import { Args } from '@oclif/core';
import { LevitCommand } from '../src/cli/base.js';
import { grouped, table } from '../src/render/format.js';
import { labelled } from '../src/render/fit.js';
import { type ZooEntry, zooEntry } from '../src/classifier/zoo.js';
import type { StageInfo } from '../src/models/family.js';
import { nonCommercial } from '../src/models/card.js';
import { getCard, stagesOf } from '../src/models/registry.js';

export default class Info extends LevitCommand {
  static override summary = 'Show one model: counts, licence, preprocessing, published accuracy, checkpoint and stages.';
  static override examples = ['<%= config.bin %> info levit_256', '<%= config.bin %> info levit_128s --json'];
  static override args = { model: Args.string({ description: 'model id (see levit zoo)', required: true }) };

  async run(): Promise<ZooEntry & { stages: StageInfo[] }> {
    const { args } = await this.parse(Info);
    const card = getCard(args.model);
    const info = { ...zooEntry(card), stages: stagesOf(card) };
    this.log(`${info.name} (${info.id}, family ${info.family})`);
    const lines: [string, string][] = [
      ['parameters', grouped(info.params)],
      ['FLOPs', `${grouped(info.flops)} multiply-adds per image`],
      ['licence', `${info.license}${nonCommercial(info.license) ? ' (weights for non-commercial use only)' : ''}`],
      [
        'preprocessing',
        `resize short side to ${Math.floor(info.resolution / info.crop_pct)} (${info.interpolation}), centre crop ${info.resolution}, ` +
          `mean [${info.mean.join(', ')}], std [${info.std.join(', ')}]`,
      ],
      ...info.published.map((p): [string, string] => [
        'published',
        `top-1 ${p.top1}${p.top5 !== undefined ? `, top-5 ${p.top5}` : ''}${p.crop_pct ? ` (crop ${p.crop_pct})` : ''}: ${p.source}`,
      ]),
    ];
    if (info.checkpoint) {
      lines.push(['checkpoint', info.checkpoint.url], ['', `sha256 ${info.checkpoint.sha256 ?? 'none pinned: the digest the server states is checked'}`]);
      if (info.checkpoint.cached) lines.push(['', `cached at ${info.checkpoint.path}`]);
    }
    this.log(labelled(lines));
    const keys = Object.keys(info.stages[0] ?? {});
    const stages = table(keys);
    for (const s of info.stages) stages.push(keys.map((k) => s[k]));
    this.log(stages.toString());
    return info;
  }
}
