import { type SensitivityReport, WORTH_DB } from './sensitivity.js';

const SHOWN = 8;
const db = (v: number) => (v >= 120 ? 'exact' : `${v.toFixed(1)} dB`);

/** The sensitivity report for a terminal: the verdict, the fallback's choice, the costliest layers. */
export function renderSensitivity(r: SensitivityReport): string[] {
  const float = r.layers.filter((l) => l.float);
  const judged = r.heldOut
    ? `on ${r.images} images no step of the conversion saw`
    : `on the images the fallback stopped on (none left unseen: this flatters int8)`;
  const lines = [
    `  logits   SQNR ${db(r.logitsSqnr)} against float32 (target ${r.targetSqnr} dB: ${r.met ? 'met' : 'NOT met'}), ` +
      `top-1 agreement ${(r.top1Agreement * 100).toFixed(1)}% ${judged}`,
    `           (${db(r.calibrationSqnr)} on the ${r.calibrationImages} calibration images, ${db(r.selectionSqnr)} on the ` +
      `${r.selectionImages} selection images that decide the fallback)`,
    ...(!r.met && r.fallbackTried > float.length
      ? [
          `           short of the target: of the ${r.fallbackTried} layers the fallback tried in float32, it kept the ${float.length} that came within ` +
            `${WORTH_DB} dB of the best it reached (the others cost speed for nothing)`,
        ]
      : []),
    `  layers   ${r.layers.length - float.length} of ${r.layers.length} in int8` +
      `${float.length ? `; kept in float32: ${float.map((l) => l.node).join(', ')}` : ''}`,
  ];
  const measured = r.layers.filter((l) => l.alone !== null).sort((a, b) => a.alone! - b.alone!);
  if (measured.length) {
    lines.push(`  most sensitive (logits SQNR with that layer alone in int8; its share of the multiply-adds):`);
    for (const l of measured.slice(0, SHOWN)) {
      const share = `${(l.share * 100).toFixed(1)}%`.padStart(6);
      lines.push(`    ${l.node.padEnd(32)} ${l.op.padEnd(6)} ${db(l.alone!).padStart(9)} ${share}${l.float ? '  -> float32' : ''}`);
    }
  }
  const worst = [...r.layers]
    .filter((l) => !l.float)
    .sort((a, b) => a.sqnr - b.sqnr)
    .slice(0, 3);
  if (worst.length) lines.push(`  lowest output SQNR in the final model: ${worst.map((l) => `${l.node} ${db(l.sqnr)}`).join(', ')}`);
  return lines;
}
