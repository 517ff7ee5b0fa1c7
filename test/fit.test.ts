import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { test } from 'node:test';
import { readResults } from '../src/results/read.js';
import { checkClaims, loadClaims } from '../src/claims/speed-claims.js';
import { renderClaims } from '../src/render/claims.js';
import { renderRecordLine, renderTable } from '../src/render/bench.js';
import { fitTable, labelled, wrapText } from '../src/render/fit.js';
import { packageRoot } from '../src/util/paths.js';
import { runCli } from './helpers/shared.js';

const widest = (text: string) => Math.max(...text.split('\n').map((l) => [...l].length));

const zooLike = () => {
  const t = fitTable(
    [
      { header: 'model', nowrap: true },
      { header: 'params', align: 'right' },
      { header: 'source of top-1', short: 'source', drop: 2, min: 24 },
      { header: 'checkpoint', drop: 1 },
      { header: 'empty', drop: 9 },
    ],
    { more: '--json has everything' },
  );
  t.push([
    'deit_small_distilled_patch16_224',
    '22.44M',
    'DeiT paper (Touvron et al., ICML 2021), Table 5, distilled, 300 epochs',
    'dl.fbaipublicfiles.com',
    '',
  ]);
  t.push(['levit_128s', '7.78M', 'LeViT paper (Graham et al., ICCV 2021), Table 3', 'https://dl.fbaipublicfiles.com/LeViT/LeViT-128S-96703c44.pth', null]);
  return t;
};

test('a table fits 80, 100 and 120 columns: empty and low-ranked columns go first, prose wraps, ids stay whole', () => {
  const t = zooLike();
  for (const width of [80, 100, 120]) {
    const text = t.toString(width);
    assert.ok(widest(text) <= width, `${width}: ${widest(text)}\n${text}`);
    assert.match(text, /deit_small_distilled_patch16_224/);
  }
  assert.deepEqual(t.plan(80).keep, [0, 1, 2]);
  assert.match(t.toString(80), /\(checkpoint, empty: left out to fit 80 columns; --json has everything\)/);
  assert.match(t.toString(80), /│ source/, 'the short header once narrowed');
  assert.deepEqual(t.plan(60).keep, [0, 1], 'the prose goes when it cannot keep its minimum');
});

test('with room, or piped (unlimited), a table keeps every column and one line per row', () => {
  const t = zooLike();
  const text = t.toString(Number.POSITIVE_INFINITY);
  assert.deepEqual(t.plan(Number.POSITIVE_INFINITY).keep, [0, 1, 2, 3, 4]);
  assert.match(text, /DeiT paper \(Touvron et al., ICML 2021\), Table 5, distilled, 300 epochs/);
  assert.equal(text.split('\n').length, 2 * 2 + 3, 'header, two rows, frame: no wrapped line');
});

test('words wider than their column are split over lines, not lost', () => {
  const t = fitTable([{ header: 'backend' }, { header: 'reason', min: 20 }]);
  t.push(['ort-cuda', 'run ONNXRUNTIME_NODE_INSTALL=cuda12 node /a/very/long/path/to/onnxruntime-node/script/install.js now']);
  const text = t.toString(40);
  assert.ok(widest(text) <= 40, text);
  const joined = text
    .split('\n')
    .map((l) => l.split('│')[2]?.trim() ?? '')
    .join('');
  assert.match(joined, /\/a\/very\/long\/path\/to\/onnxruntime-node\/script\/install\.js/);
});

test('labelled lines wrap under their value; a URL stays whole; prose wraps to the width', () => {
  const text = labelled(
    [
      ['preprocessing', 'resize short side to 256 (bicubic), centre crop 224, mean [0.485, 0.456, 0.406], std [0.229, 0.224, 0.225]'],
      ['checkpoint', 'https://huggingface.co/timm/efficientnet_b0.ra_in1k/resolve/main/model.safetensors'],
    ],
    80,
  );
  const lines = text.split('\n');
  assert.equal(lines.length, 3);
  assert.match(lines[1], /^ {18}\S/);
  assert.ok(lines[0].length <= 80 && lines[1].length <= 80);
  assert.match(lines[2], /^ {2}checkpoint {6}https:\S+model\.safetensors$/);
  assert.ok(widest(wrapText('word '.repeat(40), 80)) <= 80);
  assert.equal(wrapText('word '.repeat(40).trim(), Number.POSITIVE_INFINITY).split('\n').length, 1);
});

const tables: [string, string[]][] = [
  ['zoo', ['zoo']],
  ['info', ['info', 'efficientnet_b0']],
  ['backends', ['backends']],
  [
    'compare',
    [
      'compare',
      join(packageRoot, 'results', 'baselines', 'amd-epyc-avx2-x2-x64-linux.json'),
      join(packageRoot, 'results', 'baselines', 'amd-epyc-avx2-x2-x64-linux.json'),
    ],
  ],
  [
    'report',
    [
      'report',
      join(packageRoot, 'results', 'baselines', 'amd-epyc-avx2-x2-x64-linux.json'),
      join(packageRoot, 'results', 'baselines', 'amd-epyc-avx2-x2-x64-linux.json'),
    ],
  ],
];
for (const [name, args] of tables) {
  test(`levit ${name} fits 80, 100 and 120 columns ($COLUMNS); piped, it keeps its full width`, () => {
    for (const width of [80, 100, 120]) {
      const r = runCli(args, { COLUMNS: String(width) });
      assert.equal(r.status, 0, r.stderr);
      // info keeps a URL whole, for the terminal to fold
      const lines = r.stdout.split('\n').filter((l) => !/^ {2}checkpoint {6}https:/.test(l));
      assert.ok(widest(lines.join('\n')) <= width, `${name} at ${width}:\n${r.stdout}`);
    }
    const piped = runCli(args, { COLUMNS: '' });
    assert.equal(piped.status, 0, piped.stderr);
    if (name === 'zoo') assert.match(piped.stdout, /│ LeViT paper \(Graham et al., ICCV 2021\), Table 3 +│ dl\.fbaipublicfiles\.com/);
  });
}

const hasScript = spawnSync('script', ['--version']).status === 0;
test('in a real terminal of 80 columns, levit zoo fits it', { skip: !hasScript && 'no script(1) to open a terminal' }, () => {
  const command = `stty cols 80 rows 50; NO_COLOR=1 COLUMNS= ${process.execPath} ${join(packageRoot, 'bin', 'run.js')} zoo`;
  const r = spawnSync('script', ['-qec', command, '/dev/null'], { encoding: 'utf8' });
  assert.equal(r.status, 0, r.stderr);
  const text = r.stdout.replace(/\r/g, '');
  assert.match(text, /left out to fit 80 columns/);
  assert.ok(widest(text) <= 80, text);
});

test("bench's table and the claims table fit 80, 100 and 120 columns", (t) => {
  const saved = process.env.COLUMNS;
  t.after(() => (saved === undefined ? delete process.env.COLUMNS : (process.env.COLUMNS = saved)));
  const results = readResults(join(packageRoot, 'results', 'baselines', 'amd-epyc-avx2-x2-x64-linux.json'));
  const checks = checkClaims(results, loadClaims());
  for (const width of [80, 100, 120]) {
    process.env.COLUMNS = String(width);
    for (const [name, text] of [
      ['bench', renderTable(results)],
      ['claims', renderClaims(checks)],
      ['record line', wrapText(renderRecordLine(results.records[0]))],
    ]) {
      assert.ok(widest(text) <= width, `${name} at ${width}:\n${text}`);
    }
  }
});
