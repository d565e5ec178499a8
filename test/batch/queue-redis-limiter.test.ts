import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Redis } from 'ioredis';
import { limiterKeys, RedisRateLimiter, redisLimiterRegistry } from '../../src/batch/queue/redis-limiter.js';
import { skipRedisTests, startRedis } from './_redis.js';

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Whether `p` has settled within `ms`. */
async function settledWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let done = false;
  void p.then(
    () => (done = true),
    () => (done = true),
  );
  await sleep(ms);
  return done;
}

describe.skipIf(skipRedisTests)('rate limits shared through Redis', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const clients: Redis[] = [];
  let n = 0;
  /** A connection of its own, as each worker has; and a fresh endpoint key per test. */
  const connect = () => {
    const c = new Redis(redis.url, { maxRetriesPerRequest: null });
    c.on('error', () => undefined);
    clients.push(c);
    return c;
  };
  const endpoint = () => `openai http://127.0.0.1:${9000 + ++n}/v1 OPENAI_API_KEY`;

  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const c of clients) c.disconnect();
    await redis?.stop();
  });

  it('lets two workers together stream no more than `concurrency` at once; a release lets the next in', async () => {
    const key = endpoint();
    const a = new RedisRateLimiter(connect(), key, { concurrency: 2 }, { pollMs: 20 });
    const b = new RedisRateLimiter(connect(), key, { concurrency: 2 }, { pollMs: 20 });
    const releaseA1 = await a.acquireSlot();
    const releaseB1 = await b.acquireSlot();
    const third = b.acquireSlot();
    expect(await settledWithin(third, 200)).toBe(false);
    releaseA1();
    const releaseB2 = await third;
    expect(await connect().zcard(limiterKeys(key).slots)).toBe(2);
    releaseB1();
    releaseB2();
    await sleep(50);
    expect(await connect().zcard(limiterKeys(key).slots)).toBe(0);
  });

  it('keeps a slot while its holder renews it, and gives back the slot of a holder that stopped', async () => {
    const key = endpoint();
    const holderConn = connect();
    const holder = new RedisRateLimiter(holderConn, key, { concurrency: 1 }, { leaseMs: 300, pollMs: 20 });
    const other = new RedisRateLimiter(connect(), key, { concurrency: 1 }, { leaseMs: 300, pollMs: 20 });
    await holder.acquireSlot();
    // Three leases long: renewed all along, the slot stays taken.
    const ac = new AbortController();
    const waiting = other.acquireSlot(ac.signal);
    expect(await settledWithin(waiting, 900)).toBe(false);
    ac.abort();
    await expect(waiting).rejects.toThrow('aborted');
    // The holder's connection goes (its process was killed): its lease lapses and the slot returns.
    holderConn.disconnect();
    const release = await other.acquireSlot();
    release();
  });

  it('ends a wait at once when its signal aborts, and leaves no slot behind', async () => {
    const key = endpoint();
    const a = new RedisRateLimiter(connect(), key, { concurrency: 1 }, { pollMs: 5_000 });
    const release = await a.acquireSlot();
    const ac = new AbortController();
    const waiting = a.acquireSlot(ac.signal);
    await sleep(50);
    const t0 = Date.now();
    ac.abort();
    await expect(waiting).rejects.toThrow('aborted');
    // Not the 5 s poll: the abort ended the wait.
    expect(Date.now() - t0).toBeLessThan(1_000);
    expect(await connect().zcard(limiterKeys(key).slots)).toBe(1);
    release();
  });

  it('counts the requests of every worker in one window', async () => {
    const key = endpoint();
    const opts = { windowMs: 1_000 };
    const a = new RedisRateLimiter(connect(), key, { requestsPerMinute: 3 }, opts);
    const b = new RedisRateLimiter(connect(), key, { requestsPerMinute: 3 }, opts);
    await a.acquireRequest(10);
    await b.acquireRequest(10);
    await a.acquireRequest(10);
    const t0 = Date.now();
    const fourth = b.acquireRequest(10);
    expect(await settledWithin(fourth, 300)).toBe(false);
    await fourth;
    // It waited for the first request to leave the window.
    expect(Date.now() - t0).toBeGreaterThanOrEqual(500);
  });

  it('counts tokens with the estimate replaced by the real count', async () => {
    const key = endpoint();
    const opts = { windowMs: 1_000 };
    const a = new RedisRateLimiter(connect(), key, { tokensPerMinute: 1000 }, opts);
    const b = new RedisRateLimiter(connect(), key, { tokensPerMinute: 1000 }, opts);
    const ticket = await a.acquireRequest(900);
    ticket.settle(300);
    await sleep(20);
    expect(await settledWithin(b.acquireRequest(600), 100)).toBe(true);
    const over = a.acquireRequest(200);
    expect(await settledWithin(over, 300)).toBe(false);
    await over;
  });

  it('stores the endpoint only as a hash, and keeps the strictest limits per key like the local registry', async () => {
    const key = endpoint();
    const conn = connect();
    const registry = redisLimiterRegistry(conn);
    const l = registry.get(key, { concurrency: 4 });
    expect(registry.get(key, { concurrency: 2, requestsPerMinute: 10 })).toBe(l);
    expect(l.current).toEqual({ concurrency: 2, requestsPerMinute: 10 });
    (await l.acquireSlot())();
    await l.acquireRequest(5);
    const keys = await conn.keys('arena:limit:*');
    expect(keys.length).toBeGreaterThan(0);
    for (const k of keys) expect(k).not.toContain('127.0.0.1');
    expect(keys).toContain(limiterKeys(key).requests);
  });
});
