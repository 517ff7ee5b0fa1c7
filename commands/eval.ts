import { Args, Flags } from '@oclif/core';
import { availableParallelism } from 'node:os';
import { LevitCommand } from '../src/cli/base.js';
import {
  calibrationFlag,
  int8SaturationFlag,
  numberFlag,
  onnxChoice,
  onnxFlag,
  precisionFlags,
  precisionSpecs,
  sessionFlags,
  tokenFusionFlag,
  weightsChoice,
  weightsFlags,
} from '../src/cli/flags.js';
import { Progress, bar, duration, transferLine } from '../src/cli/progress.js';
import { onInterrupt } from '../src/cli/interrupt.js';
import { defaultDownloadOptions } from '../src/download/checkpoints.js';
import type { TransferProgress } from '../src/download/http.js';
import { openDataset } from '../src/eval/dataset.js';
import { type EvalSummary, evaluate } from '../src/eval/run-eval.js';
import { getCard, withTokenFusion } from '../src/models/registry.js';
import { pairedReference } from '../src/eval/paired-reference.js';
import { fusionLabel } from '../src/models/fusion/spec.js';
import { openClassifier } from '../src/classifier/session.js';
import { unreadableDetails } from '../src/classifier/inputs.js';
import { printable } from '../src/cli/escape.js';
import { ExitCode, LevitError } from '../src/core/errors.js';
import { preflightOutput } from '../src/util/output.js';
import { precisionLabel, precisionProgressLine } from '../src/classifier/precision.js';
import { withPreprocessing } from '../src/eval/overrides.js';
import { evalCsv } from '../src/render/csv.js';
import { countsOf } from '../src/classifier/zoo.js';
import { writeFileAtomic } from '../src/util/atomic.js';
import { prose } from '../src/cli/prose.js';

const signed = (v: number) => `${v >= 0 ? '+' : ''}${v.toFixed(3)}`;

export default class Eval extends LevitCommand {
  static override summary = 'ImageNet validation accuracy of a model through any backend, preprocessing as the reference.';
  static override description = prose(`DATASET is a folder: the ImageFolder layout (val/<wnid>/*.JPEG), Kaggle's download
(ILSVRC/Data/CLS-LOC/val, with LOC_val_solution.csv beside it or at the top of the download),
or any flat folder with --labels FILE ("file wnid" or "file class-index" per line, or
Kaggle's LOC_val_solution.csv). Images go through torchvision's evaluation transform on PIL,
reproduced exactly (resize to int(R / crop_pct) with the card's interpolation, centre crop,
normalize), decoded and preprocessed in worker threads while the model runs.
Unreadable images are reported by name and counted, and the run goes on (--strict: stop).
The summary compares top-1 with the checkpoint's published figure and gives a verdict:
agrees (within 0.1 points on the full set; on a random subset, 0.1 + 2.58 sampling errors, and
only when that is within ±0.5 points), differs (a gap past that tolerance), or inconclusive
(a subset too small, or the first images of an ImageFolder, which are whole classes, not a
sample: it says how many images a verdict needs). No image evaluated is an error (exit 3).
With --precision int8 or fp16, the float32 model runs on the same batches too: the summary
gives both top-1/top-5, the change, and a verdict on MLPerf's gate (keep at least 99% of
float32's top-1): passes, fails, or inconclusive when the images are too few to tell.
--crop-pct and --interpolation change the transform as timm's validate.py does (e.g. --crop-pct 0.9
reproduces timm's LeViT figures; the published figure compared is the one measured at that crop).
--csv writes one row with timm validate.py's columns (model, top1, top1_err, top5, top5_err,
param_count, img_size, crop_pct, interpolation) followed by levit's own.
--token-fusion METHOD[:R] (DeiT, ViT; see levit convert --help) evaluates the model with MCTF or
ToMe token fusion, and runs the plain model on the same batches: the summary gives both top-1/top-5,
the change with its 95% interval, and how often both predict the same class (agreement, which
needs no labels). The accuracy verdict on fusion needs the official weights and ImageNet.`);
  static override examples = [
    '<%= config.bin %> eval levit_256 ~/imagenet/val --checkpoint LeViT-256-13b5763e.pth',
    '<%= config.bin %> eval levit_128s ~/imagenet/val --limit 5000 --real --predictions-out preds.jsonl --json',
    '<%= config.bin %> eval levit_128s ~/imagenet/val --precision int8 --calibration ~/imagenet/calib',
    '<%= config.bin %> eval levit_128s.fb_dist_in1k ~/imagenet/val --crop-pct 0.9 --csv results.csv',
    '<%= config.bin %> eval deit_small_patch16_224 ~/imagenet/val --token-fusion mctf',
    '<%= config.bin %> eval levit_128s ~/imagenet/val --onnx levit_128s.int8.onnx',
  ];
  static override args = {
    model: Args.string({ description: 'model id (see levit zoo), or its name as timm or the official repository spell it', required: true }),
    dataset: Args.string({ description: 'validation folder', required: true }),
  };
  static override flags = {
    ...weightsFlags('official'),
    ...sessionFlags,
    batch: Flags.integer({ description: 'images per inference batch', default: 32, min: 1 }),
    limit: Flags.integer({ description: 'evaluate the first N images only', min: 1 }),
    workers: Flags.integer({ description: 'preprocessing worker threads', default: Math.min(4, availableParallelism()), min: 1 }),
    labels: Flags.string({ description: 'labels file for a flat folder', helpValue: 'FILE' }),
    real: Flags.boolean({ description: 'also score against the ImageNet-ReaL labels (validation file names)' }),
    strict: Flags.boolean({ description: 'stop at the first unreadable image' }),
    'predictions-out': Flags.string({ description: 'write one JSON line per image: {"file", "label", "top5", "error"?}', helpValue: 'FILE.jsonl' }),
    ...precisionFlags('fp32, or fp16 / int8 compared with fp32 on the same images', 'fp32'),
    calibration: calibrationFlag(),
    ...tokenFusionFlag,
    ...onnxFlag('evaluate'),
    ...int8SaturationFlag,
    'img-size': Flags.integer({ description: "input size (timm's --img-size); must be the model's own resolution", helpValue: 'PX' }),
    'crop-pct': numberFlag({
      description: "centre-crop fraction: resize to int(size / crop-pct), then crop (default: the card's; timm uses 0.875 to 1)",
      min: 0,
      exclusive: true,
      max: 1,
      helpValue: 'FRACTION',
    }),
    interpolation: Flags.string({ description: "resize interpolation (default: the card's)", options: ['bicubic', 'bilinear'] }),
    csv: Flags.string({ description: "write the result as CSV with timm validate.py's columns to FILE", helpValue: 'FILE.csv' }),
  };

  async run(): Promise<EvalSummary> {
    const { args, flags } = await this.parse(Eval);
    const model = withTokenFusion(getCard(args.model), flags['token-fusion']);
    const interpolation = flags.interpolation as 'bicubic' | 'bilinear' | undefined;
    // The model is built from its own card; the transform (and the published figure compared) from the overridden one.
    const card = withPreprocessing(model, { resolution: flags['img-size'], crop_pct: flags['crop-pct'], interpolation });
    if (flags['predictions-out']) preflightOutput(flags['predictions-out'], 'predictions-out', 'file');
    if (flags.csv) preflightOutput(flags.csv, 'csv', 'file');
    const dataset = openDataset(args.dataset, flags.labels);
    const progress = new Progress();
    const specs = await precisionSpecs(flags.precision, flags, flags.calibration);
    if (specs.length !== 1) throw new LevitError('--precision: eval takes one precision (it compares it with fp32 itself)', ExitCode.usage);
    const [precision] = specs;
    const onnx = onnxChoice(flags);
    if (onnx && precision.precision !== 'fp32')
      throw new LevitError('--onnx runs the file in its own precision: drop --precision (an int8 artifact is given as it is)', ExitCode.usage);
    // No spinning: the preprocessing workers share the cores.
    const open = {
      weights: weightsChoice(flags),
      download: defaultDownloadOptions(flags),
      backend: flags.backend,
      threads: flags.threads,
      spinning: false,
      onDownload: (p: TransferProgress) => progress.update(transferLine(`downloading ${card.id}`, p)),
      onBuild: () => progress.update(`building ${card.id} for ${flags.backend}`, true),
    };
    const { session, artifact, warnings } = await openClassifier(model, {
      ...open,
      onnx,
      precision,
      allowInt8Saturation: flags['allow-int8-saturation'],
      onPrecision: (p) => progress.update(precisionProgressLine(card.id, p), true),
    });
    for (const w of warnings) this.logToStderr(`warning: ${w}`);
    const paired = pairedReference(model, precision);
    const reference = paired && { session: (await openClassifier(paired.card, open)).session, kind: paired.kind, name: paired.name };
    const interrupt = onInterrupt(() => {
      progress.clear();
      this.logToStderr('Interrupted (Ctrl-C): stopping after the images in flight; Ctrl-C again quits at once.');
    });
    let s: EvalSummary;
    try {
      s = await evaluate(
        card,
        flags.backend,
        session,
        dataset,
        {
          batch: flags.batch,
          limit: flags.limit,
          strict: flags.strict,
          real: flags.real,
          workers: flags.workers,
          predictionsOut: flags['predictions-out'],
          synthetic: artifact.weights.kind === 'synthetic',
          reference,
          signal: interrupt.signal,
        },
        (p) =>
          progress.update(
            `${bar(p.done / p.total)} ${p.done}/${p.total}  ${p.imagesPerSecond.toFixed(1)} img/s  ETA ${duration((p.total - p.done) / p.imagesPerSecond)}  ` +
              `top-1 ${p.top1.toFixed(2)}%${p.failed ? `  ${p.failed} unreadable` : ''}`,
          ),
      );
    } finally {
      interrupt.dispose();
      progress.clear();
      await session.release();
      await reference?.session.release();
    }
    if (warnings.length) s = { ...s, warnings };
    for (const f of dataset.skipped) this.logToStderr(`skipped: ${printable(f.path)}: ${printable(f.reason)}`);
    for (const f of s.failures) this.logToStderr(`unreadable: ${printable(f.error)}`);
    this.log(`${card.name} on ${s.dataset.root} (${s.dataset.layout}), ${s.backend}, weights ${artifact.weights.label}`);
    if (s.interrupted) this.log(`  stopped     by Ctrl-C after ${s.evaluated + s.failed} of ${s.dataset.images} images: the figures below cover those`);
    this.log(
      `  images      ${s.evaluated} evaluated, ${s.failed} unreadable, ${s.images_per_second.toFixed(1)} images/s ` +
        `(${s.workers} preprocessing worker${s.workers === 1 ? '' : 's'})`,
    );
    this.log(
      `  top-1       ${s.top1.toFixed(3)}%    top-5 ${s.top5.toFixed(3)}%` +
        `${s.real ? `    ReaL top-1 ${s.real.top1.toFixed(3)}% (${s.real.images} images)` : ''}`,
    );
    if (s.published) this.log(`  published   top-1 ${s.published.top1}% (${s.published.source})`);
    if (s.real && s.real.images === 0) this.logToStderr('note: --real: no image is an ImageNet validation file (ILSVRC2012_val_NNNNNNNN): no ReaL score');
    const c = s.precision;
    if (c) {
      this.log(`  precision   ${precisionLabel(precision)}`);
      this.log(`  fp32        top-1 ${c.fp32.top1.toFixed(3)}%    top-5 ${c.fp32.top5.toFixed(3)}%    (same images, same run)`);
      this.log(
        `  change      top-1 ${signed(c.top1_change)}    top-5 ${signed(c.top5_change)} points; ` +
          `top-1 class agrees with fp32 on ${c.top1_agreement.toFixed(2)}%`,
      );
      this.log(`  99% gate    ${c.verdict}: ${c.reason}`);
    }
    const f = s.fusion;
    if (f) {
      const [low, high] = f.top1_change_interval;
      this.log(`  fusion      ${f.token_fusion}: ${fusionLabel(flags['token-fusion'])}`);
      this.log(`  plain       top-1 ${f.plain.top1.toFixed(3)}%    top-5 ${f.plain.top5.toFixed(3)}%    (same images, same run, no fusion)`);
      this.log(`  change      top-1 ${signed(f.top1_change)} (95% interval ${signed(low)} to ${signed(high)})    top-5 ${signed(f.top5_change)} points`);
      this.log(`  agreement   top-1 class the same as the plain model's on ${f.top1_agreement.toFixed(2)}% of the images`);
    }
    this.log(`  verdict     ${s.verdict}${s.difference !== null ? ` (${s.difference >= 0 ? '+' : ''}${s.difference.toFixed(2)} points)` : ''}: ${s.reason}`);
    if (s.interrupted) {
      const unwritten = [flags['predictions-out'], flags.csv].filter(Boolean).join(' and ');
      throw new LevitError(
        `interrupted after ${s.evaluated + s.failed} of ${s.dataset.images} images${unwritten ? `: ${unwritten} not written` : ''}`,
        ExitCode.interrupted,
        'The summary above covers the images evaluated; run again for all of them (--limit N evaluates the first N).',
        {
          details: { summary: s },
          jsonHint: 'error.summary covers the images evaluated; run again for all of them (--limit N evaluates the first N).',
        },
      );
    }
    if (s.evaluated === 0) {
      throw new LevitError(
        `no image of ${s.dataset.images} could be evaluated: no accuracy and no verdict`,
        ExitCode.badInput,
        'The unreadable files are listed above.',
        {
          details: { unreadable: unreadableDetails(s.failures), ...(dataset.skipped.length ? { skipped: dataset.skipped } : {}) },
          jsonHint: 'Each unreadable file is listed with its reason in error.unreadable.',
        },
      );
    }
    if (flags.csv) {
      writeFileAtomic(flags.csv, evalCsv(s, countsOf(model).params, card.preprocessing));
      this.log(`  csv         ${flags.csv}`);
    }
    if (s.predictions_error) {
      const hint = 'The summary above is complete; free space or choose a writable --predictions-out and run again.';
      throw new LevitError(`the predictions were not written: ${s.predictions_error}`, ExitCode.failure, hint, {
        details: { summary: s },
        jsonHint: 'error.summary is complete; free space or choose a writable --predictions-out and run again.',
      });
    }
    return s;
  }
}
