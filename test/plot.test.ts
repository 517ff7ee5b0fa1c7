import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { type BenchRecord, type BenchResults } from '../src/results/types.js';
import { firstColumnPerMachine, machinesLegend, mergeResults } from '../src/results/merge-machines.js';
import { FAMILIES } from '../src/models/families.js';
import { renderPlot } from '../src/render/plot.js';
import { type Box, textWidth } from '../src/render/svg-layout.js';
import { packageRoot } from '../src/util/paths.js';

const baseline = (): BenchResults => JSON.parse(readFileSync(join(packageRoot, 'results', 'baselines', 'amd-epyc-avx2-x2-x64-linux.json'), 'utf8'));

/** Two machines, the second 30% faster: the report the issue drew with a cut legend and overlapping labels. */
function twoMachines() {
  const a = baseline();
  const b = baseline();
  b.system = { ...b.system, id: 'arm-box' };
  b.records = b.records.map((r) => ({ ...r, images_per_second: r.images_per_second * 1.3 }));
  const report = mergeResults([
    { file: 'a.json', results: a },
    { file: 'b.json', results: b },
  ]);
  return renderPlot(report.merged, firstColumnPerMachine(report), machinesLegend(report));
}

interface Text {
  box: Box;
  text: string;
  fill?: string;
}

function texts(svg: string): Text[] {
  return [...svg.matchAll(/<text x="([\d.]+)" y="([\d.]+)"(?: text-anchor="(\w+)")?(?: fill="([^"]+)")?[^>]*>([^<]*)<\/text>/g)].map((m) => {
    const [x, y, anchor, fill, text] = [Number(m[1]), Number(m[2]), m[3] ?? 'start', m[4], m[5]];
    const w = textWidth(text);
    const left = anchor === 'start' ? x : anchor === 'end' ? x - w : x - w / 2;
    return { box: { x: left, y: y - 10, w, h: 12 }, text, fill };
  });
}

const overlaps = (a: Box, b: Box) => a.x < b.x + b.w && b.x < a.x + a.w && a.y < b.y + b.h && b.y < a.y + a.h;

test('the report plot: every text inside the picture, each machine its own marker and dash, no label over another', () => {
  const svg = twoMachines();
  const [, width, height] = /<svg [^>]*width="(\d+)" height="(\d+)"/.exec(svg)!.map(Number);
  const all = texts(svg);
  for (const t of all) assert.ok(t.box.x >= 0 && t.box.x + t.box.w <= width && t.box.y + t.box.h <= height, `${t.text} is cut off`);
  assert.ok(all.some((t) => t.text === 'm1 ort-cpu 1t b16') && all.some((t) => t.text === 'm2 ort-cpu 1t b16'), 'the legend names both machines');
  // LeViT's points: circles on one machine, squares on the other; the lines dashed differently.
  const red = (tag: string) => (svg.match(new RegExp(`<${tag} [^>]*fill="#d62728"`, 'g')) ?? []).length;
  assert.equal(red('circle'), 3);
  assert.equal(red('rect'), 3);
  const dashes = [...svg.matchAll(/<polyline [^>]*stroke="#d62728"[^>]*stroke-dasharray="([^"]*)"/g)].map((m) => m[1]);
  assert.equal(new Set(dashes).size, 2);
  // One label per model, none over another.
  const labels = all.filter((t) => /^(levit|efficientnet|deit)_/.test(t.text));
  assert.deepEqual(labels.map((l) => l.text).sort(), [...new Set(baseline().records.map((r: BenchRecord) => r.model))].sort());
  for (const [i, a] of labels.entries()) for (const b of labels.slice(i + 1)) assert.ok(!overlaps(a.box, b.box), `${a.text} covers ${b.text}`);
  assert.match(svg, /m1 = AMD EPYC avx2 x2 x64 linux[^<]*; m2 = arm-box/);
});

test('every model family is drawn in a colour of its own', () => {
  const colours = FAMILIES.map((f) => f.color);
  assert.equal(new Set(colours).size, colours.length, colours.join(' '));
});
