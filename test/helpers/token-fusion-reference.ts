import type { FloatTensor } from '../../src/core/tensor.js';

/**
 * An independent reference of DeiT with training-free MCTF and ToMe, written from the official code
 * (mlvlab/MCTF utils/mctf.py, models/modules/blocks.py, models/SA/MHSA.py; facebookresearch/ToMe
 * tome/merge.py, tome/patch/timm.py) step by step as they are written there: index arrays, argsort,
 * scatter-add, two merge directions, attention merged on keys then queries. Nothing here is shared
 * with levit's graph (which ranks by comparison, merges by group ids and reassociates the one-step-ahead
 * product), so agreement between the two checks both. Float64, one image at a time, slow (seconds an image).
 */

type Vec = Float64Array;
/** Rows of equal length: tokens x channels. */
type Rows = Vec[];

export interface ReferenceSetting {
  method: 'none' | 'mctf' | 'mctf-fast' | 'tome';
  r: number;
}

export interface ReferenceArch {
  dim: number;
  heads: number;
  depth: number;
  distilled: boolean;
  eps: number;
}

export interface ReferenceTrace {
  /** The residual stream after each block. */
  hidden: Rows[];
  /** Token sizes after each block (1 for every token before the first merge). */
  sizes: number[][];
  /** For each block, the token (after the block) holding each input token. */
  sources: number[][];
  /**
   * For each merge decision, the smallest score gap it rests on: between the r-th and (r+1)-th best row
   * maxima (which tokens merge) and between the best and second-best score of a merged row (where it goes).
   * Float32 rounding can flip a decision whose gap is near 1e-6.
   */
  gaps: number[];
}

type Weights = ReadonlyMap<string, FloatTensor>;

const w64 = (w: Weights, name: string): Vec => {
  const t = w.get(name);
  if (!t) throw new Error(`reference: no tensor ${name}`);
  return Float64Array.from(t.data);
};

/** x W^T + b, W stored [out, in] as PyTorch does; `from`/`count` select output features. */
function linear(x: Rows, W: Vec, b: Vec, inF: number, from = 0, count = b.length): Rows {
  return x.map((row) => {
    const out = new Float64Array(count);
    for (let o = 0; o < count; o++) {
      let acc = b[from + o];
      const base = (from + o) * inF;
      for (let i = 0; i < inF; i++) acc += row[i] * W[base + i];
      out[o] = acc;
    }
    return out;
  });
}

function layerNorm(x: Rows, g: Vec, b: Vec, eps: number): Rows {
  return x.map((row) => {
    const n = row.length;
    let mean = 0;
    for (const v of row) mean += v;
    mean /= n;
    let variance = 0;
    for (const v of row) variance += (v - mean) ** 2;
    variance /= n;
    const inv = 1 / Math.sqrt(variance + eps);
    return row.map((v, i) => (v - mean) * inv * g[i] + b[i]);
  });
}

function erf(x: number): number {
  // Abramowitz-Stegun 7.1.26 is too coarse (1e-7); a series / continued fraction to double precision instead.
  const ax = Math.abs(x);
  if (ax < 2.5) {
    let sum = ax;
    let term = ax;
    for (let n = 1; n < 200; n++) {
      term *= (-ax * ax) / n;
      const add = term / (2 * n + 1);
      sum += add;
      if (Math.abs(add) < 1e-17 * Math.abs(sum)) break;
    }
    return Math.sign(x) * ((2 / Math.sqrt(Math.PI)) * sum);
  }
  // erfc by Lentz's continued fraction for large |x|.
  let f = ax;
  let c = ax;
  let d = 0;
  for (let n = 1; n < 300; n++) {
    const an = n / 2;
    d = ax + an * d;
    d = 1 / d;
    c = ax + an / c;
    const delta = c * d;
    f *= delta;
    if (Math.abs(delta - 1) < 1e-16) break;
  }
  const erfc = Math.exp(-ax * ax) / Math.sqrt(Math.PI) / f;
  return Math.sign(x) * (1 - erfc);
}

const gelu = (v: number) => 0.5 * v * (1 + erf(v / Math.SQRT2));

/** Softmax attention probabilities per head, with log(size) added to each key when sizes exist (prop_attn). */
function attentionProbs(q: Rows, k: Rows, heads: number, size: number[] | null): number[][][] {
  const n = q.length;
  const d = q[0].length / heads;
  const scale = d ** -0.5;
  const P: number[][][] = [];
  for (let h = 0; h < heads; h++) {
    const ph: number[][] = [];
    for (let i = 0; i < n; i++) {
      const row = new Array<number>(n);
      let max = -Infinity;
      for (let j = 0; j < n; j++) {
        let acc = 0;
        for (let c = 0; c < d; c++) acc += q[i][h * d + c] * k[j][h * d + c];
        row[j] = acc * scale + (size ? Math.log(size[j]) : 0);
        max = Math.max(max, row[j]);
      }
      let sum = 0;
      for (let j = 0; j < n; j++) sum += row[j] = Math.exp(row[j] - max);
      ph.push(row.map((v) => v / sum));
    }
    P.push(ph);
  }
  return P;
}

/** P V with heads concatenated: [tokens, heads * d]. */
function applyAttention(P: number[][][], v: Rows, heads: number): Rows {
  const nq = P[0].length;
  const d = v[0].length / heads;
  return Array.from({ length: nq }, (_, i) => {
    const out = new Float64Array(heads * d);
    for (let h = 0; h < heads; h++) {
      for (let j = 0; j < v.length; j++) {
        const p = P[h][i][j];
        for (let c = 0; c < d; c++) out[h * d + c] += p * v[j][h * d + c];
      }
    }
    return out;
  });
}

const addRows = (a: Rows, b: Rows): Rows => a.map((row, i) => row.map((v, c) => v + b[i][c]));

/** argsort, descending; equal values keep index order (as TopK does; the golden data has no exact ties). */
const argsortDesc = (v: number[]) => v.map((_, i) => i).sort((a, b) => (v[b] === v[a] ? a - b : v[b] > v[a] ? 1 : -1));

/** max and first argmax of each row. */
const rowMax = (s: number[][]) =>
  s.map((row) => {
    let best = 0;
    for (let j = 1; j < row.length; j++) if (row[j] > row[best]) best = j;
    return { max: row[best], idx: best };
  });

/** The smallest gap the choice of the r best rows (by their maxima) and of each one's best column rests on. */
function decisionGap(scores: number[][], order: number[], r: number): number {
  const best = rowMax(scores);
  let gap = r < order.length ? best[order[r - 1]].max - best[order[r]].max : Infinity;
  for (const i of order.slice(0, r)) {
    const second = Math.max(...scores[i].filter((_, j) => j !== best[i].idx));
    gap = Math.min(gap, best[i].max - second);
  }
  return gap;
}

/**
 * A merge plan of bipartite soft matching: the A set is the even tokens, B the odd ones. `merge` applies it
 * to rows (tokens x channels), summing the merged rows, in the official output order.
 */
interface MergePlan {
  merge(x: Rows): Rows;
}

function cosineScores(metric: Rows): number[][] {
  const unit = metric.map((row) => {
    const norm = Math.sqrt(row.reduce((s, v) => s + v * v, 0));
    return row.map((v) => v / norm);
  });
  const a = unit.filter((_, i) => i % 2 === 0);
  const b = unit.filter((_, i) => i % 2 === 1);
  return a.map((ra) => b.map((rb) => ra.reduce((s, v, c) => s + v * rb[c], 0)));
}

const evens = <T>(x: T[]) => x.filter((_, i) => i % 2 === 0);
const odds = <T>(x: T[]) => x.filter((_, i) => i % 2 === 1);
const cloneRows = (x: Rows) => x.map((r) => Float64Array.from(r));
const scatterAdd = (dst: Rows, idx: number[], src: Rows) => src.forEach((row, k) => row.forEach((v, c) => (dst[idx[k]][c] += v)));

/**
 * The A -> B step both methods share: protected tokens out (the class token's row, a distillation token's
 * column), the r A rows with the best matches merge into their best B; the others stay, in index order.
 */
function firstStep(scores: number[][], r: number, distilled: boolean, gaps?: number[]) {
  scores[0].fill(-Infinity);
  if (distilled) for (const row of scores) row[0] = -Infinity;
  const best = rowMax(scores);
  const edge = argsortDesc(best.map((m) => m.max));
  gaps?.push(decisionGap(scores, edge, r));
  const src = edge.slice(0, r);
  return { unm: edge.slice(r).sort((x, y) => x - y), src, dstIdx: src.map((i) => best[i].idx) };
}

/** ToMe's bipartite_soft_matching (tome/merge.py), class token at 0, distillation token at 1 when distilled. */
function tomePlan(metric: Rows, r: number, distilled: boolean, gaps?: number[]): MergePlan {
  const { unm, src, dstIdx } = firstStep(cosineScores(metric), r, distilled, gaps);
  return {
    merge(x) {
      const a = evens(x);
      const dst = cloneRows(odds(x));
      const u = unm.map((i) => a[i]);
      scatterAdd(
        dst,
        dstIdx,
        src.map((i) => a[i]),
      );
      return distilled ? [u[0], dst[0], ...u.slice(1), ...dst.slice(1)] : [...u, ...dst];
    },
  };
}

/**
 * MCTF's bipartite_soft_matching (utils/mctf.py) with bidirection: A into B (r1), then B into the unmerged A
 * (r2), scores of the second step taken from the first, unmerged B kept in descending row-max order.
 * Distilled models (which the MCTF repository does not have) protect the distillation token as ToMe does,
 * and keep it second: levit's extension.
 */
function mctfPlan(metric: Rows, P: number[][][], size: number[] | null, r1: number, r2: number, distilled: boolean, gaps?: number[]): MergePlan {
  const sim = cosineScores(metric).map((row) => row.map((c) => (c + 1) / 2)); // tau_sim = 1
  const n = metric.length;
  const m = new Array<number>(n).fill(0);
  for (const ph of P) for (const row of ph) row.forEach((p, j) => (m[j] += p));
  const meanAttn = m.map((v) => v / (P.length * n));
  const relative = (v: number[]) => {
    const inv = v.map((x) => 1 / x);
    const max = Math.max(...inv);
    return inv.map((x) => x / max);
  };
  const info = relative(meanAttn);
  const sz = size ? relative(size) : null;
  const scores = sim.map((row, i) =>
    row.map((s, j) => {
      const wInfo = (info[2 * i] * info[2 * j + 1]) ** (1 / 20);
      const wSize = sz ? (sz[2 * i] * sz[2 * j + 1]) ** (1 / 40) : 1;
      return s * wInfo * wSize;
    }),
  );
  const { unm, src, dstIdx } = firstStep(scores, r1, distilled, gaps);
  // B -> A on the same scores, restricted to the unmerged A rows, transposed.
  const t2 = scores[0].length;
  const scores2 = Array.from({ length: t2 }, (_, j) => unm.map((i) => scores[i][j]));
  if (distilled) scores2[0].fill(-Infinity);
  const best2 = rowMax(scores2);
  const edge2 = argsortDesc(best2.map((b) => b.max));
  if (r2 > 0) gaps?.push(decisionGap(scores2, edge2, r2));
  const unm2 = edge2.slice(r2);
  const src2 = edge2.slice(0, r2);
  const dstIdx2 = src2.map((j) => best2[j].idx);
  return {
    merge(x) {
      const a = evens(x);
      const dst = cloneRows(odds(x));
      const u = cloneRows(unm.map((i) => a[i]));
      scatterAdd(
        dst,
        dstIdx,
        src.map((i) => a[i]),
      );
      scatterAdd(
        u,
        dstIdx2,
        src2.map((j) => dst[j]),
      );
      const rest = unm2.map((j) => dst[j]);
      if (!distilled) return [...u, ...rest];
      // The distillation token (B's first) has no merge partner: its row max is -inf, so it is last in `rest`.
      return [u[0], rest[rest.length - 1], ...u.slice(1), ...rest.slice(0, -1)];
    },
  };
}

const column = (v: number[]) => v.map((x) => Float64Array.of(x));
const flat = (x: Rows) => x.map((r) => r[0]);

/** Which token holds each input token: a one-hot row per token over the inputs, merged through the plan like any rows. */
function trackSources(plan: MergePlan, owner: number[]): number[] {
  const rows = Array.from({ length: Math.max(...owner) + 1 }, (_, t) => Float64Array.from(owner, (o) => (o === t ? 1 : 0)));
  const merged = plan.merge(rows);
  return owner.map((_, j) => merged.findIndex((row) => row[j] > 0));
}

const transpose = (x: Rows): Rows => Array.from({ length: x[0].length }, (_, c) => Float64Array.from(x, (row) => row[c]));

/** DeiT's forward for one image [3, R, R] with a token fusion setting: logits (distilled: the mean of both heads). */
export function referenceForward(
  w: Weights,
  arch: ReferenceArch,
  image: Float32Array,
  resolution: number,
  setting: ReferenceSetting,
  trace?: ReferenceTrace,
): Vec {
  const { dim: D, heads: H, depth, distilled, eps } = arch;
  const patch = 16;
  const grid = resolution / patch;
  const Wp = w64(w, 'patch_embed.proj.weight');
  const bp = w64(w, 'patch_embed.proj.bias');
  const pos = w64(w, 'pos_embed');
  const prefix = distilled ? 2 : 1;
  let x: Rows = [];
  x.push(w64(w, 'cls_token'));
  if (distilled) x.push(w64(w, 'dist_token'));
  for (let py = 0; py < grid; py++) {
    for (let px = 0; px < grid; px++) {
      const t = new Float64Array(D);
      for (let o = 0; o < D; o++) {
        let acc = bp[o];
        for (let c = 0; c < 3; c++) {
          for (let ky = 0; ky < patch; ky++) {
            for (let kx = 0; kx < patch; kx++) {
              acc += image[(c * resolution + py * patch + ky) * resolution + px * patch + kx] * Wp[((o * 3 + c) * patch + ky) * patch + kx];
            }
          }
        }
        t[o] = acc;
      }
      x.push(t);
    }
  }
  x = x.map((row, i) => row.map((v, c) => v + pos[i * D + c]));
  const inputs = x.length;
  let size: number[] | null = null;
  let owner = Array.from({ length: inputs }, (_, j) => j);
  const mctfLayers = setting.method === 'mctf' ? Array.from({ length: depth - 1 }, (_, i) => i + 1) : setting.method === 'mctf-fast' ? [3, 6, 9] : [];

  for (let blk = 0; blk < depth; blk++) {
    const p = `blocks.${blk}`;
    const g1 = w64(w, `${p}.norm1.weight`);
    const b1 = w64(w, `${p}.norm1.bias`);
    const Wqkv = w64(w, `${p}.attn.qkv.weight`);
    const bqkv = w64(w, `${p}.attn.qkv.bias`);
    const Wo = w64(w, `${p}.attn.proj.weight`);
    const bo = w64(w, `${p}.attn.proj.bias`);
    const mlp = (y: Rows): Rows => {
      const h = linear(
        layerNorm(y, w64(w, `${p}.norm2.weight`), w64(w, `${p}.norm2.bias`), eps),
        w64(w, `${p}.mlp.fc1.weight`),
        w64(w, `${p}.mlp.fc1.bias`),
        D,
      );
      const a = h.map((row) => row.map(gelu));
      return addRows(y, linear(a, w64(w, `${p}.mlp.fc2.weight`), w64(w, `${p}.mlp.fc2.bias`), 4 * D));
    };
    const n = x.length;
    let plan: MergePlan | null = null;

    if (mctfLayers.includes(blk)) {
      // MCTF's r (utils/mctf.py): at least 10 tokens kept, a fraction when r < 1, at most half the unprotected.
      let r = setting.r;
      if (n - r < 10) r = n - 10;
      r = Math.min(r < 1 ? Math.trunc((n - prefix) * r) : r, Math.floor((n - prefix) / 2));
      if (r > 0) {
        const a = layerNorm(x, g1, b1, eps);
        const q = linear(a, Wqkv, bqkv, D, 0, D);
        const k = linear(a, Wqkv, bqkv, D, D, D);
        const P = attentionProbs(q, k, H, size);
        const r1 = Math.floor(r / 2);
        plan = mctfPlan(x, P, size, r1, r - r1, distilled, trace?.gaps);
        // Pooling type 1: weights m * size / max(size), m the attention each token receives (mean over heads and queries).
        const sizes = size ?? new Array<number>(n).fill(1);
        const maxSize = Math.max(...sizes);
        const m = new Array<number>(n).fill(0);
        for (const ph of P) for (const row of ph) row.forEach((pv, j) => (m[j] += pv));
        const weight = m.map((v, j) => (v / (H * n)) * (sizes[j] / maxSize));
        const norm = flat(plan.merge(column(weight)));
        // One-step-ahead attention: keys merged (summed), then queries merged with the weights, divided by their sum.
        const merged = P.map((ph) => {
          const keysMerged = transpose(plan!.merge(transpose(ph.map((row) => Float64Array.from(row)))));
          const rows = plan!.merge(keysMerged.map((row, i) => row.map((v) => v * weight[i])));
          return rows.map((row, i) => Array.from(row, (v) => v / norm[i]));
        });
        const xm = plan.merge(x.map((row, i) => row.map((v) => v * weight[i]))).map((row, i) => row.map((v) => v / norm[i]));
        const newSize = flat(plan.merge(column(sizes)));
        const v = linear(layerNorm(xm, g1, b1, eps), Wqkv, bqkv, D, 2 * D, D);
        x = mlp(addRows(xm, linear(applyAttention(merged, v, H), Wo, bo, D)));
        size = newSize;
      }
    }
    if (!plan) {
      const a = layerNorm(x, g1, b1, eps);
      const q = linear(a, Wqkv, bqkv, D, 0, D);
      const k = linear(a, Wqkv, bqkv, D, D, D);
      const v = linear(a, Wqkv, bqkv, D, 2 * D, D);
      const attended = addRows(x, linear(applyAttention(attentionProbs(q, k, H, size), v, H), Wo, bo, D));
      const r = setting.method === 'tome' ? Math.min(setting.r, Math.floor((n - prefix) / 2)) : 0;
      if (r > 0) {
        // ToMe: metric = keys averaged over heads; size-weighted average of the merged tokens.
        const d = D / H;
        const metric = k.map((row) =>
          Float64Array.from({ length: d }, (_, c) => Array.from({ length: H }, (_, h) => row[h * d + c]).reduce((s, v) => s + v, 0) / H),
        );
        plan = tomePlan(metric, r, distilled, trace?.gaps);
        const sizes = size ?? new Array<number>(n).fill(1);
        const newSize = flat(plan.merge(column(sizes)));
        const xm = plan.merge(attended.map((row, i) => row.map((v) => v * sizes[i]))).map((row, i) => row.map((v) => v / newSize[i]));
        size = newSize;
        x = mlp(xm);
      } else {
        x = mlp(attended);
      }
    }
    if (trace) {
      if (plan) owner = trackSources(plan, owner);
      trace.hidden.push(x);
      trace.sizes.push(size ?? new Array<number>(x.length).fill(1));
      trace.sources.push([...owner]);
    }
  }
  const out = layerNorm(x, w64(w, 'norm.weight'), w64(w, 'norm.bias'), eps);
  const head = linear([out[0]], w64(w, 'head.weight'), w64(w, 'head.bias'), D)[0];
  if (!distilled) return head;
  const dist = linear([out[1]], w64(w, 'head_dist.weight'), w64(w, 'head_dist.bias'), D)[0];
  return head.map((v, i) => (v + dist[i]) / 2);
}
