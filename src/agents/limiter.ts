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
 * Concurrency, requests-per-minute and tokens-per-minute limits of one endpoint + key: every agent and
 * run using that endpoint shares one. In-process here (`LocalRateLimiter`); the workers of a queued batch
 * share theirs through Redis (src/batch/queue/redis-limiter.ts).
 */
export interface RateLimiter {
  /** Tighten to the stricter of the current and the given limits (two scenarios, one account). */
  tighten(limits: RateLimits): void;
  readonly current: Readonly<RateLimits>;
  /** Wait for a concurrency slot; call the returned function exactly once to give it back. */
  acquireSlot(signal?: AbortSignal): Promise<() => void>;
  /** Wait until one more request of about `estimatedTokens` fits in the window, then count it. */
  acquireRequest(estimatedTokens: number, signal?: AbortSignal): Promise<TokenTicket>;
}

/** The stricter of two limits (absent: no limit). */
export function tighter(a: RateLimits, b: RateLimits): RateLimits {
  const min = (x?: number, y?: number) => (x === undefined ? y : y === undefined ? x : Math.min(x, y));
  return {
    concurrency: min(a.concurrency, b.concurrency),
    requestsPerMinute: min(a.requestsPerMinute, b.requestsPerMinute),
    tokensPerMinute: min(a.tokensPerMinute, b.tokensPerMinute),
  };
}

/** Limits over a sliding 60-second window, kept in this process. */
export class LocalRateLimiter implements RateLimiter {
  private limits: RateLimits;
  private active = 0;
  private readonly slotWaiters: (() => void)[] = [];
  private readonly requests: { t: number; tokens: number }[] = [];

  constructor(limits: RateLimits, private readonly clock: LimiterClock = realClock) {
    this.limits = { ...limits };
  }

  tighten(limits: RateLimits): void {
    this.limits = tighter(this.limits, limits);
  }

  get current(): Readonly<RateLimits> {
    return this.limits;
  }

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

/** Makes the limiter of one endpoint key (the key names the endpoint and the key's variable, never the key). */
export type LimiterFactory = (key: string, limits: RateLimits) => RateLimiter;

/**
 * Limiters by endpoint key, handed to every run that should share them (a batch passes one). In-process
 * limiters unless given another factory (a queue worker's Redis-backed ones).
 */
export class LimiterRegistry {
  private readonly limiters = new Map<string, RateLimiter>();

  constructor(private readonly create: LimiterFactory = (_key, limits) => new LocalRateLimiter(limits)) {}

  /** The limiter for `key`, created with `limits` or tightened to them. */
  get(key: string, limits: RateLimits): RateLimiter {
    let l = this.limiters.get(key);
    if (!l) {
      l = this.create(key, limits);
      this.limiters.set(key, l);
    } else {
      l.tighten(limits);
    }
    return l;
  }
}
