import { CLAIM_CONFIDENCE, CLAIM_TOLERANCE, type ClaimCheck } from '../claims/speed-claims.js';
import { fitTable, wrapText } from './fit.js';
import { rerunSpread, zOf } from '../stats/rerun-spread.js';

const factor = (x: number) => `${x.toFixed(x < 10 ? 2 : 1)}×`;
const published = (c: ClaimCheck) => (c.published === null ? 'faster (direction)' : factor(c.published));
const measured = (c: ClaimCheck) => (c.measured ? `${factor(c.measured.speedup)} [${factor(c.measured.low)}, ${factor(c.measured.high)}]` : '-');
const claimText = (c: ClaimCheck) => `${c.statement} (${c.model} vs ${c.than})`;

const spreadPercent = (threads: number) => Math.round((Math.exp(zOf(CLAIM_CONFIDENCE) * rerunSpread('speedUp', threads)) - 1) * 100);

const legend = () =>
  [
    `Speed-up: images/s of the first model over the second's, with its ${CLAIM_CONFIDENCE * 100}% interval`,
    'from resampling the rounds both ran in (paired, seeded), widened by how far such a ratio moved between runs',
    `on levit's shared VM (±${spreadPercent(1)}% on one thread, ±${spreadPercent(2)}% on more; docs/claims.md), or on this machine where its own`,
    'earlier runs show more: a verdict must hold on a rerun.',
    `holds: the whole interval at or above the published factor less ${CLAIM_TOLERANCE * 100}%; does not hold: wholly below it;`,
    'inconclusive: it straddles (or too few rounds); direction-only claims hold above 1×. Claims and sources: zoo/claims/, docs/claims.md.',
  ].join('\n');

/** The claims section of levit bench --claims, for a terminal. */
export function renderClaims(checks: readonly ClaimCheck[]): string {
  // On a narrow terminal the claim's device goes first, then the notes; the verdict and its figures stay.
  const t = fitTable(
    [
      { header: 'claim', min: 24, max: 34 },
      { header: 'device (claim)', short: 'device', min: 14, max: 22, drop: 1 },
      { header: 'measured on', short: 'on', min: 8, max: 16 },
      { header: 'published', short: 'claim', align: 'right' },
      { header: 'measured [95%]', short: 'measured', align: 'right', min: 12 },
      { header: 'verdict', min: 8, max: 15 },
      { header: 'notes', min: 20, max: 44, drop: 2 },
    ],
    { more: '--json and --markdown have every column' },
  );
  for (const c of checks) t.push([claimText(c), c.device, c.column ?? '-', published(c), measured(c), c.verdict, c.notes.join('; ')]);
  return `${t.toString()}\n${wrapText(legend())}`;
}

export function renderClaimsMarkdown(checks: readonly ClaimCheck[]): string {
  const cell = (s: string) => s.replace(/\|/g, '\\|');
  const lines = [
    '| claim | device (claim) | measured on | published | measured [95%] | verdict | notes |',
    '| --- | --- | --- | ---: | ---: | --- | --- |',
    ...checks.map((c) => {
      const cells = [claimText(c), c.device, c.column ?? '-', published(c), measured(c), `**${c.verdict}**`, c.notes.join('; ')];
      return `| ${cells.map(cell).join(' | ')} |`;
    }),
  ];
  return `${lines.join('\n')}\n\n${legend().split('\n').join('  \n')}\n`;
}
