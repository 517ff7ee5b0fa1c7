import type { ArtifactDescription } from '../classifier/int8-form.js';
import { labelled } from './fit.js';
import { grouped } from './format.js';

const shape = (s: readonly (number | string | null)[]) => `[${s.map((d) => d ?? '?').join(', ')}]`;

/** `levit info FILE.onnx`: what the file says it is, its int8 form and accuracy, and whether this CPU runs it exactly. */
export function renderArtifact(a: ArtifactDescription): string {
  const m = a.metadata;
  const head = m.model ? `${a.file}: ${m.model}, ${m.precision ?? 'fp32'}` : `${a.file}: not written by levit convert (no model or precision in its metadata)`;
  const lines: [string, string][] = [];
  if (m.weights_label) lines.push(['weights', m.weights_label]);
  if (m.token_fusion) lines.push(['token fusion', m.token_fusion]);
  if (a.int8) {
    const [target, ...why] = (m.int8_target ?? '').split(': ');
    lines.push(['int8 form', a.int8.target ? `${target}: ${why.join(': ')}` : 'not stated (not written by levit convert)']);
    lines.push([
      'int8 weights',
      a.int8.fullRange
        ? 'full range (8-bit): exact only where int8 products are summed in 32 bits (VNNI, ARM)'
        : 'pair-limited or 7-bit: no int16 pair sum can saturate, exact on every CPU',
    ]);
    lines.push([
      'on this CPU',
      a.int8.runs_here
        ? 'exact: runs as made'
        : 'its products saturate here (AVX2 without VNNI): predict, eval, bench and compare refuse it (exit 5) unless --allow-int8-saturation',
    ]);
    const acc = a.int8.accuracy;
    if (acc) {
      const judged = acc.held_out ? `${acc.images} held-out images (calibrated on ${acc.calibration_images})` : `its ${acc.images} calibration images`;
      lines.push([
        'int8 accuracy',
        `logits SQNR ${acc.logits_sqnr_db} dB against float32, top-1 agreement ${(acc.top1_agreement * 100).toFixed(1)}% on ${judged}; ` +
          `${acc.float_layers} of ${acc.layers} layers kept in float32 (when it was made, on the machine that made it)`,
      ]);
    }
    if (m.calibration_sha256) lines.push(['calibration', `images sha256 ${m.calibration_sha256}`]);
    if (m.validation_sha256) lines.push(['validation', `images sha256 ${m.validation_sha256}`]);
  }
  lines.push(['parameters', grouped(a.parameters)]);
  lines.push(['input', m.input ?? a.inputs.map(shape).join(', ')], ['output', m.output ?? a.outputs.map(shape).join(', ')]);
  lines.push(['size', `${(a.bytes / 2 ** 20).toFixed(1)} MiB`]);
  return `${head}\n${labelled(lines)}`;
}
