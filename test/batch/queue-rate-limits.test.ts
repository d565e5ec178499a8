import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChildProcess } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { Redis } from 'ioredis';
import { limiterKey, resolveEndpoint } from '../../src/agents/remote/endpoint.js';
import { limiterKeys } from '../../src/batch/queue/redis-limiter.js';
import { lastJsonLine, spawnCli } from '../helpers/cli.js';
import { skipRedisTests, startRedis } from './_redis.js';
import { writeBatchFixture } from './_fixtures.js';
import { startOpenAIServer } from './_openai-server.js';

const ENV = { OPENAI_API_KEY: 'sk-test-not-a-key' };

async function until<T>(probe: () => T | undefined | Promise<T | undefined>, timeoutMs: number, what: string): Promise<T> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const v = await probe();
    if (v !== undefined) return v;
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/** A plan of `runs` 4-turn runs of the fake model on `baseURL`, each turn one request. */
function planFor(baseURL: string, rateLimit: string, runs: number) {
  const f = writeBatchFixture(`scenarios: [chat.yaml]
models:
  - { id: fake, backend: openai, model: fake-model, baseURL: "${baseURL}", rateLimit: ${rateLimit} }
repetitions: ${runs}
concurrency: ${runs}
`);
  writeFileSync(join(f.dir, 'chat.yaml'), readFileSync(join(f.dir, 'chat.yaml'), 'utf8') + 'prices: { fake-model: { input: 1, output: 2 } }\n');
  return f;
}

describe.skipIf(skipRedisTests)('rate limits of a queued batch, shared by its workers', () => {
  let redis: Awaited<ReturnType<typeof startRedis>>;
  const children: ChildProcess[] = [];
  beforeAll(async () => {
    redis = await startRedis();
  });
  afterAll(async () => {
    for (const c of children) if (c.exitCode === null && c.signalCode === null) c.kill('SIGKILL');
    await redis?.stop();
  });

  function worker(runsDir: string, concurrency: number, lockMs = 2000) {
    const w = spawnCli(['worker', '--queue', redis.url, '--runs-dir', runsDir, '--concurrency', String(concurrency), '--lock-ms', String(lockMs)], { env: ENV });
    children.push(w.child);
    return w;
  }
  function submit(planFile: string, dir: string) {
    const b = spawnCli(['batch', planFile, '--queue', redis.url, '--runs-dir', join(dir, 'submit'), '--json', '--quiet'], { env: ENV });
    children.push(b.child);
    return b;
  }
  const ready = (w: ReturnType<typeof worker>, name: string) => until(() => (w.output.stderr.includes('worker ready') ? true : undefined), 10_000, name);
  const started = (w: ReturnType<typeof worker>) => (w.output.stderr.match(/^start /gm) ?? []).length;

  it('two workers with rateLimit {concurrency: 2}: never more than 2 requests in flight at the provider, and 2 reached', async () => {
    const server = await startOpenAIServer({ delayMs: 150 });
    try {
      const { dir, planFile } = planFor(server.baseURL, '{ concurrency: 2 }', 4);
      // Two runs at once on each: alone, each worker would keep 2 requests in flight, 4 together.
      const a = worker(join(dir, 'shared'), 2);
      const b = worker(join(dir, 'shared'), 2);
      await Promise.all([ready(a, 'worker A'), ready(b, 'worker B')]);
      const batch = submit(planFile, dir);
      const done = await batch.exited;
      expect(done.code, done.stderr).toBe(0);
      expect(lastJsonLine(done.stdout)).toMatchObject({ runs: { planned: 4, completed: 4, failed: 0 } });
      expect(started(a)).toBeGreaterThan(0);
      expect(started(b)).toBeGreaterThan(0);
      expect(server.stats().requests).toBe(16);
      expect(server.stats().maxInFlight).toBe(2);
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      expect((await a.exited).code).toBe(0);
      expect((await b.exited).code).toBe(0);
    } finally {
      await server.close();
    }
  }, 60_000);

  it("a killed worker's slots come back once their leases lapse", async () => {
    const server = await startOpenAIServer({ delayMs: 1000 });
    const probe = new Redis(redis.url);
    probe.on('error', () => undefined);
    try {
      const { dir, planFile } = planFor(server.baseURL, '{ concurrency: 2 }', 2);
      const slots = limiterKeys(limiterKey(resolveEndpoint('openai', { id: 'fake', backend: 'openai', baseURL: server.baseURL }, ENV))).slots;
      const a = worker(join(dir, 'shared'), 2, 1500);
      await ready(a, 'worker A');
      const batch = submit(planFile, dir);
      await until(() => (server.stats().requests >= 2 ? true : undefined), 10_000, 'two requests of worker A');
      a.child.kill('SIGKILL');
      await a.exited;
      // Both slots are still leased to the dead worker.
      expect(await probe.zcard(slots)).toBe(2);
      const b = worker(join(dir, 'shared'), 2, 1500);
      const done = await batch.exited;
      expect(done.code, done.stderr).toBe(0);
      expect(lastJsonLine(done.stdout)).toMatchObject({ runs: { planned: 2, completed: 2, failed: 0 } });
      expect(started(b)).toBe(2);
      expect(server.stats().maxInFlight).toBeLessThanOrEqual(2);
      b.child.kill('SIGTERM');
      expect((await b.exited).code).toBe(0);
    } finally {
      probe.disconnect();
      await server.close();
    }
  }, 60_000);

  it('two workers with rateLimit {requestsPerMinute: 3}: 3 requests in the minute between them, not 3 each', async () => {
    const server = await startOpenAIServer({ delayMs: 10 });
    try {
      const { dir, planFile } = planFor(server.baseURL, '{ requestsPerMinute: 3 }', 4);
      const a = worker(join(dir, 'shared'), 2);
      const b = worker(join(dir, 'shared'), 2);
      await Promise.all([ready(a, 'worker A'), ready(b, 'worker B')]);
      const batch = submit(planFile, dir);
      await until(() => (started(a) > 0 && started(b) > 0 && server.stats().requests >= 3 ? true : undefined), 10_000, 'runs on both workers');
      // Time enough for each worker to have sent three of its own, had each its own minute.
      await new Promise((r) => setTimeout(r, 1500));
      expect(server.stats().requests).toBe(3);
      batch.child.kill('SIGINT');
      expect((await batch.exited).code).toBe(130);
      a.child.kill('SIGTERM');
      b.child.kill('SIGTERM');
      // Runs waiting for the window end at once when their worker stops.
      expect((await a.exited).code).toBe(0);
      expect((await b.exited).code).toBe(0);
    } finally {
      await server.close();
    }
  }, 60_000);
});
