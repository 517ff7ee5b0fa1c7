import { Args, Flags } from '@oclif/core';
import { LevitCommand } from '../src/cli/base.js';
import { bytes, grouped } from '../src/render/format.js';
import { calibrationFlag, forceFlag, precisionFlags, precisionSpecs, tokenFusionFlag, weightsChoice, weightsFlags } from '../src/cli/flags.js';
import { preflightOutput } from '../src/util/output.js';
import { getCard, withTokenFusion } from '../src/models/registry.js';
import { Progress, transferLine } from '../src/cli/progress.js';
import { defaultDownloadOptions } from '../src/download/checkpoints.js';
import { resolveClassifierWeights } from '../src/classifier/session.js';
import { type ConvertResult, convertModel } from '../src/classifier/convert.js';
import { precisionProgressLine } from '../src/classifier/precision.js';
import { renderSensitivity } from '../src/quant/report.js';
import type { ArtifactFormat } from '../src/runtime/backend.js';
import { ExitCode, LevitError } from '../src/core/errors.js';
import { fusionLabel } from '../src/models/fusion/spec.js';
import { prose } from '../src/cli/prose.js';

export default class Convert extends LevitCommand {
  static override summary = 'Convert a model (its official checkpoint by default, or --weights synthetic) to ONNX or TensorFlow.js, without Python.';
  static override description = prose(`Reads the checkpoint without executing any of it, builds the model from its card,
folds BatchNorm and the attention-bias tables, and writes a standard ONNX model
(opset 17, free batch dimension): input float32 [batch, 3, R, R], output logits [batch, 1000].
Weights, as for predict and eval: --checkpoint FILE, else the official checkpoint (cached,
downloaded when allowed); untrained synthetic weights only with --weights synthetic.
Without --out the file goes to the cache ($LEVIT_CACHE_DIR, default ~/.cache/levit).

--precision int8 --calibration DIR: static int8 in onnxruntime's QDQ form (fused into
QLinearConv, QGemm): weights int8 per output channel, activations uint8 with ranges measured on
the calibration images (minmax, percentile, mse or entropy). Softmax, the attention bias add,
normalisations and residual adds stay float32 (the attention products too, unless --int8-attention).
The --calibration images are split three ways: half set the ranges, a quarter decide the fallback
(while their logits SQNR is below --target-sqnr, the layers costing the most accuracy for their share
of the work are kept in float32), and a quarter, seen by neither step, judge the result that convert
reports (or --validation DIR gives those). The form follows this CPU
(--int8-target overrides): on VNNI, full-range weights and the image convolution in float32; else
pair-limited weights. Without --calibration, int8 is dynamic: activations are quantized at run time.
--precision fp16: float16 weights and activations, float32 input and output (for WebGPU and CUDA).
With --to tfjs, int8 and fp16 store the weights as uint8 or float16 (4x or 2x smaller downloads);
TF.js still computes in float32.

--token-fusion METHOD[:R] (DeiT and ViT): the model with training-free token fusion built in,
as a static graph: mctf (MCTF, r = 16 tokens fused in blocks 2 to 12), mctf-fast (35% of the
tokens in blocks 4, 7 and 10), tome (ToMe, r = 13 in every block); :R sets r. Same input and
output as the plain model; fewer FLOPs (printed), a slightly different output. float32 only.`);
  static override examples = [
    '<%= config.bin %> convert levit_128s --checkpoint LeViT-128S-96703c44.pth --to onnx --out levit_128s.onnx',
    '<%= config.bin %> convert levit_384 --to onnx --weights synthetic   # untrained weights, for benchmarking',
    '<%= config.bin %> convert levit_128s --weights official --precision int8 --calibration imagenet/train-sample --calibration-size 200 -o int8.onnx',
    '<%= config.bin %> convert levit_128s --weights official --precision fp16 --out levit_128s.fp16.onnx',
    '<%= config.bin %> convert deit_tiny_patch16_224 --weights official --to tfjs --precision int8 --out deit_tiny_tfjs/',
    '<%= config.bin %> convert deit_small_patch16_224 --weights official --token-fusion mctf --out deit_small.mctf.onnx',
  ];
  static override args = { model: Args.string({ description: 'model id (see levit zoo)', required: true }) };
  static override flags = {
    ...weightsFlags('official'),
    to: Flags.string({ description: 'artifact format: an .onnx file, or a TensorFlow.js graph-model directory', options: ['onnx', 'tfjs'], default: 'onnx' }),
    out: Flags.string({
      char: 'o',
      description: 'output: an .onnx file, or the folder of a TensorFlow.js model (written atomically; checked before the work)',
      helpValue: 'PATH',
    }),
    ...precisionFlags('arithmetic of the artifact: fp32, fp16 or int8', 'fp32'),
    calibration: calibrationFlag(),
    ...tokenFusionFlag,
    ...forceFlag,
  };

  async run(): Promise<ConvertResult> {
    const { args, flags } = await this.parse(Convert);
    const card = withTokenFusion(getCard(args.model), flags['token-fusion']);
    const specs = await precisionSpecs(flags.precision, flags, flags.calibration);
    if (specs.length !== 1) throw new LevitError('--precision: convert writes one artifact; give one precision', ExitCode.usage);
    if (flags.out && flags.to === 'tfjs' && /\.onnx$/i.test(flags.out)) {
      throw new LevitError(
        `--out ${flags.out}: --to tfjs writes a folder (a TensorFlow.js graph model), not an .onnx file`,
        ExitCode.usage,
        'Name a folder, or leave out --to tfjs.',
      );
    }
    if (flags.out) preflightOutput(flags.out, 'out', flags.to === 'tfjs' ? 'directory' : 'file', flags.force);
    const progress = new Progress();
    const weights = await resolveClassifierWeights(card, {
      weights: weightsChoice(flags),
      download: defaultDownloadOptions(flags),
      onDownload: (p) => progress.update(transferLine(`downloading ${card.id}`, p)),
    });
    progress.clear();
    const result = await convertModel(card, weights, flags.to as ArtifactFormat, flags.out, undefined, specs[0], (p) =>
      progress.update(precisionProgressLine(card.id, p), true),
    );
    progress.clear();
    for (const note of result.notes) this.logToStderr(`note: ${note}`);
    this.log(`${result.model} -> ${result.out} (${bytes(result.bytes)}, ${result.opset ? `ONNX opset ${result.opset}` : 'TensorFlow.js graph model'})`);
    this.log(`  weights  ${result.weights.label}`);
    if (result.weights.verification) this.log(`  hash     ${result.weights.verification}`);
    this.log(`  precision ${result.precision.label}`);
    if (result.token_fusion !== 'none') this.log(`  fusion   ${result.token_fusion}: ${fusionLabel(flags['token-fusion'])}`);
    this.log(`  params   ${grouped(result.counts.params)}, FLOPs ${grouped(result.counts.flops)}`);
    this.log(`  time     build ${result.seconds.build.toFixed(2)} s, export ${result.seconds.export.toFixed(2)} s`);
    if (result.sensitivity) for (const line of renderSensitivity(result.sensitivity)) this.log(line);
    return result;
  }
}
