import { Args, Flags } from '@oclif/core';
import { LevitCommand } from '../src/cli/base.js';
import { int8SaturationFlag, onnxChoice, onnxFlag, sessionFlags, tokenFusionFlag, weightsChoice, weightsFlags } from '../src/cli/flags.js';
import { Progress, transferLine } from '../src/cli/progress.js';
import { defaultDownloadOptions } from '../src/download/checkpoints.js';
import { type Prediction, topK } from '../src/imagenet/classes.js';
import { getCard, withTokenFusion } from '../src/models/registry.js';
import { type InputFailure, readInputs, unreadableDetails } from '../src/classifier/inputs.js';
import { ExitCode, LevitError } from '../src/core/errors.js';
import { openClassifier } from '../src/classifier/session.js';
import { printable } from '../src/cli/escape.js';
import { writeNpy } from '../src/util/npy.js';
import { fusionName } from '../src/models/fusion/spec.js';
import { preflightOutput } from '../src/util/output.js';
import { prose } from '../src/cli/prose.js';

interface PredictResult {
  model: string;
  token_fusion: string;
  backend: string;
  weights: string;
  predictions: { file: string; row: number; top: Prediction[] }[];
  /** Inputs that could not be read; the others were predicted. */
  failures: InputFailure[];
  /** What makes these outputs unlike the model's (an int8 artifact run although it saturates here); absent when nothing does. */
  warnings?: string[];
}

export default class Predict extends LevitCommand {
  static override summary = 'Top-k ImageNet classes for inputs, through any backend.';
  static override description = prose(`Inputs are image files (JPEG, PNG, ...: preprocessed exactly as levit eval does) or .npy
float32 tensors [N, 3, R, R] already preprocessed (normalized) for the model.
Prints the k most probable classes per row with their probabilities; --logits-out writes the
raw logits [N, 1000] as .npy. Weights: --checkpoint, or the cached official checkpoint
(downloaded when allowed), or --weights synthetic.
An input that cannot be read is reported by name and the others are still predicted; the exit
code is then that input's error's (3 unreadable, 4 not found), so a script can tell.
--token-fusion METHOD[:R] runs a DeiT or ViT with MCTF or ToMe token fusion (see levit convert --help).`);
  static override examples = [
    '<%= config.bin %> predict levit_128s batch.npy --checkpoint LeViT-128S-96703c44.pth --backend ort-wasm --logits-out y.npy',
    '<%= config.bin %> predict levit_256 cat.jpg dog.png --backend tfjs-wasm --top 3 --json',
    '<%= config.bin %> predict deit_tiny_patch16_224 cat.jpg --token-fusion tome:13',
    '<%= config.bin %> predict levit_128s cat.jpg --onnx levit_128s.int8.onnx',
  ];
  static override strict = false;
  // oclif writes every argument of a non-strict command as variadic (MODEL...): predict takes one model.
  static override usage = '<%= command.id %> MODEL INPUTS... [FLAGS]';
  static override args = {
    model: Args.string({ description: 'one model id (see levit zoo)', required: true }),
    inputs: Args.string({ description: 'image files or .npy tensors [N, 3, R, R]' }),
  };
  static override flags = {
    ...weightsFlags('official'),
    ...sessionFlags,
    ...tokenFusionFlag,
    ...onnxFlag('run'),
    ...int8SaturationFlag,
    top: Flags.integer({ description: 'classes to show per input (1 to 1000)', default: 5, min: 1, max: 1000 }),
    'logits-out': Flags.string({ description: 'write the raw logits [N, 1000] as float32 .npy', helpValue: 'FILE.npy' }),
  };

  async run(): Promise<PredictResult> {
    const { args, argv, flags } = await this.parse(Predict);
    const card = withTokenFusion(getCard(args.model), flags['token-fusion']);
    const files = (argv as string[]).slice(1);
    const onnx = onnxChoice(flags);
    if (flags['logits-out']) preflightOutput(flags['logits-out'], 'logits-out', 'file');
    if (files.length === 0) this.error('give at least one input file', { exit: 2 });
    const { batch, items, failures } = await readInputs(files, card);
    for (const f of failures) this.logToStderr(`unreadable: ${printable(f.error)}`);
    if (items.length === 0) {
      const worst = failures.some((f) => f.exitCode === ExitCode.badInput) ? ExitCode.badInput : failures[0].exitCode;
      throw new LevitError(
        `none of the ${files.length} input${files.length > 1 ? 's' : ''} could be read: nothing to predict`,
        worst,
        'The reasons are listed above.',
        { details: { unreadable: unreadableDetails(failures) }, jsonHint: 'Each input is listed with its reason in error.unreadable.' },
      );
    }
    const progress = new Progress();
    const { session, artifact, warnings } = await openClassifier(card, {
      weights: weightsChoice(flags),
      onnx,
      download: defaultDownloadOptions(flags),
      backend: flags.backend,
      threads: flags.threads,
      allowInt8Saturation: flags['allow-int8-saturation'],
      onDownload: (p) => progress.update(transferLine(`downloading ${card.id}`, p)),
      onBuild: () => progress.update(`building ${card.id} for ${flags.backend}`, true),
    });
    progress.clear();
    for (const w of warnings) this.logToStderr(`warning: ${w}`);
    try {
      const logits = await session.run(batch);
      if (flags['logits-out']) writeNpy(flags['logits-out'], logits);
      const classes = logits.shape[1];
      const predictions = items.map((item, i) => ({ ...item, top: topK(logits.data.subarray(i * classes, (i + 1) * classes), flags.top) }));
      for (const p of predictions) {
        const rows = items.filter((i) => i.file === p.file).length;
        this.log(`${printable(p.file)}${rows > 1 ? ` [${p.row}]` : ''}`);
        for (const c of p.top) this.log(`  ${(c.probability * 100).toFixed(2).padStart(6)}%  ${String(c.index).padStart(3)}  ${c.wnid}  ${c.name}`);
      }
      if (artifact.weights.kind === 'synthetic') this.logToStderr('note: synthetic (untrained) weights: these classes mean nothing');
      if (failures.length) {
        this.logToStderr(`${failures.length} of ${files.length} inputs could not be read (listed above); the others were predicted`);
        process.exitCode = failures.some((f) => f.exitCode === ExitCode.badInput) ? ExitCode.badInput : failures[0].exitCode;
      }
      return {
        model: card.id,
        token_fusion: fusionName(flags['token-fusion']),
        backend: flags.backend,
        weights: artifact.weights.label,
        predictions,
        failures,
        ...(warnings.length ? { warnings } : {}),
      };
    } finally {
      await session.release();
    }
  }
}
