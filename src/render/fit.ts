/**
 * Tables that fit the terminal: one mechanism for every table levit prints.
 *
 *   const t = fitTable(
 *     [
 *       { header: 'model' },                                        // never left out
 *       { header: 'params', align: 'right', drop: 3 },
 *       { header: 'source of top-1', short: 'source', drop: 2, min: 24 },
 *       { header: 'checkpoint', drop: 1 },                          // left out first
 *     ],
 *     { more: 'levit zoo --json has every column' },
 *   );
 *   t.push(['levit_128s', '7.78M', 'LeViT paper, Table 3', 'dl.fbaipublicfiles.com']);
 *   process.stdout.write(`${t.toString()}\n`);       // fits outputWidth()
 *   t.toString(80);                                   // or a given width
 *
 * Column: `header`; `short`, a shorter header used once the table must narrow; `align` (left,
 * right, center); `drop`, a rank: when the table cannot fit otherwise, columns are left out
 * lowest rank first (columns whose cells are all empty before any), and a column without a rank
 * always stays; `min`, the width its cells may wrap to before any column is left out (prose);
 * without it, its cells wrap only once nothing is left to leave out, and then down to their
 * longest word (at most 20 characters; longer words are split over lines); `max`, the widest it
 * may be at any width (its cells wrap there even when piped); `nowrap`, never narrower than its
 * widest cell (model ids).
 *
 * How it fits `width`: natural widths when they fit; else short headers, wrapped headers and
 * cells wrapped down to their `min`, leaving out columns by rank until that fits (taking back any
 * that fit again); then the widest column gives up a character at a time. Cells wrap at word
 * boundaries (cli-table3's wrapping; display width by string-width). What was left out is said in
 * a line under the table, with `more` (where the full text is: --json, --csv, levit info).
 *
 * wrapText(text): prose wrapped to the width (notes under tables).
 * labelled(pairs): label/value lines whose values wrap under themselves (levit info).
 *
 * outputWidth(): the terminal's columns when stdout is a terminal, else $COLUMNS when set, else
 * unlimited: piped output keeps every column and one line per row, for grep and friends.
 * Colour only on a terminal and never with NO_COLOR.
 */
import Table from 'cli-table3';
import stringWidth from 'string-width';

export type Align = 'left' | 'right' | 'center';
export type Cell = string | number | null | undefined;

export interface Column {
  header: string;
  short?: string;
  align?: Align;
  drop?: number;
  min?: number;
  max?: number;
  nowrap?: boolean;
}

export interface FitOptions {
  /** Where the full text is, said when columns are left out ("levit zoo --json has every column"). */
  more?: string;
}

/** The width tables are fitted to: the terminal's, $COLUMNS, or unlimited when piped. */
export function outputWidth(stream: NodeJS.WriteStream = process.stdout): number {
  if (stream.isTTY && stream.columns) return stream.columns;
  const env = Number(process.env.COLUMNS);
  return Number.isInteger(env) && env > 0 ? env : Number.POSITIVE_INFINITY;
}

/** Whether output may be coloured: a terminal, and NO_COLOR unset. */
export const colour = (): boolean => !!process.stdout.isTTY && !process.env.NO_COLOR;

/** Words longer than this may be cut (with …) rather than widen their column. */
const LONGEST_KEPT_WORD = 20;

const lines = (s: string) => s.split('\n');
const widest = (texts: string[]) => Math.max(0, ...texts.flatMap(lines).map((l) => stringWidth(l)));
const longestWord = (texts: string[]) => Math.max(1, ...texts.flatMap((t) => t.split(/\s+/)).map((w) => stringWidth(w)));

/** Words wider than `width` split over lines of that width, so that wrapping keeps all of them (a path, a command). */
function breakLongWords(text: string, width: number): string {
  return text.replace(/(\S+)(\s*)/g, (all, word: string) => {
    if (stringWidth(word) <= width) return all;
    const chars = [...word];
    const parts: string[] = [];
    for (let k = 0; k < chars.length; k += width) parts.push(chars.slice(k, k + width).join(''));
    return `\n${parts.join('\n')}\n`;
  });
}

/** cli-table3's frame: a border before each column and one after the last, one space of padding each side. */
const frame = (columns: number) => 3 * columns + 1;

interface Plan {
  keep: number[];
  widths: number[];
  short: boolean;
}

export class FitTable {
  private readonly rows: string[][] = [];

  constructor(
    readonly columns: readonly Column[],
    private readonly options: FitOptions = {},
  ) {}

  push(...rows: Cell[][]): number {
    for (const r of rows) this.rows.push(this.columns.map((_, i) => (r[i] === null || r[i] === undefined ? '' : String(r[i]))));
    return this.rows.length;
  }

  get length(): number {
    return this.rows.length;
  }

  /** The columns kept and their widths at `width`; short: whether short headers are used. */
  plan(width: number = outputWidth()): Plan {
    const all = this.columns.map((_, i) => i);
    const natural = (i: number, short: boolean) => Math.min(this.columns[i].max ?? Infinity, widest([this.header(i, short), ...this.rows.map((r) => r[i])]));
    const fits = (ws: number[]) => ws.reduce((a, b) => a + b, 0) + frame(ws.length) <= width;
    const full = all.map((i) => natural(i, false));
    if (fits(full)) return { keep: all, widths: full, short: false };

    const minimum = (i: number) => {
      if (this.columns[i].nowrap) return natural(i, true);
      const own = this.columns[i].min ?? Math.min(LONGEST_KEPT_WORD, longestWord([this.header(i, true), ...this.rows.map((r) => r[i])]));
      return Math.min(natural(i, true), own);
    };
    // Before a column is left out, headers wrap, and cells of columns with a `min` down to it.
    const cellFloor = (i: number) =>
      this.columns[i].min !== undefined ? minimum(i) : Math.max(minimum(i), Math.min(natural(i, true), widest(this.rows.map((r) => r[i]))));
    const empty = (i: number) => i > 0 && this.rows.every((r) => r[i] === '');
    const order = all
      .filter((i) => empty(i) || this.columns[i].drop !== undefined)
      .sort((a, b) => Number(empty(b)) - Number(empty(a)) || this.columns[a].drop! - this.columns[b].drop! || b - a);
    let keep = all;
    const gone: number[] = [];
    while (!fits(keep.map(cellFloor)) && order.length) {
      gone.push(order.shift()!);
      keep = keep.filter((i) => i !== gone.at(-1));
    }
    // A column left out early may fit again once a wider one has gone: the later-ranked first.
    for (const i of gone.slice(0, -1).reverse()) {
      const back = [...keep, i].sort((a, b) => a - b);
      if (!empty(i) && fits(back.map(cellFloor))) keep = back;
    }
    const widths = keep.map((i) => natural(i, true));
    // Headers wrap first; then the widest column gives up a character at a time.
    for (const floor of [keep.map(cellFloor), keep.map(minimum)]) {
      while (!fits(widths)) {
        let j = -1;
        for (let k = 0; k < widths.length; k++) if (widths[k] > floor[k] && (j < 0 || widths[k] > widths[j])) j = k;
        if (j < 0) break; // as narrow as it goes: wider than the terminal, but whole
        widths[j]--;
      }
    }
    return { keep, widths, short: true };
  }

  toString(width: number = outputWidth()): string {
    const { keep, widths, short } = this.plan(width);
    const wrap = (short && Number.isFinite(width)) || this.columns.some((c) => c.max !== undefined);
    const t = new Table({
      head: keep.map((i) => this.header(i, short)),
      colAligns: keep.map((i) => this.columns[i].align ?? 'left'),
      ...(wrap ? { colWidths: widths.map((w) => w + 2), wordWrap: true } : {}),
      ...(colour() ? {} : { style: { head: [], border: [] } }),
    });
    for (const r of this.rows) t.push(keep.map((i, k) => (wrap ? breakLongWords(r[i], widths[k]) : r[i])));
    const dropped = this.columns.filter((_, i) => !keep.includes(i)).map((c) => c.header.replace(/\n/g, ' '));
    if (dropped.length === 0) return t.toString();
    const more = this.options.more ? `; ${this.options.more}` : '';
    return `${t.toString()}\n${wrapText(`(${dropped.join(', ')}: left out to fit ${width} columns${more})`, width)}`;
  }

  private header(i: number, short: boolean): string {
    return (short && this.columns[i].short) || this.columns[i].header;
  }
}

export function fitTable(columns: readonly Column[], options?: FitOptions): FitTable {
  return new FitTable(columns, options);
}

/** cli-table3 without a frame: for label/value lists that wrap under their value. */
const NO_FRAME = Object.fromEntries(
  'top top-mid top-left top-right bottom bottom-mid bottom-left bottom-right left left-mid mid mid-mid right right-mid middle'.split(' ').map((c) => [c, '']),
);

/** Rows of text without a frame, each column wrapped to its width (none: unlimited). */
function frameless(rows: string[][], widths: number[] | null): string {
  const t = new Table({
    chars: NO_FRAME,
    style: { 'padding-left': 0, 'padding-right': 0, head: [], border: [] },
    ...(widths ? { colWidths: widths, wordWrap: true } : {}),
  });
  t.push(...rows);
  return t
    .toString()
    .split('\n')
    .map((l) => l.trimEnd())
    .join('\n');
}

/** Prose wrapped to `width` at word boundaries (notes and footers under tables); unlimited leaves it as is. */
export function wrapText(text: string, width: number = outputWidth()): string {
  return Number.isFinite(width) ? frameless([[text]], [Math.max(20, width)]) : text;
}

/**
 * Label/value lines ("  parameters      7,777,058") whose values wrap to `width` under the value,
 * not under the label. Unlimited width leaves each value on its line, and so does a value with a
 * word too long for the width (a URL stays whole, for the terminal to fold).
 */
export function labelled(pairs: [label: string, value: string][], width: number = outputWidth(), labelWidth = 18): string {
  const room = Math.max(20, width - labelWidth);
  return pairs
    .map(([label, value]) => {
      const head = `  ${label}`.padEnd(labelWidth);
      return Number.isFinite(width) && longestWord([value]) <= room ? frameless([[head, value]], [labelWidth, room]) : head + value;
    })
    .join('\n');
}
