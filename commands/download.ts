import { Args, Flags } from '@oclif/core';
import { LevitCommand } from '../src/cli/base.js';
import { bytes } from '../src/render/format.js';
import { networkFlags } from '../src/cli/flags.js';
import { Progress, transferLine } from '../src/cli/progress.js';
import { type DownloadResult, defaultDownloadOptions, ensureCheckpoint } from '../src/download/checkpoints.js';
import { getCard, listCards } from '../src/models/registry.js';
import { ExitCode, LevitError } from '../src/core/errors.js';

export default class Download extends LevitCommand {
  static override summary = 'Download official checkpoints into the cache, verified by sha256.';
  static override description = `Files go to $LEVIT_CACHE_DIR/checkpoints (default ~/.cache/levit). A transfer that breaks
off is resumed (HTTP Range) and retried with backoff; a file appears under its final name
only after its sha256 matches the pinned hash (or, for hub files without one, the digest
the server states). A mismatch deletes the partial file and exits non-zero.
HTTPS_PROXY / HTTP_PROXY / NO_PROXY are honoured.`;
  static override examples = ['<%= config.bin %> download levit_128s levit_256', '<%= config.bin %> download --all', 'LEVIT_MIRROR=https://mirror.example.org/levit <%= config.bin %> download levit_384'];
  static override strict = false;
  static override args = { model: Args.string({ description: 'model ids (see levit zoo)' }) };
  static override flags = {
    ...networkFlags,
    all: Flags.boolean({ description: 'every model in the zoo' }),
    timeout: Flags.integer({ description: 'seconds without data before a try is abandoned', default: 30 }),
    retries: Flags.integer({ description: 'retries after a broken transfer', default: 4 }),
    'allow-unverified': Flags.boolean({ description: 'accept a file when no sha256 is pinned or stated by the server' }),
  };

  async run(): Promise<DownloadResult[]> {
    const { argv, flags } = await this.parse(Download);
    const ids = flags.all ? listCards().filter((c) => c.checkpoint).map((c) => c.id) : (argv as string[]);
    if (ids.length === 0) throw new LevitError('name the models to download, or pass --all', ExitCode.usage, 'levit zoo lists them.');
    const cards = ids.map(getCard);
    const progress = new Progress();
    const options = {
      ...defaultDownloadOptions(flags),
      allowUnverified: flags['allow-unverified'],
      fetch: {
        timeoutMs: flags.timeout * 1000,
        retries: flags.retries,
        onRetry: (attempt: number, reason: string, delay: number) => progress.log(`  retry ${attempt} in ${(delay / 1000).toFixed(1)} s: ${reason}`),
      },
    };
    const results: DownloadResult[] = [];
    for (const card of cards) {
      const r = await ensureCheckpoint(card, options, (p) => progress.update(transferLine(card.id, p)));
      results.push(r);
      progress.clear();
      this.log(
        r.status === 'cached'
          ? `${card.id}: already in the cache (${r.path})`
          : `${card.id}: ${r.status} ${bytes(r.bytes)} -> ${r.path} (sha256 ${r.sha256?.slice(0, 16)}..., ${r.verified === 'pinned' ? 'matches the pinned hash' : r.verified === 'server' ? "matches the server's digest" : 'NOT verified'})`,
      );
    }
    return results;
  }
}
