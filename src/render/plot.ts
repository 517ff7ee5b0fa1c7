import { type Column, columnKey, columnsOf, rowKey } from '../bench/speedups.js';
import type { BenchRecord, BenchResults } from '../bench/results.js';
import { ExitCode, LevitError } from '../core/errors.js';
import { familyOf } from '../models/families.js';

const W = 820;
const H = 500;
const M = { left: 70, right: 190, top: 60, bottom: 60 };

const esc = (s: string) => s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');

/** 1, 2, 5 x 10^k ticks inside [lo, hi]. */
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

const DASHES = ['', '6 4', '2 3', '10 3 2 3'];
const FUSED_DASH = '1 3';

/**
 * Top-1 against images/s on a log axis, one line per family and configuration: the paper's
 * Figure 1, measured here. Plots the given configurations (by default the first measured).
 */
export function renderPlot(results: BenchResults, columns?: Column[]): string {
  const cols = columns ?? columnsOf(results.records).slice(0, 1);
  const keys = cols.map((c) => c.key);
  const points = results.records.filter((r): r is BenchRecord & { published_top1: number } => keys.includes(columnKey(r)) && r.published_top1 !== null);
  if (points.length === 0) throw new LevitError('nothing to plot: no measured model has a published top-1', ExitCode.badInput);

  const xs = points.map((p) => p.images_per_second);
  const ys = points.map((p) => p.published_top1);
  const [x0, x1] = [Math.min(...xs) / 1.4, Math.max(...xs) * 1.4];
  const [y0, y1] = [Math.floor(Math.min(...ys)) - 1, Math.ceil(Math.max(...ys)) + 1];
  const px = (v: number) => M.left + ((Math.log(v) - Math.log(x0)) / (Math.log(x1) - Math.log(x0))) * (W - M.left - M.right);
  const py = (v: number) => H - M.bottom - ((v - y0) / (y1 - y0)) * (H - M.top - M.bottom);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${W}" height="${H}" viewBox="0 0 ${W} ${H}" font-family="Helvetica, Arial, sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${W}" height="${H}" fill="white"/>`);
  const title = keys.length === 1 ? keys[0] : `${keys.length} configurations`;
  out.push(`<text x="${M.left}" y="24" font-size="16" font-weight="bold">ImageNet top-1 vs throughput (${esc(title)})</text>`);
  const synthetic = points.some((p) => p.weights_kind === 'synthetic') ? ', synthetic weights' : '';
  const timed = points.some((p) => p.emulated) ? 'EMULATED images/s (not a speed of this hardware)' : 'measured images/s';
  out.push(`<text x="${M.left}" y="42" fill="#555">${esc(results.system.id)}; published top-1, ${timed}${synthetic}</text>`);
  if (points.some((p) => p.token_fusion)) {
    const note = "hollow: with token fusion, at the plain model's published top-1 (fusion's own accuracy: levit eval --token-fusion)";
    out.push(`<text x="${M.left}" y="${H - 4}" fill="#555" font-size="11">${esc(note)}</text>`);
  }

  for (const t of logTicks(x0, x1)) {
    out.push(`<line x1="${px(t)}" x2="${px(t)}" y1="${M.top}" y2="${H - M.bottom}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${px(t)}" y="${H - M.bottom + 18}" text-anchor="middle">${t}</text>`);
  }
  for (let t = y0; t <= y1; t++) {
    out.push(`<line x1="${M.left}" x2="${W - M.right}" y1="${py(t)}" y2="${py(t)}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${M.left - 8}" y="${py(t) + 4}" text-anchor="end">${t}</text>`);
  }
  out.push(`<rect x="${M.left}" y="${M.top}" width="${W - M.left - M.right}" height="${H - M.top - M.bottom}" fill="none" stroke="#333"/>`);
  out.push(`<text x="${(M.left + W - M.right) / 2}" y="${H - 18}" text-anchor="middle">images per second (log scale)</text>`);
  out.push(`<text transform="translate(20 ${(M.top + H - M.bottom) / 2}) rotate(-90)" text-anchor="middle">top-1 accuracy (%)</text>`);

  // One series per family, configuration and token fusion setting; fused ones dotted, their points hollow.
  const seriesKey = (p: BenchRecord) => `${p.family}\u0000${columnKey(p)}\u0000${p.token_fusion ?? ''}`;
  const series = [...new Set(points.map(seriesKey))].map((s) => s.split('\u0000'));
  series.forEach(([family, key, fusion], i) => {
    const style = familyOf(family) ?? { color: '#7f7f7f', label: family };
    const dash = fusion ? FUSED_DASH : DASHES[keys.indexOf(key) % DASHES.length];
    const marker = (x: number, y: number) =>
      `<circle cx="${x}" cy="${y}" r="4.5" fill="${fusion ? 'white' : style.color}" stroke="${style.color}" stroke-width="${fusion ? 2 : 0}"/>`;
    const mine = points.filter((p) => seriesKey(p) === `${family}\u0000${key}\u0000${fusion}`).sort((a, b) => a.images_per_second - b.images_per_second);
    const path = mine.map((p) => `${px(p.images_per_second).toFixed(1)},${py(p.published_top1).toFixed(1)}`).join(' ');
    out.push(`<polyline points="${path}" fill="none" stroke="${style.color}" stroke-width="2" stroke-dasharray="${dash}"/>`);
    for (const p of mine) {
      out.push(marker(px(p.images_per_second), py(p.published_top1)));
      out.push(`<text x="${px(p.images_per_second) + 7}" y="${py(p.published_top1) - 7}" fill="${style.color}">${esc(rowKey(p))}</text>`);
    }
    const ly = M.top + 16 + i * 22;
    out.push(
      `<line x1="${W - M.right + 20}" x2="${W - M.right + 44}" y1="${ly}" y2="${ly}" stroke="${style.color}" stroke-width="2" stroke-dasharray="${dash}"/>`,
    );
    out.push(marker(W - M.right + 32, ly));
    const label = [style.label, fusion, keys.length > 1 ? key : ''].filter(Boolean).join(' ');
    out.push(`<text x="${W - M.right + 52}" y="${ly + 4}">${esc(label)}</text>`);
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
