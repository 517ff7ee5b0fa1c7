import assert from 'node:assert/strict';
import { readFileSync, readdirSync } from 'node:fs';
import { dirname, join, relative, resolve } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';

/**
 * The house rules of src/, checked on the TypeScript sources: every folder has a floor, and a
 * file imports only from lower floors or its own folder; no import circle between files; only
 * the CLI kit (src/cli/) knows oclif. A new folder must be given a floor here.
 */
const FLOORS: Record<string, number> = {
  core: 0, // Tensor, shared types, errors
  util: 1, // hashing, files, paths, formats with no model knowledge
  checkpoint: 2, // pickle/zip/safetensors readers
  ir: 2, // the graph IR, its passes and the arithmetic the exporters share
  imagenet: 2,
  models: 3, // families: builders, stages, descriptors, cards
  onnx: 4, // exporters
  tfjs: 4,
  download: 5,
  preprocess: 5,
  runtime: 5,
  quant: 5, // int8 and fp16 rewrites of an ONNX graph, calibration and sensitivity (onnxruntime runs them)
  classifier: 6, // a model assembled: weights, graph, artifact, session
  eval: 7, // accuracy on a dataset: the run, its verdicts, the model an eval is paired with
  results: 7, // the results file: its types, reading every schema version, baselines and history, the machine's identity
  stats: 8, // statistics of timings: summaries, intervals paired by round, spreads between runs, speed-ups
  bench: 9, // measuring: configurations, interleaved rounds, the machine check; writes a results file
  claims: 9, // published speed and FLOPs claims, checked against a run and the graphs
  worker: 10, // the bench worker (a checkout timing on request) and its client
  compare: 11, // the regression check: two results files, or two checkouts timed live in one set of rounds
  render: 12, // text tables, Markdown, SVG: beside nothing oclif
  cli: 13, // the oclif kit shared by commands/
  'index.ts': 13, // the package entry (import from 'levit'): over the whole library, beside (not over) the oclif kit
};

const srcDir = resolve(dirname(fileURLToPath(import.meta.url)), '../../src');

function sourceFiles(dir: string): string[] {
  return readdirSync(dir, { withFileTypes: true }).flatMap((e) =>
    e.isDirectory() ? sourceFiles(join(dir, e.name)) : e.name.endsWith('.ts') && !e.name.endsWith('.d.ts') ? [join(dir, e.name)] : [],
  );
}

/** Module specifiers of static imports and re-exports, type-only ones included (they still tie the layers). */
function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\b[^'";]*?from\s+'([^']+)'/gm)) found.push(m[1]);
  for (const m of text.matchAll(/^\s*import\s+'([^']+)'/gm)) found.push(m[1]);
  for (const m of text.matchAll(/\bimport\(\s*'([^']+)'\s*\)/g)) found.push(m[1]);
  return found;
}

const files = sourceFiles(srcDir);
const folderOf = (file: string) => relative(srcDir, file).split('/')[0];
const graph = new Map<string, { local: string[]; packages: string[] }>();
for (const file of files) {
  const specs = specifiers(readFileSync(file, 'utf8'));
  graph.set(file, {
    local: specs.filter((s) => s.startsWith('.')).map((s) => resolve(dirname(file), s).replace(/\.js$/, '.ts')),
    packages: specs.filter((s) => !s.startsWith('.')),
  });
}
const name = (file: string) => relative(srcDir, file);

test('the import parser sees the imports of a known file', () => {
  const known = graph.get(join(srcDir, 'classifier', 'model.ts'));
  assert.ok(known, 'src/classifier/model.ts moved: point this check at another file');
  assert.ok(known.local.includes(join(srcDir, 'ir', 'passes.ts')));
});

test('every folder of src/ has a floor, and every import resolves to a file', () => {
  for (const file of files) {
    assert.ok(folderOf(file) in FLOORS, `${name(file)}: folder '${folderOf(file)}' has no floor in test/layers.test.ts`);
    for (const target of graph.get(file)!.local) assert.ok(graph.has(target), `${name(file)} imports ${name(target)}, which is not a source file`);
  }
});

test('no import runs upward or sideways between folders', () => {
  const wrong: string[] = [];
  for (const file of files) {
    for (const target of graph.get(file)!.local) {
      const [from, to] = [folderOf(file), folderOf(target)];
      if (from === to || FLOORS[to] < FLOORS[from]) continue;
      wrong.push(`${name(file)} (${from}, floor ${FLOORS[from]}) -> ${name(target)} (${to}, floor ${FLOORS[to]})`);
    }
  }
  assert.deepEqual(wrong, []);
});

test('no import circle between files', () => {
  const state = new Map<string, 'open' | 'done'>();
  const circles: string[] = [];
  const visit = (file: string, path: string[]) => {
    state.set(file, 'open');
    for (const target of graph.get(file)?.local ?? []) {
      if (state.get(target) === 'open') circles.push([...path.slice(path.indexOf(target)), target].map(name).join(' -> '));
      else if (!state.has(target)) visit(target, [...path, target]);
    }
    state.set(file, 'done');
  };
  for (const file of files) if (!state.has(file)) visit(file, [file]);
  assert.deepEqual(circles, []);
});

test('only src/cli/ imports oclif', () => {
  const wrong = files.filter((f) => folderOf(f) !== 'cli' && graph.get(f)!.packages.some((p) => p.startsWith('@oclif/'))).map(name);
  assert.deepEqual(wrong, []);
});
