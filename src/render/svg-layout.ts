/**
 * Layout for hand-written SVG: text widths estimated without a font engine, labels placed next
 * to their points without covering each other, and legend entries flowed into rows.
 */

export interface Box {
  x: number;
  y: number;
  w: number;
  h: number;
}

/**
 * Width of `text` at `size` px, from per-character classes: generous for Helvetica and Arial, about
 * right for DejaVu Sans (what librsvg falls back to), so that text measured here is never cut.
 */
export function textWidth(text: string, size = 12): number {
  let em = 0;
  for (const c of text) {
    if ("il.,:;|!'’ ()[]".includes(c)) em += 0.34;
    else if ('fjrt-'.includes(c)) em += 0.44;
    else if ('mwMW'.includes(c)) em += 0.95;
    else if (c >= 'A' && c <= 'Z') em += 0.72;
    else em += 0.63;
  }
  return em * size;
}

/** Small boxes along a polyline, every `step` px: for labels to keep clear of the lines. */
export function alongLine(points: [number, number][], step = 6, half = 2): Box[] {
  const boxes: Box[] = [];
  for (let i = 1; i < points.length; i++) {
    const [ax, ay] = points[i - 1];
    const [bx, by] = points[i];
    const n = Math.max(1, Math.ceil(Math.hypot(bx - ax, by - ay) / step));
    for (let k = 0; k <= n; k++) boxes.push({ x: ax + ((bx - ax) * k) / n - half, y: ay + ((by - ay) * k) / n - half, w: 2 * half, h: 2 * half });
  }
  return boxes;
}

function overlap(a: Box, b: Box): number {
  const w = Math.min(a.x + a.w, b.x + b.w) - Math.max(a.x, b.x);
  const h = Math.min(a.y + a.h, b.y + b.h) - Math.max(a.y, b.y);
  return w > 0 && h > 0 ? w * h : 0;
}

export interface LabelPlacement {
  x: number;
  y: number;
  anchor: 'start' | 'middle' | 'end';
}

/**
 * Places one label per point (x, y: the point's centre) where it covers the fewest other labels
 * and markers and stays inside `frame`: right, left, above or below the point, then further out.
 * Greedy, in the order given; `obstacles` are boxes to keep clear (the markers).
 */
export function placeLabels(points: { x: number; y: number; text: string }[], frame: Box, obstacles: Box[], size = 12): LabelPlacement[] {
  const placed: Box[] = [];
  const h = size;
  return points.map((p) => {
    const w = textWidth(p.text, size);
    const candidates: (LabelPlacement & { box: Box })[] = [];
    for (const gap of [7, 16, 28]) {
      const options: [number, number, LabelPlacement['anchor']][] = [
        [gap, -gap / 2, 'start'],
        [gap, h / 2 + gap / 2, 'start'],
        [-gap, -gap / 2, 'end'],
        [-gap, h / 2 + gap / 2, 'end'],
        [0, -gap, 'middle'],
        [0, h + gap, 'middle'],
      ];
      for (const [dx, dy, anchor] of options) {
        const x = p.x + dx;
        const y = p.y + dy; // the text's baseline
        const left = anchor === 'start' ? x : anchor === 'end' ? x - w : x - w / 2;
        candidates.push({ x, y, anchor, box: { x: left, y: y - h + 2, w, h } });
      }
    }
    const cost = (b: Box) => {
      const outside = b.w * b.h - overlap(b, frame);
      return 10 * outside + placed.reduce((s, o) => s + overlap(b, o), 0) + obstacles.reduce((s, o) => s + overlap(b, o), 0);
    };
    let best = candidates[0];
    let bestCost = cost(best.box);
    for (const c of candidates.slice(1)) {
      const k = cost(c.box);
      if (k < bestCost - 1e-9) [best, bestCost] = [c, k];
      if (bestCost === 0) break;
    }
    placed.push(best.box);
    return { x: best.x, y: best.y, anchor: best.anchor };
  });
}

/** Legend entries (each `width` wide) flowed left to right into rows no wider than `maxWidth`. */
export function flowRows(widths: number[], maxWidth: number, gap = 24): { row: number; x: number }[] {
  let row = 0;
  let x = 0;
  return widths.map((w) => {
    if (x > 0 && x + w > maxWidth) {
      row++;
      x = 0;
    }
    const at = { row, x };
    x += w + gap;
    return at;
  });
}

/** Words of `text` in lines of at most `maxWidth` px. */
export function wrapWords(text: string, maxWidth: number, size = 12): string[] {
  const lines: string[] = [];
  let line = '';
  for (const word of text.split(/\s+/).filter(Boolean)) {
    const next = line ? `${line} ${word}` : word;
    if (line && textWidth(next, size) > maxWidth) {
      lines.push(line);
      line = word;
    } else line = next;
  }
  if (line) lines.push(line);
  return lines;
}
