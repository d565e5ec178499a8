import { describe, expect, it } from 'vitest';
import { LimiterRegistry, LocalRateLimiter, type LimiterClock } from '../../src/agents/limiter.js';

/** A clock whose sleeps advance time instantly, recording how long each wait was. */
function fakeClock(): LimiterClock & { waits: number[] } {
  let t = 0;
  const waits: number[] = [];
  return {
    waits,
    now: () => t,
    sleep: async (ms) => {
      waits.push(ms);
      t += ms;
    },
  };
}

describe('LocalRateLimiter', () => {
  it('holds the n+1-th request of a minute until the first leaves the window', async () => {
    const clock = fakeClock();
    const l = new LocalRateLimiter({ requestsPerMinute: 2 }, clock);
    await l.acquireRequest(10);
    await l.acquireRequest(10);
    expect(clock.waits).toEqual([]);
    await l.acquireRequest(10);
    expect(clock.waits).toEqual([60_000]);
  });

  it('counts tokens per minute with the estimate corrected by the real usage', async () => {
    const clock = fakeClock();
    const l = new LocalRateLimiter({ tokensPerMinute: 1000 }, clock);
    const t = await l.acquireRequest(900);
    t.settle(300); // the request turned out smaller
    await l.acquireRequest(600);
    expect(clock.waits).toEqual([]);
    await l.acquireRequest(200);
    expect(clock.waits).toEqual([60_000]);
  });

  it('lets at most `concurrency` turns stream at once, in arrival order', async () => {
    const l = new LocalRateLimiter({ concurrency: 1 });
    const order: string[] = [];
    const releaseA = await l.acquireSlot();
    const b = l.acquireSlot().then((release) => {
      order.push('b');
      return release;
    });
    await Promise.resolve();
    expect(order).toEqual([]);
    order.push('a done');
    releaseA();
    (await b)();
    expect(order).toEqual(['a done', 'b']);
  });

  it('gives up waiting for a slot when the turn is aborted', async () => {
    const l = new LocalRateLimiter({ concurrency: 1 });
    await l.acquireSlot();
    const ac = new AbortController();
    const waiting = l.acquireSlot(ac.signal);
    ac.abort(new Error('stopped'));
    await expect(waiting).rejects.toThrow('stopped');
  });

  it('shares one limiter per key and keeps the strictest limits', () => {
    const r = new LimiterRegistry();
    const a = r.get('anthropic x KEY', { requestsPerMinute: 50 });
    const b = r.get('anthropic x KEY', { requestsPerMinute: 20, concurrency: 4 });
    expect(a).toBe(b);
    expect(a.current).toEqual({ requestsPerMinute: 20, concurrency: 4 });
    expect(r.get('openai y KEY', {})).not.toBe(a);
  });
});
