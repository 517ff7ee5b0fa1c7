/** Seconds between progress lines when stderr is not a terminal: LEVIT_PROGRESS_SECONDS, default 5. */
export function progressInterval(): number {
  const v = Number(process.env.LEVIT_PROGRESS_SECONDS);
  return process.env.LEVIT_PROGRESS_SECONDS && Number.isFinite(v) && v >= 0 ? v : 5;
}

/**
 * A status line on stderr for long work: on a terminal, redrawn in place (at most 10 times a
 * second); elsewhere (a pipe, nohup, CI) printed as a line every few seconds (progressInterval),
 * as timm's --log-freq does, and at once when forced (a new phase).
 */
export class Progress {
  private last = 0;
  private shown = false;
  private printed = '';

  constructor(
    private readonly stream: NodeJS.WritableStream & { columns?: number } = process.stderr,
    private readonly live: boolean = !!process.stderr.isTTY,
    private readonly everyMs: number = progressInterval() * 1000,
  ) {}

  update(text: string, force = false): void {
    const now = Date.now();
    if (!this.live) {
      if (text === this.printed || (!force && this.last && now - this.last < this.everyMs)) return;
      this.last = now;
      this.printed = text;
      this.stream.write(`${text}\n`);
      return;
    }
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
