import type { ProgressSnapshot } from './scheduler.js';
import { fitLine } from '../text-width.js';

function duration(sec: number): string {
  if (sec < 60) return `${Math.round(sec)}s`;
  if (sec < 3600) return `${Math.floor(sec / 60)}m${String(Math.round(sec % 60)).padStart(2, '0')}s`;
  return `${Math.floor(sec / 3600)}h${String(Math.floor((sec % 3600) / 60)).padStart(2, '0')}m`;
}

/** `[#####.....] 12/40 done · 4 running · 1 failed · 52.3 turns/s · $1.23 · ETA 4m10s` */
export function formatProgress(s: ProgressSnapshot, width = 20): string {
  const ended = s.done + s.failed + s.skipped + s.interrupted;
  const filled = s.planned === 0 ? width : Math.round((ended / s.planned) * width);
  const bar = `[${'#'.repeat(filled)}${'.'.repeat(Math.max(0, width - filled))}]`;
  const parts = [`${bar} ${s.done}/${s.planned} done`, `${s.running} running`, `${s.failed} failed`];
  if (s.skipped > 0) parts.push(`${s.skipped} skipped`);
  if (s.interrupted > 0) parts.push(`${s.interrupted} interrupted`);
  parts.push(`${s.turnsPerSec.toFixed(1)} turns/s`, `$${s.costUsd.toFixed(2)}`, `ETA ${s.etaSec === undefined ? '?' : duration(s.etaSec)}`);
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
  ) {}

  update(s: ProgressSnapshot): void {
    this.last = s;
    if (this.tty) {
      this.out.write(`\r\x1b[2K${fitLine(formatProgress(s), this.out)}`);
      return;
    }
    const t = this.now();
    if (t - this.lastPlain >= this.intervalMs) {
      this.lastPlain = t;
      this.out.write(`${formatProgress(s)}\n`);
    }
  }

  /** Print the final state on its own line. */
  end(): void {
    if (!this.last) return;
    // The last state in full: it ends its line, so wrapping leaves nothing behind.
    this.out.write(this.tty ? `\r\x1b[2K${formatProgress(this.last)}\n` : `${formatProgress(this.last)}\n`);
  }
}
