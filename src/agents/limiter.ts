import { timerSleep, type Sleep } from '../clock.js';

/** Limits of one endpoint (one provider account). Absent fields do not limit. */
export interface RateLimits {
  /** Turns streaming at once. */
  concurrency?: number;
  /** HTTP requests started in any 60-second window, retries included. */
  requestsPerMinute?: number;
  /** Input + output tokens in any 60-second window. */
  tokensPerMinute?: number;
}

export interface LimiterClock {
  now(): number;
  sleep: Sleep;
}

const WINDOW_MS = 60_000;
const realClock: LimiterClock = { now: () => Date.now(), sleep: timerSleep };

/** A token reservation that can be corrected once the real usage is known. */
export interface TokenTicket {
  /** Replace the estimate with the real count. */
  settle(actualTokens: number): void;
}

/**
 * Concurrency, requests-per-minute and tokens-per-minute limits over a sliding 60-second window.
 * One limiter stands for one endpoint + key; every agent and run using that endpoint shares it.
 */
export class RateLimiter {
  private limits: RateLimits;
  private active = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private readonly requests: { t: number; tokens: number }[] = [];

  constructor(limits: RateLimits, private readonly clock: LimiterClock = realClock) {
    this.limits = { ...limits };
  }

  /** Tighten to the stricter of the current and the given limits (two scenarios, one account). */
  tighten(limits: RateLimits): void {
    const min = (a?: number, b?: number) => (a === undefined ? b : b === undefined ? a : Math.min(a, b));
    this.limits = {
      concurrency: min(this.limits.concurrency, limits.concurrency),
      requestsPerMinute: min(this.limits.requestsPerMinute, limits.requestsPerMinute),
      tokensPerMinute: min(this.limits.tokensPerMinute, limits.tokensPerMinute),
    };
  }

  get current(): Readonly<RateLimits> {
    return this.limits;
  }

  /** Wait for a concurrency slot; call the returned function exactly once to give it back. */
  async acquireSlot(signal?: AbortSignal): Promise<() => void> {
    const max = this.limits.concurrency;
    if (max !== undefined) {
      while (this.active >= max) {
        await new Promise<void>((resolve, reject) => {
          const wake = () => {
            signal?.removeEventListener('abort', onAbort);
            resolve();
          };
          const onAbort = () => {
            const i = this.slotWaiters.indexOf(wake);
            if (i >= 0) this.slotWaiters.splice(i, 1);
            reject(signal?.reason ?? new Error('aborted'));
          };
          if (signal?.aborted) return onAbort();
          signal?.addEventListener('abort', onAbort, { once: true });
          this.slotWaiters.push(wake);
        });
      }
    }
    this.active++;
    let released = false;
    return () => {
      if (released) return;
      released = true;
      this.active--;
      this.slotWaiters.shift()?.();
    };
  }

  /** Wait until one more request of about `estimatedTokens` fits in the window, then count it. */
  async acquireRequest(estimatedTokens: number, signal?: AbortSignal): Promise<TokenTicket> {
    for (;;) {
      const now = this.clock.now();
      while (this.requests.length > 0 && this.requests[0]!.t <= now - WINDOW_MS) this.requests.shift();
      const rpm = this.limits.requestsPerMinute;
      const tpm = this.limits.tokensPerMinute;
      const used = this.requests.reduce((s, r) => s + r.tokens, 0);
      const rpmFull = rpm !== undefined && this.requests.length >= rpm;
      // A request larger than the whole budget still goes through once the window is empty.
      const tpmFull = tpm !== undefined && this.requests.length > 0 && used + estimatedTokens > tpm;
      if (!rpmFull && !tpmFull) {
        const entry = { t: now, tokens: estimatedTokens };
        this.requests.push(entry);
        return {
          settle: (actual) => {
            entry.tokens = Math.max(0, actual);
          },
        };
      }
      const oldest = this.requests[0]!.t;
      await this.clock.sleep(Math.max(1, oldest + WINDOW_MS - now), signal);
    }
  }
}

/** Limiters by endpoint key, handed to every run that should share them (a batch passes one). */
export class LimiterRegistry {
  private readonly limiters = new Map<string, RateLimiter>();

  constructor(private readonly clock?: LimiterClock) {}

  /** The limiter for `key`, created with `limits` or tightened to them. */
  get(key: string, limits: RateLimits): RateLimiter {
    let l = this.limiters.get(key);
    if (!l) {
      l = new RateLimiter(limits, this.clock);
      this.limiters.set(key, l);
    } else {
      l.tighten(limits);
    }
    return l;
  }
}
