import { type Align, type FitTable, fitTable } from './fit.js';

/** Number formatting shared by the tables. */
export const grouped = (n: number): string => n.toLocaleString('en-US');

export function millions(n: number, digits = 2): string {
  return `${(n / 1e6).toFixed(digits)}M`;
}

export function bytes(n: number): string {
  const units = ['B', 'kB', 'MB', 'GB'];
  let u = 0;
  while (n >= 1000 && u < units.length - 1) {
    n /= 1000;
    u++;
  }
  return `${n.toFixed(u === 0 ? 0 : 1)} ${units[u]}`;
}

/**
 * A table of these columns that fits the terminal (see fit.ts): cells wrap, nothing is left out.
 * Give columns to fitTable directly to let some be left out on narrow terminals.
 */
export function table(head: string[], colAligns?: Align[], maxWidths?: (number | null)[]): FitTable {
  return fitTable(head.map((header, i) => ({ header, align: colAligns?.[i], max: maxWidths?.[i] ?? undefined })));
}
