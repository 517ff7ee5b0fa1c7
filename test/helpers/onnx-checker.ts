import { spawnSync } from 'node:child_process';

const SCRIPT = 'import onnx, sys; onnx.checker.check_model(onnx.load(sys.argv[1]), full_check=True); print(onnx.__version__)';

/** A Python that has the onnx package (Debian's python3-onnx installs it for /usr/bin/python3). */
const python = ['/usr/bin/python3', 'python3'].find((py) => spawnSync(py, ['-c', 'import onnx'], { encoding: 'utf8' }).status === 0);

/**
 * Whether the ONNX checker can run. CI sets LEVIT_REQUIRE_ONNX_CHECKER=1 so that a missing
 * checker fails the run instead of skipping the test.
 */
export const checkerSkip: string | false =
  python || process.env.LEVIT_REQUIRE_ONNX_CHECKER === '1' ? false : 'the onnx Python package is not installed (apt-get install python3-onnx)';

export function onnxCheck(file: string): { ok: boolean; output: string } {
  if (!python) return { ok: false, output: 'no Python with the onnx package' };
  const r = spawnSync(python, ['-c', SCRIPT, file], { encoding: 'utf8' });
  return { ok: r.status === 0, output: `${r.stdout}${r.stderr}` };
}
