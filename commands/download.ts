import { Args, Flags } from '@oclif/core';
import { LevitCommand } from '../src/cli/base.js';
import { bytes } from '../src/render/format.js';
import { modelList, networkFlags } from '../src/cli/flags.js';
import { Progress, transferLine } from '../src/cli/progress.js';
import { verificationText } from '../src/download/cache-record.js';
import { type DownloadResult, type NotCached, defaultDownloadOptions, ensureCheckpoint, verifyCached, verifyIfCached } from '../src/download/checkpoints.js';
import type { ModelCard } from '../src/models/families.js';
import { getCard } from '../src/models/registry.js';
import { ExitCode, LevitError } from '../src/core/errors.js';
import { prose } from '../src/cli/prose.js';

export default class Download extends LevitCommand {
  static override summary = 'Download official checkpoints into the cache, verified by sha256.';
  static override description = prose(`Files go to $LEVIT_CACHE_DIR/checkpoints (default ~/.cache/levit). A transfer that breaks
off is resumed (HTTP Range) and retried with backoff; a file appears under its final name
only after its sha256 matches the pinned hash (or, for hub files without one, the digest
the server states). A mismatch deletes the partial file and exits non-zero. The full sha256 of every verified file
is recorded beside it and every later use is checked against that record (trust on first use);
--verify downloads nothing and hashes the cache again: the models named, each of which must be
cached, or with none named (or --all) every checkpoint in the cache, listing the rest as not cached.
A file that no longer matches its record or pin exits 3. The official LeViT/DeiT file names pin only 32 bits of sha256:
pin the full hash with --sha256 or LEVIT_SHA256_<MODEL> where you know it.
HTTPS_PROXY / HTTP_PROXY / NO_PROXY are honoured.`);
  static override examples = [
    '<%= config.bin %> download levit_128s levit_256',
    '<%= config.bin %> download --all',
    "<%= config.bin %> download 'efficientnet_b*' deit",
    '<%= config.bin %> download --verify',
    'LEVIT_MIRROR=https://mirror.example.org/levit <%= config.bin %> download levit_384',
  ];
  static override strict = false;
  static override args = { model: Args.string({ description: "models: ids or timm names, patterns ('levit*') or families (levit)" }) };
  static override flags = {
    ...networkFlags,
    all: Flags.boolean({ description: 'every model in the zoo' }),
    timeout: Flags.integer({ description: 'seconds without data before a try is abandoned', default: 30, min: 1 }),
    retries: Flags.integer({ description: 'retries after a broken transfer', default: 4, min: 0 }),
    'allow-unverified': Flags.boolean({ description: 'accept a file when no sha256 is pinned or stated by the server' }),
    sha256: Flags.string({ description: 'the full sha256 the file must have (with one model; also LEVIT_SHA256_<MODEL>)', helpValue: 'HEX' }),
    verify: Flags.boolean({
      description: 'download nothing: hash the cached files again and check them against their records and pins (no model named: every cached file)',
    }),
    deadline: Flags.integer({ description: 'seconds the whole download of one file may take, retries included (default: none)' }),
  };

  async run(): Promise<(DownloadResult | NotCached)[]> {
    const { argv, flags } = await this.parse(Download);
    const named = (argv as string[]).length > 0;
    // --verify with no model named checks the whole cache, as --all does.
    const ids = modelList(argv as string[], flags.all || (flags.verify && !named), (c) => !!c.checkpoint);
    if (!ids?.length) throw new LevitError('name the models to download, or pass --all', ExitCode.usage, 'levit zoo lists them.');
    const cards = ids.map(getCard);
    if (flags.sha256 && cards.length !== 1) throw new LevitError('--sha256 pins one file: name exactly one model', ExitCode.usage);
    if (flags.verify) return this.verify(cards, flags.sha256, named);
    const progress = new Progress();
    const options = {
      ...defaultDownloadOptions(flags),
      allowUnverified: flags['allow-unverified'],
      sha256: flags.sha256,
      cacheOnly: true,
      fetch: {
        timeoutMs: flags.timeout * 1000,
        retries: flags.retries,
        deadlineMs: flags.deadline === undefined ? undefined : flags.deadline * 1000,
        onRetry: (attempt: number, reason: string, delay: number) => progress.log(`  retry ${attempt} in ${(delay / 1000).toFixed(1)} s: ${reason}`),
      },
    };
    const results: DownloadResult[] = [];
    const failed: Failed[] = [];
    for (const card of cards) {
      let r: DownloadResult;
      try {
        r = await ensureCheckpoint(card, options, (p) => progress.update(transferLine(card.id, p)));
      } catch (e) {
        // One model's failure does not stop the others; the end says which failed.
        if (!(e instanceof LevitError) || cards.length === 1) throw e;
        progress.clear();
        this.logToStderr(`failed: ${e.message}`);
        failed.push({ card, error: e });
        continue;
      }
      results.push(r);
      progress.clear();
      this.log(
        r.status === 'cached'
          ? `${card.id}: already in the cache (${r.path})`
          : `${card.id}: ${r.status} ${bytes(r.bytes)} -> ${r.path} (sha256 ${r.sha256}, ${verificationText[r.verified]})`,
      );
    }
    if (failed.length) throw failure(`${failed.length} of ${cards.length} checkpoints not downloaded`, failed, failed[0], results);
    return results;
  }

  /**
   * Models named must be in the cache; over the whole cache (--all, or none named) those not in it
   * are listed as such. A file that fails its check does not stop the others; the end names every one.
   */
  private async verify(cards: ModelCard[], sha256: string | undefined, named: boolean): Promise<(DownloadResult | NotCached)[]> {
    const results: (DownloadResult | NotCached)[] = [];
    const failed: Failed[] = [];
    for (const card of cards) {
      let r: DownloadResult | NotCached;
      try {
        r = named ? await verifyCached(card, { sha256 }) : await verifyIfCached(card, { sha256 });
      } catch (e) {
        if (!(e instanceof LevitError) || cards.length === 1) throw e;
        this.logToStderr(`failed: ${e.message}`);
        failed.push({ card, error: e });
        continue;
      }
      results.push(r);
      this.log(
        r.status === 'not-cached'
          ? `${card.id}: not cached`
          : `${card.id}: ${r.path} re-hashed: sha256 ${r.sha256} matches its record (first verified: ${verificationText[r.verified]})`,
      );
    }
    const notCached = results.filter((r) => r.status === 'not-cached').length;
    if (!named) this.log(`${cards.length - notCached - failed.length} verified, ${failed.length} failed, ${notCached} not cached`);
    if (failed.length) {
      // A file that no longer matches its hash decides the exit code over any other failure.
      const worst = failed.find((f) => f.error.exitCode === ExitCode.badInput) ?? failed[0];
      throw failure(`${failed.length} of ${cards.length - notCached} cached checkpoints failed verification`, failed, worst, results);
    }
    return results;
  }
}

type Failed = { card: ModelCard; error: LevitError };

/**
 * The error that ends a run over several models when some failed: each failure's reason was printed as it
 * happened; under --json, which prints nothing else, they and the models that succeeded are in the error.
 */
function failure(what: string, failed: readonly Failed[], decisive: Failed, done: readonly (DownloadResult | NotCached)[]): LevitError {
  const hint = decisive.error.hint ?? '';
  return new LevitError(`${what}: ${failed.map((f) => f.card.id).join(', ')}`, decisive.error.exitCode, `Each one's reason is above. ${hint}`.trim(), {
    details: { failed: failed.map((f) => ({ model: f.card.id, reason: f.error.message, exitCode: f.error.exitCode })), done },
    jsonHint: `Each one's reason is in error.failed. ${hint}`.trim(),
  });
}
