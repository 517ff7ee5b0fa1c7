import { existsSync, statSync } from 'node:fs';
import { Args } from '@oclif/core';
import { LevitCommand } from '../src/cli/base.js';
import { grouped, table } from '../src/render/format.js';
import { labelled } from '../src/render/fit.js';
import { type ZooEntry, zooEntry } from '../src/classifier/zoo.js';
import type { StageInfo } from '../src/models/family.js';
import { nonCommercial } from '../src/models/card.js';
import { getCard, stagesOf, withTokenFusion } from '../src/models/registry.js';
import { familyOf } from '../src/models/families.js';
import { tokenFusionFlag } from '../src/cli/flags.js';
import { FLOPS_TOLERANCE, type FusionFlops, tokenFusionFlops } from '../src/claims/flops-claims.js';
import { fusionLabel, fusionName, isFused } from '../src/models/fusion/spec.js';
import { prose } from '../src/cli/prose.js';
import { type ArtifactDescription, describeArtifact } from '../src/classifier/int8-form.js';
import { ortCpu } from '../src/runtime/ort-node.js';
import { renderArtifact } from '../src/render/artifact.js';

/** A file to describe rather than a model id: an .onnx name, or any existing file. */
const isOnnxFile = (arg: string) => /\.onnx$/i.test(arg) || (existsSync(arg) && statSync(arg).isFile());

export default class Info extends LevitCommand {
  static override summary = 'Show one model: counts, licence, preprocessing, published accuracy, checkpoint and stages.';
  static override description = prose(`Given an .onnx file instead of a model id: what it says of itself (model, weights,
precision; for int8, the CPU form it was made for, its calibration images and accuracy) and whether
this CPU runs it exactly.

For DeiT and ViT, also the FLOPs with each token fusion setting (MCTF, ToMe), as levit counts
them, beside the figures the MCTF repository publishes (zoo/claims/mctf-flops.json, with both
counting conventions). --token-fusion METHOD[:R]: the counts above are that setting's.`);
  static override examples = [
    '<%= config.bin %> info levit_256',
    '<%= config.bin %> info levit_128s.int8.onnx     # an artifact: model, precision, int8 form, calibration, and whether this CPU runs it exactly',
    '<%= config.bin %> info levit_128s --json',
    '<%= config.bin %> info deit_small_patch16_224 --token-fusion tome:8',
  ];
  static override args = {
    model: Args.string({ description: 'model id (see levit zoo), or an .onnx file (levit convert wrote it, or any other)', required: true }),
  };
  static override flags = { ...tokenFusionFlag };

  async run(): Promise<(ZooEntry & { stages: StageInfo[]; token_fusion?: FusionFlops[] }) | ArtifactDescription> {
    const { args, flags } = await this.parse(Info);
    if (isOnnxFile(args.model)) {
      const artifact = await describeArtifact(args.model, ortCpu);
      this.log(renderArtifact(artifact));
      return artifact;
    }
    const setting = flags['token-fusion'];
    const card = withTokenFusion(getCard(args.model), setting);
    const fusion = familyOf(card.family)?.tokenFusion ? tokenFusionFlops(card, [setting]) : undefined;
    const info = { ...zooEntry(card), stages: stagesOf(card), ...(fusion ? { token_fusion: fusion } : {}) };
    this.log(`${info.name} (${info.id}, family ${info.family})${isFused(setting) ? `, token fusion ${fusionName(setting)}: ${fusionLabel(setting)}` : ''}`);
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
    if (fusion) {
      lines.push(
        ['token fusion', 'FLOPs per setting (--token-fusion), as levit counts them; published: the MCTF repository, counted by fvcore'],
        ['', `(conventions: zoo/claims/mctf-flops.json; "agrees" = within ${FLOPS_TOLERANCE * 100}% of the published figure)`],
      );
      const percent = (d: number) => `${d >= 0 ? '+' : ''}${(d * 100).toFixed(1)}%`;
      for (const f of fusion) {
        const published = f.claims.map((c) => `  published ${c.published_gflops.toFixed(2)} G, ${c.verdict} (${percent(c.difference)})`);
        lines.push(['', `${f.token_fusion.padEnd(15)} ${grouped(f.flops).padStart(14)}  ${f.ratio.toFixed(2)}x${published.join(';')}`]);
      }
    }
    this.log(labelled(lines));
    const keys = Object.keys(info.stages[0] ?? {});
    const stages = table(keys);
    for (const s of info.stages) stages.push(keys.map((k) => s[k]));
    this.log(stages.toString());
    return info;
  }
}
