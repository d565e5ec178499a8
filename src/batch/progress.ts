import type { ProgressSnapshot } from './scheduler.js';
import { fitLine } from '../text-width.js';

function duration(sec: number): string {
  if (sec < 60) return `${Math.round(sec)}s`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m${String(Math.round(sec % 60)).padStart(2, '0')}s`;
  return `${Math.floor(sec / 3600)}h${String(Math.floor((sec % 3600) / 60)).padStart(2, '0')}m`;
}

/**
 * How a progress line names what it counts, for lines other than a batch's runs (arena judge's windows).
 * The defaults give the batch line.
 */
export interface ProgressStyle {
  /** Written after the count: `12/40 windows done`. Default: none (`12/40 done`). */
  unit?: string;
  /** What `turnsPerSec` measures, written after it. Default `turns/s`. */
  rate?: string;
  /** Decimals of the cost. Default 2. */
  costDigits?: number;
}

/** `[#####.....] 12/40 done · 4 running · 1 failed · 52.3 turns/s · $1.23 · ETA 4m10s` */
export function formatProgress(s: ProgressSnapshot, width = 20, style: ProgressStyle = {}): string {
  const ended = s.done + s.failed + s.skipped + s.interrupted;
  const filled = s.planned === 0 ? width : Math.min(width, Math.round((ended / s.planned) * width));
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(Math.max(0, width - filled))}]`;
  const parts = [`${bar} ${s.done}/${s.planned}${style.unit ? ` ${style.unit}` : ''} done`, `${s.running} running`, `${s.failed} failed`];
  if (s.skipped > 0) parts.push(`${s.skipped} skipped`);
  if (s.interrupted > 0) parts.push(`${s.interrupted} interrupted`);
  parts.push(
    `${s.turnsPerSec.toFixed(1)} ${style.rate ?? 'turns/s'}`,
    `$${s.costUsd.toFixed(style.costDigits ?? 2)}`,
    `ETA ${s.etaSec === undefined ? '?' : duration(s.etaSec)}`,
  );
  return parts.join(' · ');
}

/**
 * Shows progress on a stream: one line rewritten in place on a terminal, else a plain line at most
 * every `intervalMs` (log files and CI stay readable).
 */
export class ProgressLine {
  private lastPlain = 0;
  private last: ProgressSnapshot | undefined;

  constructor(
    private readonly out: NodeJS.WritableStream,
    private readonly tty: boolean,
    private readonly intervalMs = 10_000,
    private readonly now: () => number = () => Date.now(),
    private readonly style: ProgressStyle = {},
  ) {}

  update(s: ProgressSnapshot): void {
    this.last = s;
    if (this.tty) {
      this.out.write(`\r\x1b[2K${fitLine(formatProgress(s, 20, this.style), this.out)}`);
      return;
    }
    const t = this.now();
    if (t - this.lastPlain >= this.intervalMs) {
      this.lastPlain = t;
      this.out.write(`${formatProgress(s, 20, this.style)}\n`);
    }
  }

  /** Print the final state on its own line. */
  end(): void {
    if (!this.last) return;
    // The last state in full: it ends its line, so wrapping leaves nothing behind.
    const line = formatProgress(this.last, 20, this.style);
    this.out.write(this.tty ? `\r\x1b[2K${line}\n` : `${line}\n`);
  }
}
