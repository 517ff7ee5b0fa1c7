import assert from 'node:assert/strict';
import { test } from 'node:test';
import { prose } from '../src/cli/prose.js';
import { runCli } from './helpers/shared.js';

test('help text: hard-wrapped paragraphs are joined, list items keep their lines, continuations join their item', () => {
  const text = 'One sentence\nwrapped in the source.\n\nVerdicts:\n  regressed  slower\n  inconclusive  anything\n                else\nAfter the list\nmore.';
  assert.equal(prose(text), 'One sentence wrapped in the source.\n\nVerdicts:\n  regressed  slower\n  inconclusive  anything else\nAfter the list more.');
});

test('--help wraps once: no short stub of a line between two full ones (the mark of a second wrap)', () => {
  for (const command of ['bench', 'compare', 'eval']) {
    const r = runCli([command, '--help'], { COLUMNS: '80' });
    assert.equal(r.status, 0);
    const lines = r.stdout.slice(r.stdout.indexOf('DESCRIPTION'), r.stdout.indexOf('EXAMPLES')).split('\n');
    lines.forEach((line, i) => {
      const stub = line.trim().length > 0 && !line.endsWith(':') && line.length < 40 && lines[i - 1]?.length > 60 && lines[i + 1]?.length > 60;
      assert.ok(!stub, `${command} --help: "${line}" between "${lines[i - 1]}" and "${lines[i + 1]}"`);
    });
  }
});
