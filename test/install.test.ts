import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { packageRoot } from '../src/util/paths.js';

const json = (file: string) => JSON.parse(readFileSync(join(packageRoot, file), 'utf8'));

test("every dependency with an install script has a decision in package.json's allowScripts (npm 11's policy)", () => {
  const allow = json('package.json').allowScripts as Record<string, boolean>;
  const lock = json('package-lock.json').packages as Record<string, { hasInstallScript?: boolean }>;
  const withScripts = Object.entries(lock)
    .filter(([path, p]) => path && p.hasInstallScript)
    .map(([path]) => path.replace(/^.*node_modules\//, ''));
  assert.ok(withScripts.length > 0);
  for (const name of withScripts) assert.equal(typeof allow[name], 'boolean', `allowScripts has no decision for ${name}`);
  assert.equal(allow['onnxruntime-node'], false, "onnxruntime-node's script downloads CUDA binaries from NuGet at every install");
});

test('npm reads the project configuration without a warning (no custom .npmrc keys)', () => {
  const r = spawnSync('npm', ['config', 'get', 'fund'], { cwd: packageRoot, encoding: 'utf8', shell: process.platform === 'win32' });
  assert.equal(r.status, 0, r.stderr);
  assert.doesNotMatch(r.stderr, /npm warn/i);
});
