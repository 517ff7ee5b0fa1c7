#!/usr/bin/env node
// Joins results files of one machine into one (scripts/gpu-run.sh runs levit bench once per model):
//   node scripts/join-results.mjs OUT.json IN.json...
import { concatResults } from '../dist/src/results/join-runs.js';
import { readResults } from '../dist/src/results/read.js';
import { writeFileAtomic } from '../dist/src/util/atomic.js';
import { LevitError } from '../dist/src/core/errors.js';

const [out, ...inputs] = process.argv.slice(2);
try {
  if (!out || inputs.length === 0) throw new LevitError('usage: node scripts/join-results.mjs OUT.json IN.json...', 2);
  const joined = concatResults(inputs.map((file) => ({ file, results: readResults(file) })));
  writeFileAtomic(out, `${JSON.stringify(joined, null, 1)}\n`);
  console.log(`${out}: ${joined.records.length} records from ${inputs.length} files`);
} catch (e) {
  if (!(e instanceof LevitError)) throw e;
  console.error(`error: ${e.message}${e.hint ? `\n${e.hint}` : ''}`);
  process.exit(e.exitCode);
}
