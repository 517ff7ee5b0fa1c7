import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import type { BenchRecord, BenchResults } from '../results/types.js';
import { columnKey } from '../results/keys.js';
import { ExitCode, LevitError } from '../core/errors.js';
import { zooDir } from '../util/paths.js';
import { MIN_ROUNDS, seriesOf } from '../stats/paired-intervals.js';
import { speedUpInterval } from '../stats/speedups.js';

/**
 * Published speed claims (zoo/claims/*.json) checked against a bench run. A claim says that
 * `model` runs `factor` times as fast as `than` on a kind of device at a batch and thread count;
 * the measured speed-up is the ratio of the two models' images/s (medians over rounds), with an interval
 * from resampling whole rounds jointly (stats/speedups.ts). Verdicts, as documented in docs/claims.md:
 *   holds          the whole interval is at or above factor x (1 - CLAIM_TOLERANCE)
 *   does not hold  the whole interval is below it
 *   inconclusive   the interval straddles it, a side has too few rounds, or the verdict rests on
 *                  input resolutions that differ from the claim's in the verdict's favour
 *   not measured   the run lacks a model, the device kind, float32 or the paper's batch/threads, or is emulated (the reason says which)
 * A claim with no factor (direction only) holds when the interval is above 1 and fails below 1.
 */
export const CLAIM_TOLERANCE = 0.1;
export const CLAIM_CONFIDENCE = 0.95;

export type DeviceKind = 'cpu' | 'gpu' | 'npu';

export interface Claim {
  id: string;
  statement: string;
  /** The model claimed faster, and the one it is compared with (zoo ids). */
  model: string;
  than: string;
  /** How many times as fast; absent: the ratio of published_images_per_second; null: direction only. */
  factor?: number | null;
  published_images_per_second?: { model: number; than: number };
  device: { kind: DeviceKind; arch?: 'x64' | 'arm64'; name: string };
  /** Batches the claim was measured at (any of them counts). */
  batch: number[];
  /** Threads it was measured with; null where threads do not apply (GPU, NPU). */
  threads: number | null;
  /** Input resolutions of the claim's measurements: a run at others gets a caveat. */
  resolution?: { model: number; than: number };
  source: string;
  note?: string;
}

export type ClaimVerdict = 'holds' | 'does not hold' | 'inconclusive' | 'not measured';

export interface ClaimCheck {
  claim: string;
  statement: string;
  model: string;
  than: string;
  device: string;
  /** The claimed factor; null for a direction-only claim. */
  published: number | null;
  /** The configuration measured (backend, threads, batch); null when not measured. */
  column: string | null;
  /** The speed-up with its interval; paired: both models ran in the same rounds, and the interval resampled them jointly. */
  measured: { speedup: number; low: number; high: number; confidence: number; paired: boolean; rounds: number } | null;
  verdict: ClaimVerdict;
  /** Why not measured or inconclusive, and caveats (e.g. another input resolution than the paper's). */
  notes: string[];
  source: string;
}

export function invalid(file: string, what: string): never {
  throw new LevitError(`${file}: invalid claims file: ${what}`, ExitCode.failure, 'The claims files ship with levit: reinstall, or fix the file.');
}

function validateClaim(c: Partial<Claim>, file: string): Claim {
  const where = `claim ${String(c.id)}`;
  for (const key of ['id', 'statement', 'model', 'than', 'source'] as const) if (typeof c[key] !== 'string') invalid(file, `${where}: ${key} must be a string`);
  if (!c.device || !['cpu', 'gpu', 'npu'].includes(c.device.kind)) invalid(file, `${where}: device.kind must be cpu, gpu or npu`);
  const batchesOk = Array.isArray(c.batch) && c.batch.length > 0 && c.batch.every((b) => Number.isInteger(b) && b > 0);
  if (!batchesOk) invalid(file, `${where}: batch must list positive integers`);
  if (c.threads !== null && !(Number.isInteger(c.threads) && c.threads! > 0)) invalid(file, `${where}: threads must be a positive integer or null`);
  const factor = claimedFactor(c as Claim);
  if (factor !== null && !(factor > 0 && Number.isFinite(factor))) invalid(file, `${where}: needs a positive factor or published_images_per_second`);
  return c as Claim;
}

/** The claimed speed-up factor, or null for a direction-only claim. */
export function claimedFactor(c: Claim): number | null {
  if (c.factor !== undefined) return c.factor;
  const p = c.published_images_per_second;
  return p ? p.model / p.than : Number.NaN;
}

export const CLAIMS_DIR = join(zooDir, 'claims');

/**
 * The claims files of a folder, in name order, each with its kind: speed claims (no kind) or
 * 'flops' (published FLOP counts, flops-claims.ts).
 */
export function readClaimFiles(dir: string): { file: string; kind: string; convention?: string; claims: unknown[] }[] {
  const files = readdirSync(dir)
    .filter((f) => f.endsWith('.json'))
    .sort();
  return files.map((f) => {
    let doc: { claims?: unknown; kind?: unknown; convention?: unknown };
    try {
      doc = JSON.parse(readFileSync(join(dir, f), 'utf8'));
    } catch {
      invalid(f, 'not JSON');
    }
    if (!Array.isArray(doc.claims)) invalid(f, 'no claims list');
    const convention = typeof doc.convention === 'string' ? doc.convention : undefined;
    return { file: f, kind: typeof doc.kind === 'string' ? doc.kind : 'speed', convention, claims: doc.claims as unknown[] };
  });
}

/** Every speed claim of zoo/claims/ (or `dir`), file by file in name order. */
export function loadClaims(dir = CLAIMS_DIR): Claim[] {
  return readClaimFiles(dir)
    .filter((d) => d.kind === 'speed')
    .flatMap((d) => (d.claims as Partial<Claim>[]).map((c) => validateClaim(c, d.file)));
}

const CPU_BACKENDS = new Set(['ort-cpu', 'ort-wasm', 'tfjs-node', 'tfjs-wasm', 'tfjs-cpu']);
/** torch-cuda: the PyTorch reference's records (scripts/torch_reference.py), the runtime the papers timed. */
const GPU_BACKENDS = new Set(['ort-cuda', 'ort-webgpu', 'torch-cuda']);
/** Software renderers that give WebGPU a "GPU" made of CPU cores. */
const SOFTWARE_GPU = /llvmpipe|lavapipe|swiftshader|software/i;

/** The kind of device a record ran on, as claims name them; null for a backend levit does not know. */
export function deviceKindOf(r: Pick<BenchRecord, 'backend' | 'device'>): DeviceKind | null {
  if (CPU_BACKENDS.has(r.backend)) return 'cpu';
  if (!GPU_BACKENDS.has(r.backend)) return null;
  return r.backend === 'ort-webgpu' && r.device !== null && SOFTWARE_GPU.test(r.device) ? 'cpu' : 'gpu';
}

const describeDevice = (c: Claim) => (c.device.kind === 'cpu' ? `${c.device.arch ?? 'any'} CPU` : c.device.kind === 'gpu' ? 'GPU' : 'NPU');

/** What a check says of its claim, measured or not. */
const about = (c: Claim) => ({
  claim: c.id,
  statement: c.statement,
  model: c.model,
  than: c.than,
  device: c.device.name,
  source: c.source,
  published: claimedFactor(c),
});

function notMeasured(c: Claim, reason: string): ClaimCheck {
  return { ...about(c), column: null, measured: null, verdict: 'not measured', notes: [reason, ...(c.note ? [c.note] : [])] };
}

/** Why no pair of records of the run can test the claim: the most specific reason. */
function missingReason(c: Claim, results: BenchResults, mine: BenchRecord[], theirs: BenchRecord[]): string {
  const lacking = [c.model, c.than].filter((m) => !results.records.some((r) => r.model === m));
  if (lacking.length) return `the run lacks ${lacking.join(' and ')} (add ${lacking.length > 1 ? 'them' : 'it'} to the models benched)`;
  const fusedOnly = [c.model, c.than].filter((m) => !results.records.some((r) => r.model === m && !r.token_fusion));
  if (fusedOnly.length)
    return `the run has ${fusedOnly.join(' and ')} only with token fusion; the claim is about the plain model (bench --token-fusion none,...)`;
  if (c.device.kind === 'npu') return `needs ${c.device.name}: levit has no backend for it`;
  if ([...mine, ...theirs].every((r) => r.emulated)) return 'the run is emulated: its times are not a speed figure';
  if ([...mine, ...theirs].every((r) => r.precision !== 'fp32')) return 'the claims are float32 figures; this run has only reduced precisions';
  const arch = results.system.os.arch;
  if (c.device.arch && c.device.arch !== arch) return `needs an ${c.device.arch} CPU; this run is on ${arch}`;
  const onDevice = (rs: BenchRecord[]) => rs.filter((r) => deviceKindOf(r) === c.device.kind);
  if (!onDevice(mine).length || !onDevice(theirs).length) {
    return `needs a ${describeDevice(c)} backend for both models; this run has ${[...new Set(mine.map(columnKey))].join(', ')}`;
  }
  const want = `batch ${c.batch.join(' or ')}${c.threads === null ? '' : ` and ${c.threads} thread${c.threads > 1 ? 's' : ''}`}`;
  const had = [
    ...new Set(
      onDevice(mine)
        .filter((m) => onDevice(theirs).some((t) => columnKey(t) === columnKey(m)))
        .map(columnKey),
    ),
  ];
  return `needs both models at the claim's ${want} on one backend; this run has ${had.join(', ') || 'them in no common configuration'}`;
}

function verdictOf(factor: number | null, low: number, high: number): ClaimVerdict {
  const bar = factor === null ? 1 : factor * (1 - CLAIM_TOLERANCE);
  if (factor === null ? low > bar : low >= bar) return 'holds';
  return high < bar ? 'does not hold' : 'inconclusive';
}

function check(c: Claim, mine: BenchRecord, theirs: BenchRecord, seed: number): ClaimCheck {
  const factor = claimedFactor(c);
  const notes: string[] = [];
  // Pixels the rival works on relative to the claim's, over the same for the model: above 1 the
  // run's resolutions inflate the speed-up (they favour the claim), below 1 they deflate it.
  const favour = c.resolution ? (theirs.resolution / c.resolution.than) ** 2 / (mine.resolution / c.resolution.model) ** 2 : 1;
  if (favour !== 1) notes.push(`measured at ${mine.resolution} and ${theirs.resolution} px; the claim at ${c.resolution!.model} and ${c.resolution!.than} px`);
  if (c.note) notes.push(c.note);
  const base = { ...about(c), column: columnKey(mine) };
  const interval = speedUpInterval(mine, theirs, CLAIM_CONFIDENCE, seed);
  const measured = {
    speedup: interval.value,
    low: interval.low,
    high: interval.high,
    confidence: CLAIM_CONFIDENCE,
    paired: interval.paired,
    rounds: interval.rounds,
  };
  if (!interval.paired) notes.push('the two models were not measured in the same rounds: the interval is unpaired');
  const [a, b] = [seriesOf(mine).values.length, seriesOf(theirs).values.length];
  if (Math.min(a, b) < MIN_ROUNDS) {
    const few = `too few rounds (${a} and ${b}; an interval needs ${MIN_ROUNDS} a side): bench with a longer --duration`;
    return { ...base, measured, verdict: 'inconclusive', notes: [few, ...notes] };
  }
  let verdict = verdictOf(factor, interval.low, interval.high);
  if ((verdict === 'holds' && favour > 1) || (verdict === 'does not hold' && favour < 1)) {
    // The resolutions, not the models, may decide it: no verdict either way.
    const how = favour > 1 ? 'favour' : 'disfavour';
    notes.unshift(`${verdict} only with resolutions that ${how} the claim (${favour.toFixed(2)}× the rival's relative pixels)`);
    verdict = 'inconclusive';
  } else if (verdict === 'inconclusive') {
    notes.unshift(`the ${CLAIM_CONFIDENCE * 100}% interval straddles ${factor === null ? '1' : `${(factor * (1 - CLAIM_TOLERANCE)).toFixed(2)}×`}`);
  }
  return { ...base, measured, verdict, notes };
}

/**
 * Each claim checked against the run: one check per configuration (backend, threads, batch) that
 * measured both models on the claim's kind of device at its batch and threads, or one "not measured".
 */
export function checkClaims(results: BenchResults, claims: readonly Claim[]): ClaimCheck[] {
  return claims.flatMap((c, i) => {
    // A model with token fusion is not the model a claim is about (its accuracy is another).
    const mine = results.records.filter((r) => r.model === c.model && !r.token_fusion);
    const theirs = results.records.filter((r) => r.model === c.than && !r.token_fusion);
    const fits = (r: BenchRecord) =>
      r.precision === 'fp32' &&
      !r.emulated &&
      deviceKindOf(r) === c.device.kind &&
      (!c.device.arch || c.device.arch === results.system.os.arch) &&
      c.batch.includes(r.batch) &&
      (c.threads === null || r.threads === c.threads);
    const pairs = mine.filter(fits).flatMap((m) => theirs.filter((t) => columnKey(t) === columnKey(m)).map((t) => [m, t] as const));
    if (pairs.length === 0) return [notMeasured(c, missingReason(c, results, mine, theirs))];
    return pairs.map(([m, t], j) => check(c, m, t, 1 + i * 97 + j));
  });
}
