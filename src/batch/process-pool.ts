import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EndpointUrls } from './_credentials.js';
import type { ManifestRun } from './manifest.js';
import type { RunOutcome } from './outcome.js';
import { FromChildSchema, NO_OBSERVERS, type ToChild } from './_process-protocol.js';
import type { ExecuteContext, Executor } from './scheduler.js';

/**
 * Each process has its own rate limiters, so each gets 1/N of every agent's limits (at least 1): the
 * processes together stay within what the plan allows for the account.
 */
export function shareRateLimits(run: ManifestRun, processes: number): ManifestRun {
  if (processes <= 1) return run;
  const { scenario } = run;
  if (!scenario.agents.some((a) => 'rateLimit' in a && a.rateLimit)) return run;
  const share = (x: number | undefined) => (x === undefined ? undefined : Math.max(1, Math.floor(x / processes)));
  const agents = scenario.agents.map((a) => {
    if (!('rateLimit' in a) || !a.rateLimit) return a;
    const r = a.rateLimit;
    const limited = {
      ...(r.concurrency !== undefined ? { concurrency: share(r.concurrency) } : {}),
      ...(r.requestsPerMinute !== undefined ? { requestsPerMinute: share(r.requestsPerMinute) } : {}),
      ...(r.tokensPerMinute !== undefined ? { tokensPerMinute: share(r.tokensPerMinute) } : {}),
    };
    return { ...a, rateLimit: limited };
  });
  return { ...run, scenario: { ...scenario, agents } };
}

const CHILD = fileURLToPath(new URL('./_process-child.js', import.meta.url));

/** One child process of the pool and the runs it has been given. */
interface PoolChild {
  proc: ChildProcess;
  /** Ids of the runs it is running. */
  inflight: Set<number>;
  alive: boolean;
}

interface Pending {
  run: ManifestRun;
  /** Processes that died while running it. */
  deaths: number;
  ctx: ExecuteContext;
  /** The child running it. */
  child: PoolChild;
  settle(o: RunOutcome): void;
}

/**
 * Runs planned runs in N child processes, so a batch uses more than one core. Each run goes to the child
 * with the fewest runs; a child that dies has its runs resumed (from their logs) by another.
 */
export async function processPool(options: {
  batchId: string;
  batchDir: string;
  processes: number;
  env: Readonly<Record<string, string | undefined>>;
  logLevel?: string;
  /**
   * The address of a module whose `observersFor(scenario, logger)` export gives each run its live observers
   * (as RunCellDeps.observersFor; a function cannot be sent to a child process). `arena batch` names
   * src/app/run-observers.ts, for the analysis `arena run` has. Without it the runs have no live observers.
   */
  observersModule?: string;
  /** The caller holds the batch lock, which covers the children's run folders (see RunCellDeps.batchLocked). */
  batchLocked?: boolean;
  /** Endpoint URLs with credentials, which batch.json does not keep (`EndpointUrls.of`); sent over IPC. */
  urls?: EndpointUrls;
}): Promise<Executor & { close(): Promise<void> }> {
  const pending = new Map<number, Pending>();
  let nextId = 1;
  const children: PoolChild[] = [];
  const env = Object.fromEntries(Object.entries(options.env).filter((e): e is [string, string] => typeof e[1] === 'string'));

  const dispatch = (id: number, p: Omit<Pending, 'child'>): void => {
    const live = children.filter((c) => c.alive);
    if (live.length === 0 || p.deaths > 1) {
      const error = live.length === 0 ? 'every batch process died' : 'two batch processes died while running it';
      p.settle({ runId: p.run.runId, runDir: '', status: live.length === 0 ? 'interrupted' : 'failed', stopReason: 'error', turns: 0, costUsd: 0, resumed: false, error });
      return;
    }
    const child = live.reduce((a, b) => (b.inflight.size < a.inflight.size ? b : a));
    child.inflight.add(id);
    pending.set(id, { ...p, child });
    const msg: ToChild = { type: 'run', id, runId: p.run.runId };
    child.proc.send(msg);
  };

  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const proc = fork(CHILD, [options.batchId, options.batchDir, options.logLevel ?? 'info', options.observersModule ?? NO_OBSERVERS, options.batchLocked ? 'batch-locked' : 'run-locks', String(options.processes)], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const child: PoolChild = { proc, inflight: new Set(), alive: true };
      children.push(child);
      proc.send({ type: 'urls', urls: (options.urls?.entries ?? []).map(([ref, seat, url]) => [ref, seat, url]) } satisfies ToChild);
      proc.on('message', (raw) => {
        const parsed = FromChildSchema.safeParse(raw);
        if (!parsed.success) return;
        const m = parsed.data;
        if (m.type === 'ready') return resolve();
        if (m.type === 'turns') {
          for (const [id, n, cost] of m.runs) pending.get(id)?.ctx.onTurn(cost, n);
          return;
        }
        const p = pending.get(m.id);
        if (!p) return;
        if (m.type === 'prior') p.ctx.onPriorCost(m.costUsd);
        else {
          pending.delete(m.id);
          child.inflight.delete(m.id);
          if (m.type === 'done') p.settle(m.outcome);
          else p.settle({ runId: p.run.runId, runDir: '', status: 'failed', stopReason: 'error', turns: 0, costUsd: 0, resumed: false, error: m.message });
        }
      });
      proc.once('error', reject);
      proc.once('exit', (code) => {
        child.alive = false;
        reject(new Error(`batch process exited (${code}) before it was ready`));
        // Its runs were cut off mid-turn at worst: another process resumes them from their logs.
        for (const id of [...child.inflight]) {
          const p = pending.get(id)!;
          pending.delete(id);
          dispatch(id, { ...p, deaths: p.deaths + 1 });
        }
        child.inflight.clear();
      });
    });
  try {
    await Promise.all(Array.from({ length: options.processes }, start));
  } catch (err) {
    for (const c of children) if (c.alive) c.proc.kill();
    throw err;
  }

  return {
    execute(run, ctx) {
      const id = nextId++;
      return new Promise<RunOutcome>((settle) => {
        const onAbort = () => {
          const p = pending.get(id);
          if (p?.child.alive) p.child.proc.send({ type: 'stop', id } satisfies ToChild);
        };
        ctx.signal.addEventListener('abort', onAbort, { once: true });
        dispatch(id, {
          run,
          ctx,
          deaths: 0,
          settle: (o) => {
            ctx.signal.removeEventListener('abort', onAbort);
            settle(o);
          },
        });
        if (ctx.signal.aborted) onAbort();
      });
    },
    async close() {
      await Promise.all(
        children.map(
          (c) =>
            new Promise<void>((r) => {
              if (!c.alive) return r();
              c.proc.once('exit', () => r());
              c.proc.disconnect();
            }),
        ),
      );
    },
  };
}
