import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { EndpointUrls } from './_credentials.js';
import { runScenarioOf, type ManifestRun } from './manifest.js';
import type { RunOutcome } from './outcome.js';
import { FromChildSchema, NO_OBSERVERS, type ToChild } from './_process-protocol.js';
import type { ExecuteContext, Executor } from './scheduler.js';

/**
 * Each process has its own rate limiters, so each gets 1/N of every agent's limits (at least 1): the
 * processes together stay within what the plan allows for the account.
 */
export function shareRateLimits(run: ManifestRun, processes: number): ManifestRun {
  if (processes <= 1) return run;
  const raw = run.scenario.agents;
  if (Array.isArray(raw) && !raw.some((a) => a && typeof a === 'object' && 'rateLimit' in a)) return run;
  const scenario = runScenarioOf(run);
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
  return { ...run, scenario: { ...scenario, agents } as unknown as Record<string, unknown> };
}

const CHILD = fileURLToPath(new URL('./_process-child.js', import.meta.url));

interface Slot {
  proc: ChildProcess;
  inflight: Set<number>;
  alive: boolean;
}

interface Pending {
  run: ManifestRun;
  /** Processes that died while running it. */
  deaths: number;
  ctx: ExecuteContext;
  slot: Slot;
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
  const slots: Slot[] = [];
  const env = Object.fromEntries(Object.entries(options.env).filter((e): e is [string, string] => typeof e[1] === 'string'));

  const dispatch = (id: number, p: Omit<Pending, 'slot'>): void => {
    const live = slots.filter((s) => s.alive);
    if (live.length === 0 || p.deaths > 1) {
      const error = live.length === 0 ? 'every batch process died' : 'two batch processes died while running it';
      p.settle({ runId: p.run.runId, runDir: '', status: live.length === 0 ? 'interrupted' : 'failed', stopReason: 'error', turns: 0, costUsd: 0, resumed: false, error });
      return;
    }
    const slot = live.reduce((a, b) => (b.inflight.size < a.inflight.size ? b : a));
    slot.inflight.add(id);
    pending.set(id, { ...p, slot });
    const msg: ToChild = { type: 'run', id, runId: p.run.runId };
    slot.proc.send(msg);
  };

  const start = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const proc = fork(CHILD, [options.batchId, options.batchDir, options.logLevel ?? 'info', options.observersModule ?? NO_OBSERVERS, options.batchLocked ? 'batch-locked' : 'run-locks', String(options.processes)], { env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
      const slot: Slot = { proc, inflight: new Set(), alive: true };
      slots.push(slot);
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
          slot.inflight.delete(m.id);
          if (m.type === 'done') p.settle(m.outcome);
          else p.settle({ runId: p.run.runId, runDir: '', status: 'failed', stopReason: 'error', turns: 0, costUsd: 0, resumed: false, error: m.message });
        }
      });
      proc.once('error', reject);
      proc.once('exit', (code) => {
        slot.alive = false;
        reject(new Error(`batch process exited (${code}) before it was ready`));
        // Its runs were cut off mid-turn at worst: another process resumes them from their logs.
        for (const id of [...slot.inflight]) {
          const p = pending.get(id)!;
          pending.delete(id);
          dispatch(id, { ...p, deaths: p.deaths + 1 });
        }
        slot.inflight.clear();
      });
    });
  try {
    await Promise.all(Array.from({ length: options.processes }, start));
  } catch (err) {
    for (const s of slots) if (s.alive) s.proc.kill();
    throw err;
  }

  return {
    execute(run, ctx) {
      const id = nextId++;
      return new Promise<RunOutcome>((settle) => {
        const onAbort = () => {
          const p = pending.get(id);
          if (p?.slot.alive) p.slot.proc.send({ type: 'stop', id } satisfies ToChild);
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
        slots.map(
          (s) =>
            new Promise<void>((r) => {
              if (!s.alive) return r();
              s.proc.once('exit', () => r());
              s.proc.disconnect();
            }),
        ),
      );
    },
  };
}
