/**
 * Applies stop strings to streamed text on our side, because servers may ignore `stop` (or accept only
 * four): text is passed on as it arrives except a tail that could still become a stop string; once a
 * stop string appears, everything from it on is dropped and the turn is over.
 *
 * With `trim`, leading whitespace is swallowed and trailing whitespace held back until more text
 * follows, so the visible turn is trimmed (base models start after `Name:` and end before a newline).
 */
export class StopCutter {
  private pending = '';
  private started = false;
  private stoppedAt: string | undefined;
  private emitted = '';
  private readonly stops: string[];

  /** `continuing`: the text continues one already begun (a prefill), so its leading whitespace is kept. */
  constructor(stops: readonly string[], private readonly trim = false, continuing = false) {
    this.stops = [...new Set(stops.filter((s) => s.length > 0))];
    this.started = continuing;
  }

  /** The stop string that ended the turn, if one did. */
  get stopped(): string | undefined {
    return this.stoppedAt;
  }

  /** Everything passed on so far. */
  get text(): string {
    return this.emitted;
  }

  /** Feed a chunk; returns the text that is safe to pass on now (may be ''). */
  push(chunk: string): string {
    if (this.stoppedAt !== undefined) return '';
    const buf = this.pending + chunk;
    let cut = -1;
    for (const s of this.stops) {
      const i = buf.indexOf(s);
      if (i >= 0 && (cut < 0 || i < cut)) {
        cut = i;
        this.stoppedAt = s;
      }
    }
    if (cut >= 0) {
      this.pending = '';
      return this.pass(this.tidy(buf.slice(0, cut), true));
    }
    // Hold back what could still become a stop string and, when trimming, trailing blanks; leading
    // blanks stay held too, since they may be the newline a stop string starts with.
    const trailing = this.trim ? buf.length - buf.replace(/\s+$/u, '').length : 0;
    const hold = this.trim && !this.started && buf.trim() === '' ? buf.length : Math.max(this.holdLength(buf), trailing);
    this.pending = buf.slice(buf.length - hold);
    return this.pass(this.tidy(buf.slice(0, buf.length - hold), false));
  }

  /** The stream ended without a stop string: whatever is held back is text (trimmed when trimming). */
  flush(): string {
    if (this.stoppedAt !== undefined) return '';
    const rest = this.pending;
    this.pending = '';
    return this.pass(this.tidy(rest, true));
  }

  private tidy(text: string, end: boolean): string {
    if (!this.trim) return text;
    const t = this.started ? text : text.replace(/^\s+/u, '');
    return end ? t.replace(/\s+$/u, '') : t;
  }

  private pass(text: string): string {
    if (text.length > 0) {
      this.started = true;
      this.emitted += text;
    }
    return text;
  }

  /** Length of the longest suffix of `buf` that is a proper prefix of some stop string. */
  private holdLength(buf: string): number {
    let best = 0;
    for (const s of this.stops) {
      for (let n = Math.min(s.length - 1, buf.length); n > best; n--) {
        if (buf.endsWith(s.slice(0, n))) {
          best = n;
          break;
        }
      }
    }
    return best;
  }
}
