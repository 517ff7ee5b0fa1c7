import { Args, Flags } from '@oclif/core';
import { availableParallelism } from 'node:os';
import { LevitCommand } from '../src/cli/base.js';
import { sessionFlags, weightsChoice, weightsFlags } from '../src/cli/flags.js';
import { Progress, bar, duration, transferLine } from '../src/cli/progress.js';
import { defaultDownloadOptions } from '../src/download/checkpoints.js';
import { openDataset } from '../src/eval/dataset.js';
import { type EvalSummary, evaluate } from '../src/eval/evaluate.js';
import { getCard } from '../src/models/registry.js';
import { openClassifier } from '../src/classifier/session.js';

export default class Eval extends LevitCommand {
  static override summary = 'ImageNet validation accuracy of a model through any backend, preprocessing as the reference.';
  static override description = `DATASET is a folder: the ImageFolder layout (val/<wnid>/*.JPEG), a flat folder with Kaggle's
LOC_val_solution.csv beside it, or any flat folder with --labels FILE ("file wnid" or
"file class-index" per line). Images go through torchvision's evaluation transform on PIL,
reproduced exactly (resize to int(R / crop_pct) with the card's interpolation, centre crop,
normalize), decoded and preprocessed in worker threads while the model runs.
Unreadable images are reported by name and counted, and the run goes on (--strict: stop).
The summary compares top-1 with the checkpoint's published figure and gives a verdict.`;
  static override examples = [
    '<%= config.bin %> eval levit_256 ~/imagenet/val --checkpoint LeViT-256-13b5763e.pth',
    '<%= config.bin %> eval levit_128s ~/imagenet/val --limit 5000 --real --predictions-out preds.jsonl --json',
  ];
  static override args = {
    model: Args.string({ description: 'model id (see levit zoo)', required: true }),
    dataset: Args.string({ description: 'validation folder', required: true }),
  };
  static override flags = {
    ...weightsFlags('official'),
    ...sessionFlags,
    batch: Flags.integer({ description: 'images per inference batch', default: 32 }),
    limit: Flags.integer({ description: 'evaluate the first N images only' }),
    workers: Flags.integer({ description: 'preprocessing worker threads', default: Math.min(4, availableParallelism()) }),
    labels: Flags.string({ description: 'labels file for a flat folder', helpValue: 'FILE' }),
    real: Flags.boolean({ description: 'also score against the ImageNet-ReaL labels (validation file names)' }),
    strict: Flags.boolean({ description: 'stop at the first unreadable image' }),
    'predictions-out': Flags.string({ description: 'write one JSON line per image: {"file", "label", "top5", "error"?}', helpValue: 'FILE.jsonl' }),
  };

  async run(): Promise<EvalSummary> {
    const { args, flags } = await this.parse(Eval);
    const card = getCard(args.model);
    const dataset = openDataset(args.dataset, flags.labels);
    const progress = new Progress();
    // No spinning: the preprocessing workers share the cores.
    const { session, artifact } = await openClassifier(card, {
      weights: weightsChoice(flags),
      download: defaultDownloadOptions(flags),
      backend: flags.backend,
      threads: flags.threads,
      spinning: false,
      onDownload: (p) => progress.update(transferLine(`downloading ${card.id}`, p)),
      onBuild: () => progress.update(`building ${card.id} for ${flags.backend}`, true),
    });
    let s: EvalSummary;
    try {
      s = await evaluate(
        card,
        flags.backend,
        session,
        dataset,
        { batch: flags.batch, limit: flags.limit, strict: flags.strict, real: flags.real, workers: flags.workers, predictionsOut: flags['predictions-out'], synthetic: artifact.weights.kind === 'synthetic' },
        (p) => progress.update(`${bar(p.done / p.total)} ${p.done}/${p.total}  ${p.imagesPerSecond.toFixed(1)} img/s  ETA ${duration((p.total - p.done) / p.imagesPerSecond)}  top-1 ${p.top1.toFixed(2)}%${p.failed ? `  ${p.failed} unreadable` : ''}`),
      );
    } finally {
      progress.clear();
      await session.release();
    }
    for (const f of s.failures) this.logToStderr(`unreadable: ${f.error}`);
    this.log(`${card.name} on ${s.dataset.root} (${s.dataset.layout}), ${s.backend}, weights ${artifact.weights.label}`);
    this.log(`  images      ${s.evaluated} evaluated, ${s.failed} unreadable, ${s.images_per_second.toFixed(1)} images/s (${s.workers} preprocessing workers)`);
    this.log(`  top-1       ${s.top1.toFixed(3)}%    top-5 ${s.top5.toFixed(3)}%${s.real ? `    ReaL top-1 ${s.real.top1.toFixed(3)}% (${s.real.images} images)` : ''}`);
    if (s.published) this.log(`  published   top-1 ${s.published.top1}% (${s.published.source})`);
    this.log(`  verdict     ${s.verdict}${s.difference !== null ? ` (${s.difference >= 0 ? '+' : ''}${s.difference.toFixed(2)} points)` : ''}: ${s.reason}`);
    return s;
  }
}
