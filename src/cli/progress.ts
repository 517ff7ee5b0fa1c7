/**
 * A status line on stderr for long work: redrawn in place on a terminal (at most 10 times a
 * second), silent elsewhere so that logs and pipes get only the permanent lines.
 */
export class Progress {
  private last = 0;
  private shown = false;

  constructor(
    private readonly stream: NodeJS.WriteStream = process.stderr,
    private readonly live: boolean = !!process.stderr.isTTY,
  ) {}

  update(text: string, force = false): void {
    if (!this.live) return;
    const now = Date.now();
    if (!force && now - this.last < 100) return;
    this.last = now;
    const width = this.stream.columns ?? 120;
    this.stream.write(`\r\x1b[2K${text.slice(0, width - 1)}`);
    this.shown = true;
  }

  /** A permanent line, printed above the status line. */
  log(text: string): void {
    this.clear();
    this.stream.write(`${text}\n`);
  }

  clear(): void {
    if (this.shown) this.stream.write('\r\x1b[2K');
    this.shown = false;
  }
}

export function bar(fraction: number, width = 24): string {
  const f = Math.min(1, Math.max(0, fraction));
  const full = Math.round(f * width);
  return `[${'#'.repeat(full)}${'.'.repeat(width - full)}]`;
}

export function duration(seconds: number): string {
  if (!Number.isFinite(seconds)) return '--:--';
  const s = Math.round(seconds);
  const h = Math.floor(s / 3600);
  const mm = String(Math.floor((s % 3600) / 60)).padStart(2, '0');
  const ss = String(s % 60).padStart(2, '0');
  return h ? `${h}:${mm}:${ss}` : `${mm}:${ss}`;
}

/** A transfer's status line: bar, sizes, speed and time left. */
export function transferLine(label: string, p: { received: number; total: number | null; bytesPerSecond: number }): string {
  const mb = (n: number) => (n / 1e6).toFixed(1);
  const size = p.total ? `${mb(p.received)}/${mb(p.total)} MB` : `${mb(p.received)} MB`;
  const eta = p.total && p.bytesPerSecond > 0 ? duration((p.total - p.received) / p.bytesPerSecond) : '--:--';
  return `${label} ${bar(p.total ? p.received / p.total : 0)} ${size}  ${mb(p.bytesPerSecond)} MB/s  ETA ${eta}`;
}
