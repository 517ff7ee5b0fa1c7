import Table from 'cli-table3';

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
 * A cli-table3 table, coloured only on a terminal (and never with NO_COLOR set); columns with a
 * width wrap their text at word boundaries.
 */
export function table(head: string[], colAligns?: ('left' | 'right' | 'center')[], colWidths?: (number | null)[]): Table.Table {
  const plain = !process.stdout.isTTY || !!process.env.NO_COLOR;
  return new Table({
    head,
    ...(colAligns ? { colAligns } : {}),
    ...(colWidths ? { colWidths, wordWrap: true } : {}),
    ...(plain ? { style: { head: [], border: [] } } : {}),
  });
}
