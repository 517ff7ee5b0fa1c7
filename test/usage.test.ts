import assert from 'node:assert/strict';
import { existsSync, readFileSync, readdirSync } from 'node:fs';
import { join } from 'node:path';
import { test } from 'node:test';
import { modelList } from '../src/cli/flags.js';
import { selectModels } from '../src/models/select.js';
import { smallImageFolder } from './helpers/images.js';
import { runCli, tempDir } from './helpers/shared.js';

test('--calibration DIR means calibration images in convert, eval and bench alike; bench keeps --calibration-dir as a deprecated name', async (t) => {
  const val = await smallImageFolder(tempDir(t), 1);
  for (const command of [
    ['convert', 'levit_128s'],
    ['eval', 'levit_128s', val],
    ['bench', 'levit_128s'],
  ]) {
    const r = runCli([...command, '--weights', 'synthetic', '--precision', 'fp16', '--calibration', '../calib']);
    assert.equal(r.status, 2, `${command[0]}: ${r.stderr}`);
    assert.match(r.stderr, /calibration images apply to --precision int8, not fp16/, command[0]);
  }
  const old = runCli(['bench', 'levit_128s', '--precision', 'fp16', '--calibration-dir', '../calib']);
  assert.match(old.stderr, /"--calibration-dir" flag has been deprecated. Use[\s›]+"--calibration"/);
  assert.match(old.stderr, /calibration images apply to --precision int8/);
  const missing = runCli(['bench', 'levit_128s', '--precision', 'int8', '--calibration', '../no-such-calib']);
  assert.equal(missing.status, 4, missing.stderr);
  assert.match(missing.stderr, /no-such-calib: no such folder/);
});

test("bench's machine-speed check is --machine-check / --no-machine-check; --no-calibration still turns it off, with a warning", (t) => {
  const quick = ['bench', 'levit_128s', '--threads', '1', '--batch', '1', '--duration', '0', '--warmup', '0', '--min-iterations', '1'];
  const off = runCli([...quick, '--no-machine-check', '--json']);
  assert.equal(off.status, 0, off.stderr);
  assert.equal(JSON.parse(off.stdout).machine_check, null);
  const out = join(tempDir(t), 'r.json');
  const old = runCli([...quick, '--no-calibration', '--out', out]);
  assert.equal(old.status, 0, old.stderr);
  assert.equal(JSON.parse(readFileSync(out, 'utf8')).machine_check, null);
  assert.match(old.stderr, /"no-calibration" flag has been deprecated. Use[\s›]+"no-machine-check"/);
  assert.match(runCli(['bench', '--help']).stdout, /--\[no-\]machine-check/);
});

test("timm's habits get a hint: -b 64 is the batch there; mistyped commands and flags get 'did you mean'", async (t) => {
  const val = await smallImageFolder(tempDir(t), 1);
  const batch = runCli(['eval', 'levit_128s', val, '-b', '64']);
  assert.equal(batch.status, 2);
  assert.match(batch.stderr, /unknown backend 64\nHint: -b is --backend in levit .*the batch size is --batch 64/);
  const typo = runCli(['eval', 'levit_128s', val, '--backend', 'ort-cpuu']);
  assert.match(typo.stderr, /Did you mean ort-cpu\?/);
  const command = runCli(['evl', 'levit_128s', 'val']);
  assert.equal(command.status, 2);
  assert.match(command.stderr, /^Error: unknown command evl: did you mean levit eval levit_128s val\?\nHint: levit --help lists the commands\./);
  const json = runCli(['evl', '--json']);
  assert.equal(json.status, 2);
  assert.deepEqual(Object.keys(JSON.parse(json.stdout).error), ['name', 'message', 'hint', 'exitCode']);
  const flag = runCli(['zoo', '--jsn']);
  assert.equal(flag.status, 2);
  assert.match(flag.stderr, /Nonexistent flag: --jsn\nHint: Did you mean --json\?/);
});

test("a command that takes no arguments, given one, says 'Unexpected argument' as one that takes some does, not 'unknown command'", () => {
  const info = runCli(['info', 'levit_128s', 'extra']);
  assert.equal(info.status, 2);
  assert.match(info.stderr, /^Error: Unexpected argument: extra\nHint: levit info --help/);
  const zoo = runCli(['zoo', 'extra']);
  assert.equal(zoo.status, 2, zoo.stderr);
  assert.match(zoo.stderr, /^Error: Unexpected argument: extra\nHint: levit zoo --help lists the arguments and flags\./);
  assert.doesNotMatch(zoo.stderr, /unknown command|did you mean/);
  const json = runCli(['backends', 'a', 'b', '--json']);
  assert.equal(json.status, 2);
  assert.deepEqual(JSON.parse(json.stdout).error, {
    name: 'LevitError',
    message: 'Unexpected arguments: a, b',
    hint: 'levit backends --help lists the arguments and flags.',
    exitCode: 2,
  });
});

test('help as users ask for it: levit help COMMAND and -h show that help (exit 0); help for a mistyped command gets did you mean', () => {
  for (const argv of [
    ['help', 'predict'],
    ['predict', '-h'],
    ['predict', '--help'],
  ]) {
    const r = runCli(argv);
    assert.equal(r.status, 0, `${argv.join(' ')}: ${r.stderr}`);
    assert.match(r.stdout, /USAGE\n {2}\$ levit predict MODEL INPUTS\.\.\. \[FLAGS\]/, argv.join(' '));
    assert.equal(r.stderr, '', argv.join(' '));
  }
  const root = runCli(['help']);
  assert.equal(root.status, 0);
  assert.match(root.stdout, /COMMANDS/);
  const typo = runCli(['help', 'bnech']);
  assert.equal(typo.status, 2);
  assert.match(typo.stderr, /^Error: unknown command bnech: did you mean levit bench\?/);
});

test('convert --to tfjs with an .onnx name is refused before anything is written: the folder it would make is a slip', (t) => {
  const dir = tempDir(t);
  const out = join(dir, 'levit.onnx');
  const r = runCli(['convert', 'levit_128s', '--weights', 'synthetic', '--to', 'tfjs', '--out', out]);
  assert.equal(r.status, 2);
  assert.match(r.stderr, /--to tfjs writes a folder \(a TensorFlow\.js graph model\), not an \.onnx file/);
  assert.equal(existsSync(out), false);
});

test('a missing or wrong --checkpoint: the same error and exit code in convert, predict, eval and bench, and the JSON error shape', async (t) => {
  const dir = tempDir(t);
  const val = await smallImageFolder(dir, 1);
  const image = join(val, readdirSync(val)[0], 'img0000.JPEG');
  const commands = [
    ['convert', 'levit_128s'],
    ['predict', 'levit_128s', image],
    ['eval', 'levit_128s', val],
    ['bench', 'levit_128s'],
  ];
  const cases: [string, number, RegExp][] = [
    [join(dir, 'nope.pth'), 4, /^Error: cannot read checkpoint .*nope\.pth: no such file\n/],
    [dir, 3, /^Error: checkpoint .* is a directory, not a regular file\nHint: Pass the path of a regular file\.\n$/],
  ];
  for (const [checkpoint, code, message] of cases) {
    for (const command of commands) {
      const r = runCli([...command, '--checkpoint', checkpoint], { LEVIT_CACHE_DIR: dir });
      assert.equal(r.status, code, `${command[0]}: ${r.stderr}`);
      assert.match(r.stderr, message, command[0]);
      const json = runCli([...command, '--checkpoint', checkpoint, '--json'], { LEVIT_CACHE_DIR: dir });
      assert.equal(json.status, code);
      const { error } = JSON.parse(json.stdout);
      assert.equal(error.exitCode, code);
      assert.equal(error.name, 'LevitError');
      assert.doesNotMatch(json.stdout, /errno|syscall/);
    }
  }
});

test('model lists as timm users write them: patterns, families, --all; in order, each once', () => {
  const ids = (names: string[]) => selectModels(names).map((c) => c.id);
  assert.deepEqual(ids(['levit*']).sort(), ['levit_128', 'levit_128s', 'levit_192', 'levit_256', 'levit_384']);
  assert.deepEqual(ids(['efficientnet_b[0-1]', 'LeViT-128S', 'levit_128s']), ['efficientnet_b0', 'efficientnet_b1', 'levit_128s']);
  assert.deepEqual(ids(['deit']), ids(['deit_*']), 'a family is all its models');
  assert.deepEqual(ids(['EfficientNet']), ids(['efficientnet*']));
  assert.deepEqual(ids(['timm/levit_19*']), ['levit_192']);
  assert.throws(() => selectModels(['lvit*']), /no model matches lvit\*: did you mean levit\?/);
  assert.equal(modelList([], true)!.length, 18, '--all: every model of the zoo');
  assert.equal(modelList([]), undefined, "neither: the command's default");

  const offline = runCli(['download', 'levit*', '--offline']);
  assert.equal(offline.status, 5);
  for (const id of ids(['levit*'])) assert.match(offline.stderr, new RegExp(`failed: ${id}: `));
  const family = runCli(['bench', 'lvit*']);
  assert.equal(family.status, 2);
  assert.match(family.stderr, /no model matches lvit\*: did you mean levit\?/);
  const both = runCli(['bench', 'levit_128s', '--all']);
  assert.equal(both.status, 2);
  assert.match(both.stderr, /name models or pass --all, not both/);
});

test("--threads means the same in every command: a count or 'all' (0, eval's and predict's older spelling, reads as all)", async (t) => {
  const root = await smallImageFolder(tempDir(t), 1);
  const image = join(
    root,
    readdirSync(root, { recursive: true, encoding: 'utf8' }).find((f) => f.endsWith('.JPEG'))!,
  );
  for (const threads of ['all', '0', '1']) {
    const r = runCli(['predict', 'levit_128s', image, '--weights', 'synthetic', '--threads', threads, '--json']);
    assert.equal(r.status, 0, `--threads ${threads}: ${r.stderr}`);
  }
  for (const command of [
    ['predict', 'levit_128s', image],
    ['eval', 'levit_128s', image],
    ['bench', 'levit_128s'],
    ['compare', 'levit_128s', 'levit_128s'],
  ]) {
    const r = runCli([...command, '--threads', 'many']);
    assert.equal(r.status, 2, `${command[0]}: ${r.stderr}`);
    assert.match(r.stderr, /^Error: --threads: cannot use 'many': it takes a whole number from 1, or 'all'\nHint: levit \w+ --help/, command[0]);
  }
  assert.match(runCli(['eval', '--help']).stdout, /--threads=N\|all\s+\[default: all\]/);
  // Every value error says what the flag takes.
  assert.match(runCli(['convert', 'levit_128s', '--precision', 'int4']).stderr, /--precision: cannot use 'int4': it takes fp32, fp16, int8/);
  assert.match(runCli(['bench', '--batch', '0']).stderr, /--batch: cannot use '0': it takes a whole number from 1/);
  assert.match(runCli(['bench-decode', '.', '--workers', '1,zero']).stderr, /--workers: cannot use 'zero': it takes a whole number from 1/);
});

test("a flag's own parser's error reads like every other usage error: the flag, the value, what it takes; no parser wrapping", () => {
  const crop = runCli(['eval', 'levit_128s', '.', '--crop-pct', 'abc']);
  assert.equal(crop.status, 2);
  assert.equal(crop.stderr.split('\n')[0], "Error: --crop-pct: 'abc' is not a number above 0 and at most 1");
  assert.match(runCli(['eval', 'levit_128s', '.', '--crop-pct', '1.5']).stderr, /'1.5' is not a number above 0 and at most 1/);
  const alpha = runCli(['compare', 'a.json', 'b.json', '--alpha', '2', '--json']);
  assert.equal(alpha.status, 2);
  assert.equal(JSON.parse(alpha.stdout).error.message, "--alpha: '2' is not a number above 0 and at most 0.5");
  assert.doesNotMatch(alpha.stdout + alpha.stderr, /Parsing --|See more help/);
});
