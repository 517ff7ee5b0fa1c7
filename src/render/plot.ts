import { type Column, columnKey, columnsOf, rowKey } from '../results/keys.js';
import type { BenchRecord, BenchResults } from '../results/types.js';
import { machineId } from '../results/machine-id.js';
import { ExitCode, LevitError } from '../core/errors.js';
import { familyOf } from '../models/families.js';
import { type Box, alongLine, flowRows, placeLabels, textWidth, wrapWords } from './svg-layout.js';

const W = 820;
const PLOT_H = 380;
const M = { left: 70, right: 30 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
const f1 = (v: number) => v.toFixed(1);

/** 1, 2, 3, 5 x 10^k ticks inside [lo, hi]. */
function logTicks(lo: number, hi: number): number[] {
  const ticks: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 3, 5]) {
      const v = m * 10 ** e;
      if (v >= lo && v <= hi) ticks.push(v);
    }
  }
  return ticks;
}

/** Each configuration (a machine in levit report) gets its own marker and dash; each family its colour. */
const DASHES = ['', '6 4', '2 3', '10 3 2 3', '4 2 1 2'];
const MARKERS = ['circle', 'square', 'triangle', 'diamond', 'cross'] as const;
/** Token fusion series: dotted, their markers hollow. */
const FUSED_DASH = '1 3';
const R = 4.5;

function marker(kind: (typeof MARKERS)[number], x: number, y: number, colour: string, hollow = false): string {
  const p = (pts: [number, number][]) => pts.map(([a, b]) => `${f1(x + a)},${f1(y + b)}`).join(' ');
  const paint = hollow ? `fill="white" stroke="${colour}" stroke-width="2"` : `fill="${colour}"`;
  switch (kind) {
    case 'circle':
      return `<circle cx="${f1(x)}" cy="${f1(y)}" r="${R}" ${paint}/>`;
    case 'square':
      return `<rect x="${f1(x - R)}" y="${f1(y - R)}" width="${2 * R}" height="${2 * R}" ${paint}/>`;
    case 'triangle':
      return `<polygon points="${p([
        [0, -R - 1],
        [R + 1, R],
        [-R - 1, R],
      ])}" ${paint}/>`;
    case 'diamond':
      return `<polygon points="${p([
        [0, -R - 1],
        [R + 1, 0],
        [0, R + 1],
        [-R - 1, 0],
      ])}" ${paint}/>`;
    case 'cross':
      return `<path d="M${p([[-R, -R]])}L${p([[R, R]])}M${p([[-R, R]])}L${p([[R, -R]])}" stroke="${colour}" stroke-width="2.5"/>`;
  }
}

type Point = BenchRecord & { published_top1: number };

/**
 * Top-1 against images/s on a log axis, one line per family and configuration: the paper's
 * Figure 1, measured here. Plots the given configurations (by default the first measured);
 * colour tells the family, marker and dash the configuration (or machine, in levit report).
 * The legend sits under the plot, so no label is cut; each model is labelled once, placed
 * where it covers no other label or marker. `machines` replaces the machine line under the
 * title (levit report names every machine there). Models with token fusion are plotted at the
 * plain model's published top-1, dotted and hollow, one series per setting.
 */
export function renderPlot(results: BenchResults, columns?: Column[], machines?: string): string {
  const cols = columns ?? columnsOf(results.records).slice(0, 1);
  const keys = cols.map((c) => c.key);
  const points = results.records.filter((r): r is Point => keys.includes(columnKey(r)) && r.published_top1 !== null);
  if (points.length === 0) throw new LevitError('nothing to plot: no measured model has a published top-1', ExitCode.badInput);

  const synthetic = points.some((p) => p.weights_kind === 'synthetic') ? ', synthetic weights' : '';
  const timed = points.some((p) => p.emulated) ? 'EMULATED images/s (not a speed of this hardware)' : 'measured images/s';
  const fusedNote = points.some((p) => p.token_fusion)
    ? ". Hollow: with token fusion, at the plain model's published top-1 (fusion's own accuracy: levit eval --token-fusion)"
    : '';
  const subtitle = wrapWords(`${machines ?? machineId(results.system)}; published top-1, ${timed}${synthetic}${fusedNote}`, W - M.left - M.right);
  const top = 48 + 16 * subtitle.length;
  const bottom = top + PLOT_H;

  const xs = points.map((p) => p.images_per_second);
  const ys = points.map((p) => p.published_top1);
  const [x0, x1] = [Math.min(...xs) / 1.4, Math.max(...xs) * 1.4];
  const [y0, y1] = [Math.floor(Math.min(...ys)) - 1, Math.ceil(Math.max(...ys)) + 1];
  const px = (v: number) => M.left + ((Math.log(v) - Math.log(x0)) / (Math.log(x1) - Math.log(x0))) * (W - M.left - M.right);
  const py = (v: number) => bottom - ((v - y0) / (y1 - y0)) * PLOT_H;
  const frame: Box = { x: M.left, y: top, w: W - M.left - M.right, h: PLOT_H };

  const families = [...new Set(points.map((p) => p.family))];
  const styleOf = (family: string) => familyOf(family) ?? { color: '#7f7f7f', label: family };
  const configOf = (p: Point) => keys.indexOf(columnKey(p));

  // The legend, under the plot: families by colour, then configurations by marker and dash.
  const legendTop = bottom + 52;
  const fusions = [...new Set(points.map((p) => `${p.family}\u0000${p.token_fusion ?? ''}`))].map((s) => s.split('\u0000')).filter(([, f]) => f);
  const entries = [
    ...families.map((f) => ({ text: styleOf(f).label, colour: styleOf(f).color, config: keys.length > 1 ? -1 : 0, fused: false })),
    ...fusions.map(([f, fusion]) => ({ text: `${styleOf(f).label} ${fusion}`, colour: styleOf(f).color, config: 0, fused: true })),
    ...(keys.length > 1 ? keys.map((k, i) => ({ text: k, colour: '#555', config: i, fused: false })) : []),
  ];
  const flow = flowRows(
    entries.map((e) => 34 + textWidth(e.text)),
    W - M.left - M.right,
  );
  const height = legendTop + 22 * (Math.max(...flow.map((f) => f.row)) + 1) + 8;

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${height}" viewBox="0 0 ${W} ${height}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${height}" fill="white"/>`);
  const title = keys.length === 1 ? keys[0] : `${keys.length} configurations`;
  out.push(`<text x="${M.left}" y="24" font-size="16" font-weight="bold">ImageNet top-1 vs throughput (${esc(title)})</text>`);
  subtitle.forEach((line, i) => out.push(`<text x="${M.left}" y="${42 + 16 * i}" fill="#555">${esc(line)}</text>`));

  for (const t of logTicks(x0, x1)) {
    out.push(`<line x1="${f1(px(t))}" x2="${f1(px(t))}" y1="${top}" y2="${bottom}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${f1(px(t))}" y="${bottom + 18}" text-anchor="middle">${t}</text>`);
  }
  for (let t = y0; t <= y1; t++) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${f1(py(t))}" y2="${f1(py(t))}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 8}" y="${f1(py(t) + 4)}" text-anchor="end">${t}</text>`);
  }
  out.push(`<rect x="${frame.x}" y="${frame.y}" width="${frame.w}" height="${frame.h}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${bottom + 38}" text-anchor="middle">images per second (log scale)</text>`);
  out.push(`<text transform="translate(20 ${top + PLOT_H / 2}) rotate(-90)" text-anchor="middle">top-1 accuracy (%)</text>`);

  // One line per family, configuration and token fusion setting.
  const lines: [number, number][][] = [];
  const series = [...new Set(points.map((p) => `${p.family}\u0000${columnKey(p)}\u0000${p.token_fusion ?? ''}`))].map((s) => s.split('\u0000'));
  for (const [family, key, fusion] of series) {
    const mine = points
      .filter((p) => p.family === family && columnKey(p) === key && (p.token_fusion ?? '') === fusion)
      .sort((a, b) => a.images_per_second - b.images_per_second);
    if (mine.length < 2) continue;
    const xy = mine.map((p): [number, number] => [px(p.images_per_second), py(p.published_top1)]);
    lines.push(xy);
    const path = xy.map(([x, y]) => `${f1(x)},${f1(y)}`).join(' ');
    const dash = fusion ? FUSED_DASH : DASHES[keys.indexOf(key) % DASHES.length];
    out.push(`<polyline points="${path}" fill="none" stroke="${styleOf(family).color}" stroke-width="2" stroke-dasharray="${dash}"/>`);
  }
  for (const p of points) {
    out.push(marker(MARKERS[configOf(p) % MARKERS.length], px(p.images_per_second), py(p.published_top1), styleOf(p.family).color, !!p.token_fusion));
  }

  // One label per model (and fusion setting), at its point in the first configuration that has it.
  const labelled = [...new Map([...points].sort((a, b) => configOf(b) - configOf(a)).map((p) => [rowKey(p), p] as const)).values()];
  const markers = points.map((p): Box => ({ x: px(p.images_per_second) - R - 1, y: py(p.published_top1) - R - 1, w: 2 * R + 2, h: 2 * R + 2 }));
  const spots = placeLabels(
    labelled.map((p) => ({ x: px(p.images_per_second), y: py(p.published_top1), text: rowKey(p) })),
    frame,
    [...markers, ...lines.flatMap((l) => alongLine(l))],
  );
  labelled.forEach((p, i) => {
    const s = spots[i];
    out.push(`<text x="${f1(s.x)}" y="${f1(s.y)}" text-anchor="${s.anchor}" fill="${styleOf(p.family).color}">${esc(rowKey(p))}</text>`);
  });

  entries.forEach((e, i) => {
    const x = M.left + flow[i].x;
    const y = legendTop + 22 * flow[i].row;
    const dash = e.fused ? FUSED_DASH : e.config < 0 ? '' : DASHES[e.config % DASHES.length];
    out.push(`<line x1="${x}" x2="${x + 24}" y1="${y}" y2="${y}" stroke="${e.colour}" stroke-width="2" stroke-dasharray="${dash}"/>`);
    if (e.config >= 0) out.push(marker(MARKERS[e.config % MARKERS.length], x + 12, y, e.colour, e.fused));
    out.push(`<text x="${x + 32}" y="${y + 4}">${esc(e.text)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
