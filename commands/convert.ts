import { Args, Flags } from '@oclif/core';
import { LevitCommand } from '../src/cli/base.js';
import { bytes, grouped } from '../src/render/format.js';
import { weightsChoice, weightsFlags } from '../src/cli/flags.js';
import { getCard } from '../src/models/registry.js';
import { Progress, transferLine } from '../src/cli/progress.js';
import { defaultDownloadOptions } from '../src/download/checkpoints.js';
import { resolveClassifierWeights } from '../src/classifier/session.js';
import { type ConvertResult, convertModel } from '../src/classifier/convert.js';
import type { ArtifactFormat } from '../src/runtime/backend.js';

export default class Convert extends LevitCommand {
  static override summary = 'Convert a model (official checkpoint or synthetic weights) to ONNX or TensorFlow.js, without Python.';
  static override description = `Reads the checkpoint without executing any of it, builds the model from its card,
folds BatchNorm and the attention-bias tables, and writes a standard ONNX model
(opset 17, free batch dimension): input float32 [batch, 3, R, R], output logits [batch, 1000].
Without --out the file goes to the cache ($LEVIT_CACHE_DIR, default ~/.cache/levit).`;
  static override examples = [
    '<%= config.bin %> convert levit_128s --checkpoint LeViT-128S-96703c44.pth --to onnx --out levit_128s.onnx',
    '<%= config.bin %> convert levit_384 --to onnx   # synthetic weights, for benchmarking',
    '<%= config.bin %> convert deit_tiny_patch16_224 --weights official --to tfjs --out deit_tiny_tfjs/',
  ];
  static override args = { model: Args.string({ description: 'model id (see levit zoo)', required: true }) };
  static override flags = {
    ...weightsFlags('synthetic'),
    to: Flags.string({ description: 'artifact format: an .onnx file, or a TensorFlow.js graph-model directory', options: ['onnx', 'tfjs'], default: 'onnx' }),
    out: Flags.string({ char: 'o', description: 'output file (written atomically)', helpValue: 'FILE' }),
  };

  async run(): Promise<ConvertResult> {
    const { args, flags } = await this.parse(Convert);
    const card = getCard(args.model);
    const progress = new Progress();
    const weights = await resolveClassifierWeights(card, {
      weights: weightsChoice(flags),
      download: defaultDownloadOptions(flags),
      onDownload: (p) => progress.update(transferLine(`downloading ${card.id}`, p)),
    });
    progress.clear();
    const result = await convertModel(card, weights, flags.to as ArtifactFormat, flags.out);
    for (const note of result.notes) this.logToStderr(`note: ${note}`);
    this.log(`${result.model} -> ${result.out} (${bytes(result.bytes)}, ${result.opset ? `ONNX opset ${result.opset}` : 'TensorFlow.js graph model'})`);
    this.log(`  weights  ${result.weights.label}`);
    this.log(`  params   ${grouped(result.counts.params)}, FLOPs ${grouped(result.counts.flops)}`);
    this.log(`  time     build ${result.seconds.build.toFixed(2)} s, export ${result.seconds.export.toFixed(2)} s`);
    return result;
  }
}
