import { Args, Flags } from '@oclif/core';
import { LevitCommand } from '../src/cli/base.js';
import { COUNT, parseList, positiveInt } from '../src/cli/flags.js';
import { type PreprocessThroughput, measurePreprocess } from '../src/bench/preprocess.js';
import { folderImages } from '../src/eval/dataset.js';
import { getCard } from '../src/models/registry.js';
import { ExitCode, LevitError } from '../src/core/errors.js';
import { prose } from '../src/cli/prose.js';

export default class BenchDecode extends LevitCommand {
  static override summary = 'Measure how fast images are decoded and preprocessed for a model, without the model.';
  static override description = prose(`Runs levit eval's input pipeline alone (worker threads decoding and applying the model's
evaluation transform) over the images of a folder: compare its images/s with levit bench's
to see whether evaluation is limited by the model or by the pipeline.`);
  static override examples = ['<%= config.bin %> bench-decode ~/imagenet/val/n01440764 --workers 1,2 --model levit_128s'];
  static override args = { folder: Args.string({ description: 'folder of images', required: true }) };
  static override flags = {
    model: Flags.string({ description: 'model whose preprocessing to apply', default: 'levit_128s' }),
    workers: Flags.string({ description: 'worker thread counts, comma-separated', default: '1' }),
    limit: Flags.integer({ description: 'at most N images', min: 1 }),
  };

  async run(): Promise<PreprocessThroughput[]> {
    const { args, flags } = await this.parse(BenchDecode);
    const counts = parseList('workers', flags.workers, positiveInt, COUNT);
    const files = folderImages(args.folder).slice(0, flags.limit);
    if (files.length === 0) throw new LevitError(`${args.folder}: no images`, ExitCode.badInput);
    const p = getCard(flags.model).preprocessing;
    const results: PreprocessThroughput[] = [];
    for (const workers of counts) {
      const r = await measurePreprocess(files, p, workers);
      results.push(r);
      this.log(
        `${workers} worker${workers > 1 ? 's' : ''}: ${r.images_per_second.toFixed(1)} images/s ` +
          `(${r.images} images in ${r.seconds.toFixed(2)} s${r.failed ? `, ${r.failed} unreadable` : ''})`,
      );
    }
    return results;
  }
}
