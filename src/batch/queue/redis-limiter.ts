import { createHash, randomUUID } from 'node:crypto';
import type { Redis } from 'ioredis';
import { z } from 'zod';
import { AbortedError } from '../../errors.js';
import { LimiterRegistry, tighter, type RateLimiter, type RateLimits, type TokenTicket } from '../../agents/limiter.js';

/** How the limiters of the workers of a queue share one account's limits through Redis. */
export interface RedisLimiterOptions {
  /**
   * A concurrency slot is a lease that its holder renews while it streams: the slots of a worker that was
   * killed (SIGKILL, a lost machine) come back after about this long. Default 30 s.
   */
  leaseMs?: number;
  /** The window of `requestsPerMinute` and `tokensPerMinute`; 60 s (shorter only in tests). */
  windowMs?: number;
  /** Longest pause between two tries while every slot is taken (a release in this process wakes at once). */
  pollMs?: number;
}

/** A Lua script, run by its hash once Redis knows it. */
class Script {
  private readonly sha: string;

  constructor(private readonly lua: string) {
    this.sha = createHash('sha1').update(lua).digest('hex');
  }

  async run(redis: Redis, keys: string[], args: (string | number)[]): Promise<unknown> {
    try {
      return await redis.evalsha(this.sha, keys.length, ...keys, ...args);
    } catch (err) {
      if (!(err instanceof Error) || !err.message.startsWith('NOSCRIPT')) throw err;
      return redis.eval(this.lua, keys.length, ...keys, ...args);
    }
  }
}

// The server's clock, so that workers on machines whose clocks differ share one time line.
const NOW = `local t = redis.call('TIME')
local now = tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
`;

/** Keep the leases' key alive until its last lease ends. */
const EXPIRE_SLOTS = `local last = redis.call('ZRANGE', KEYS[1], -1, -1, 'WITHSCORES')
if last[2] then redis.call('PEXPIREAT', KEYS[1], math.floor(tonumber(last[2])) + 1000) end
`;

/**
 * KEYS[1]: the leases (member: lease id, score: when it lapses). ARGV: the limit, the lease id, the lease.
 * Returns {1, 0} with the slot taken, or {0, ms until the first lease lapses}.
 */
const ACQUIRE_SLOT = new Script(`${NOW}
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now)
if redis.call('ZCARD', KEYS[1]) < tonumber(ARGV[1]) then
  redis.call('ZADD', KEYS[1], now + tonumber(ARGV[3]), ARGV[2])
  ${EXPIRE_SLOTS}
  return {1, 0}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, math.max(1, math.floor(tonumber(first[2]) - now))}
`);

/**
 * Renew a lease (re-taken if it had lapsed: its holder is still streaming, so it counts). Returns 1 when
 * it had lapsed.
 */
const RENEW_SLOT = new Script(`${NOW}
local lapsed = redis.call('ZADD', KEYS[1], now + tonumber(ARGV[2]), ARGV[1])
${EXPIRE_SLOTS}
return lapsed
`);

/**
 * KEYS[1]: when each request of the window started (member: request id); KEYS[2]: its tokens.
 * ARGV: requests per minute, tokens per minute (0: no limit), the estimate, the request id, the window.
 * Returns {1, 0} with the request counted, or {0, ms until the oldest request leaves the window}.
 */
const ACQUIRE_REQUEST = new Script(`${NOW}
local window = tonumber(ARGV[5])
local cutoff = now - window
local old = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', cutoff)
for i = 1, #old, 1000 do
  redis.call('HDEL', KEYS[2], unpack(old, i, math.min(i + 999, #old)))
end
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', cutoff)
local rpm = tonumber(ARGV[1])
local tpm = tonumber(ARGV[2])
local estimate = tonumber(ARGV[3])
local n = redis.call('ZCARD', KEYS[1])
local used = 0
if tpm > 0 and n > 0 then
  for _, v in ipairs(redis.call('HVALS', KEYS[2])) do used = used + tonumber(v) end
end
-- A request larger than the whole budget still goes through once the window is empty.
local full = (rpm > 0 and n >= rpm) or (tpm > 0 and n > 0 and used + estimate > tpm)
if not full then
  redis.call('ZADD', KEYS[1], now, ARGV[4])
  redis.call('HSET', KEYS[2], ARGV[4], estimate)
  redis.call('PEXPIRE', KEYS[1], window + 1000)
  redis.call('PEXPIRE', KEYS[2], window + 1000)
  return {1, 0}
end
local first = redis.call('ZRANGE', KEYS[1], 0, 0, 'WITHSCORES')
return {0, math.max(1, math.floor(tonumber(first[2]) + window - now))}
`);

/** Replace a request's estimate with its real count, if it is still in the window. */
const SETTLE = new Script(`if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('HSET', KEYS[2], ARGV[1], math.max(0, tonumber(ARGV[2])))
end
return 0
`);

const ReplySchema = z.tuple([z.number(), z.number()]);

/**
 * The Redis keys of one endpoint. The limiter key names the provider, URL and key variable; it is hashed,
 * so that nothing about the account (a URL with a token in it) is stored in Redis. The braces keep a
 * limiter's keys in one Redis Cluster slot, as its scripts need.
 */
export function limiterKeys(key: string): { slots: string; requests: string; tokens: string } {
  const id = createHash('sha256').update(key).digest('hex').slice(0, 32);
  const base = `arena:limit:{${id}}`;
  return { slots: `${base}:slots`, requests: `${base}:requests`, tokens: `${base}:tokens` };
}

/** `promise`, or AbortedError as soon as `signal` aborts; `onLate` gets the value if it comes after that. */
function unlessAborted<T>(promise: Promise<T>, signal: AbortSignal | undefined, onLate: (value: T) => void): Promise<T> {
  if (!signal) return promise;
  if (signal.aborted) {
    void promise.then(onLate, () => undefined);
    return Promise.reject(new AbortedError('aborted'));
  }
  return new Promise<T>((resolve, reject) => {
    let done = false;
    const onAbort = () => {
      done = true;
      reject(new AbortedError('aborted'));
    };
    signal.addEventListener('abort', onAbort, { once: true });
    promise.then(
      (value) => {
        signal.removeEventListener('abort', onAbort);
        if (done) onLate(value);
        else resolve(value);
      },
      (err: unknown) => {
        signal.removeEventListener('abort', onAbort);
        if (!done) reject(err);
      },
    );
  });
}

/**
 * One endpoint's limits, shared by every worker of a queue through Redis: concurrency as leased slots that
 * lapse unless renewed, requests and tokens per minute over one sliding window on the server's clock.
 * Each worker enforces the limits its own scenarios give (the strictest, as in-process).
 */
export class RedisRateLimiter implements RateLimiter {
  private limits: RateLimits;
  private readonly keys: ReturnType<typeof limiterKeys>;
  private readonly leaseMs: number;
  private readonly windowMs: number;
  private readonly pollMs: number;
  /** Waiters of this process, woken when a slot of this process is given back. */
  private readonly wakers = new Set<() => void>();

  constructor(
    private readonly redis: Redis,
    key: string,
    limits: RateLimits,
    options: RedisLimiterOptions = {},
  ) {
    this.limits = { ...limits };
    this.keys = limiterKeys(key);
    this.leaseMs = options.leaseMs ?? 30_000;
    this.windowMs = options.windowMs ?? 60_000;
    this.pollMs = options.pollMs ?? 100;
  }

  tighten(limits: RateLimits): void {
    this.limits = tighter(this.limits, limits);
  }

  get current(): Readonly<RateLimits> {
    return this.limits;
  }

  async acquireSlot(signal?: AbortSignal): Promise<() => void> {
    const max = this.limits.concurrency;
    if (max === undefined) return () => {};
    const lease = randomUUID();
    const giveBack = () => void this.redis.zrem(this.keys.slots, lease).catch(() => undefined);
    for (;;) {
      const reply = await unlessAborted(ACQUIRE_SLOT.run(this.redis, [this.keys.slots], [max, lease, this.leaseMs]), signal, (late) => {
        if (ReplySchema.safeParse(late).data?.[0] === 1) giveBack();
      });
      const [taken, waitMs] = ReplySchema.parse(reply);
      if (taken === 1) break;
      await this.pause(Math.min(this.pollMs, waitMs), signal);
    }
    const renew = setInterval(() => {
      void RENEW_SLOT.run(this.redis, [this.keys.slots], [lease, this.leaseMs]).catch(() => undefined);
    }, Math.max(10, Math.floor(this.leaseMs / 3)));
    renew.unref();
    let released = false;
    return () => {
      if (released) return;
      released = true;
      clearInterval(renew);
      giveBack();
      for (const wake of this.wakers) wake();
    };
  }

  async acquireRequest(estimatedTokens: number, signal?: AbortSignal): Promise<TokenTicket> {
    const rpm = this.limits.requestsPerMinute;
    const tpm = this.limits.tokensPerMinute;
    if (rpm === undefined && tpm === undefined) return { settle: () => {} };
    const id = randomUUID();
    const estimate = Math.max(0, Math.round(estimatedTokens));
    const keys = [this.keys.requests, this.keys.tokens];
    for (;;) {
      // A request counted after its caller gave up stays counted: it is the safe side of the limit.
      const reply = await unlessAborted(ACQUIRE_REQUEST.run(this.redis, keys, [rpm ?? 0, tpm ?? 0, estimate, id, this.windowMs]), signal, () => undefined);
      const [counted, waitMs] = ReplySchema.parse(reply);
      if (counted === 1) break;
      await this.pause(waitMs, signal);
    }
    return {
      settle: (actual) => {
        void SETTLE.run(this.redis, keys, [id, Math.max(0, Math.round(actual))]).catch(() => undefined);
      },
    };
  }

  /** Wait `ms`, less if a slot of this process is given back; AbortedError when `signal` aborts. */
  private pause(ms: number, signal?: AbortSignal): Promise<void> {
    return new Promise<void>((resolve, reject) => {
      if (signal?.aborted) return reject(new AbortedError('aborted'));
      const end = () => {
        clearTimeout(timer);
        this.wakers.delete(wake);
        signal?.removeEventListener('abort', onAbort);
      };
      const wake = () => {
        end();
        resolve();
      };
      const onAbort = () => {
        end();
        reject(new AbortedError('aborted'));
      };
      const timer = setTimeout(wake, ms);
      this.wakers.add(wake);
      signal?.addEventListener('abort', onAbort, { once: true });
    });
  }
}

/** A registry whose limiters are shared through `redis` with every other worker of the queue. */
export function redisLimiterRegistry(redis: Redis, options: RedisLimiterOptions = {}): LimiterRegistry {
  return new LimiterRegistry((key, limits) => new RedisRateLimiter(redis, key, limits, options));
}
