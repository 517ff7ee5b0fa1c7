import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { seededRandom } from '../src/util/random.js';
import { readCheckpointBytes } from '../src/checkpoint/index.js';
import { PyDict, unpickle } from '../src/checkpoint/pickle.js';
import { ZipArchive } from '../src/checkpoint/zip.js';
import { ExitCode, LevitError } from '../src/core/errors.js';
import { parseNpy } from '../src/util/npy.js';
import { golden, needsShared } from './helpers/shared.js';
import { torchSaveBuffer, zipStored } from './helpers/torch-save.js';

/**
 * Seeded mutation fuzzing of every reader: each mutated file must either read or fail with
 * levit's own bad-input error (exit 3). Time-bounded per reader so CI stays fast; a failure
 * names the seed and iteration, which reproduce it exactly.
 */
const SEED = Number(process.env.LEVIT_FUZZ_SEED ?? 20261122);
const BUDGET_MS = Number(process.env.LEVIT_FUZZ_MS ?? 3000);
const INTERESTING = [0x00, 0x01, 0x7f, 0x80, 0xff, 0x28, 0x2e, 0x7d, 0x8a, 0x95];
const INTERESTING_U32 = [0, 1, 0x7fffffff, 0x80000000, 0xffffffff, 0x10000, 0xfffffffe];

/** One to four mutations, landing inside [0, region) of the file: byte flips, magic values, truncation, duplication. */
function mutate(src: Buffer, region: number, rnd: () => number): Buffer {
  let buf = Buffer.from(src);
  const at = () => Math.floor(rnd() * Math.min(region, buf.length));
  for (let k = 1 + Math.floor(rnd() * 4); k > 0; k--) {
    const kind = Math.floor(rnd() * 6);
    const i = at();
    if (kind === 0) buf[i] ^= 1 << Math.floor(rnd() * 8);
    else if (kind === 1) buf[i] = INTERESTING[Math.floor(rnd() * INTERESTING.length)];
    else if (kind === 2 && i + 4 <= buf.length) buf.writeUInt32LE(INTERESTING_U32[Math.floor(rnd() * INTERESTING_U32.length)], i);
    else if (kind === 3) buf = buf.subarray(0, i);
    else if (kind === 4) buf = Buffer.concat([buf.subarray(0, i), buf.subarray(at(), at() + 1 + Math.floor(rnd() * 64)), buf.subarray(i)]);
    else buf = Buffer.concat([buf.subarray(0, i), buf.subarray(i + 1 + Math.floor(rnd() * 16))]);
  }
  return buf;
}

interface Corpus {
  name: string;
  seedFile: Buffer;
  /** Where mutations land: the structure, not megabytes of weights that any value is valid for. */
  region: number;
  read: (mutated: Buffer) => unknown;
}

/** Each reader gets at least MIN_RUNS inputs, then more until its time budget is spent. */
const MIN_RUNS = 40;

function fuzz(c: Corpus): { runs: number; accepted: number } {
  const rnd = seededRandom(SEED ^ [...c.name].reduce((h, ch) => Math.imul(h, 31) + ch.charCodeAt(0), 7));
  const until = performance.now() + BUDGET_MS;
  let runs = 0;
  let accepted = 0;
  while (runs < MIN_RUNS || performance.now() < until) {
    const input = mutate(c.seedFile, c.region, rnd);
    try {
      c.read(input);
      accepted++;
    } catch (e) {
      const ok = e instanceof LevitError && e.exitCode === ExitCode.badInput;
      assert.ok(ok, `${c.name}, seed ${SEED}, iteration ${runs}: ${e instanceof Error ? `${e.name}: ${e.message}` : String(e)}`);
    }
    runs++;
  }
  return { runs, accepted };
}

/**
 * The golden checkpoint's pickle, mutated and zipped without its 32 MB of storages: the pickle
 * machine and the state_dict walk see every mutation, and a pickle that survives them ends at
 * the missing storage (also a bad-input error) instead of costing a full read each time.
 */
function goldenPickleCorpus(): Corpus {
  const zip = new ZipArchive(readFileSync(golden('levit_128s', 'LeViT-128S-golden.pth')), 'golden');
  const name = [...zip.entries.keys()].find((n) => n.endsWith('data.pkl'))!;
  const pkl = zip.read(name, zip.entries.get(name)!.size);
  const read = (m: Buffer) => readCheckpointBytes(zipStored([[name, m]]), 'fuzz.pth');
  return { name: 'pickle (golden LeViT-128S data.pkl)', seedFile: pkl, region: pkl.length, read };
}

/** The golden legacy file's five pickles (magic, protocol, system info, state_dict, storage keys), without the storages. */
function goldenLegacyPickles(): Buffer {
  const buf = readFileSync(golden('efficientnet_b0', 'efficientnet_b0-golden.pth'));
  const onlyDicts = { globals: new Map([['collections.OrderedDict', () => new PyDict()]]), persistentLoad: () => null };
  let end = 0;
  for (let i = 0; i < 5; i++) end = unpickle(buf, end, onlyDicts).end;
  return buf.subarray(0, end);
}

test('fuzzed pickles, zips, legacy files, safetensors and .npy end in a bad-input error or a good read', { skip: needsShared }, () => {
  const small = torchSaveBuffer(
    new Map([
      ['w', { dtype: 'float32', shape: [2, 3], data: new Float32Array(6) }],
      ['i', { dtype: 'int64', shape: [3], data: new BigInt64Array(3) }],
    ]),
  );
  const legacy = goldenLegacyPickles();
  const st = readFileSync(golden('edgenext_x_small', 'model.safetensors'));
  const npy = readFileSync(golden('input_224.npy'));
  const corpora: Corpus[] = [
    goldenPickleCorpus(),
    { name: 'zip structure (torch.save format)', seedFile: small, region: small.length, read: (m) => readCheckpointBytes(m, 'fuzz.pth') },
    { name: 'legacy torch (golden EfficientNet-B0 pickles)', seedFile: legacy, region: legacy.length, read: (m) => readCheckpointBytes(m, 'fuzz.pth') },
    {
      name: 'safetensors (golden EdgeNeXt-XS)',
      seedFile: st,
      region: 8 + Number(st.readBigUInt64LE(0)),
      read: (m) => readCheckpointBytes(m, 'fuzz.safetensors'),
    },
    { name: '.npy (golden input)', seedFile: npy, region: 256, read: (m) => parseNpy(m, 'fuzz.npy') },
  ];
  for (const c of corpora) {
    const { runs, accepted } = fuzz(c);
    console.log(`# fuzz ${c.name}: ${runs} mutated inputs, ${accepted} read, ${runs - accepted} refused as bad input`);
  }
});
