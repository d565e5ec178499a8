import type { ManifestRun } from './manifest.js';
import type { RunOutcome, SkippedRun } from './outcome.js';
import { Budget, type BudgetLimits } from './budget.js';

/** Runs one planned run to its end: in this process, or through a queue on other machines. */
export interface Executor {
  execute(run: ManifestRun, ctx: ExecuteContext): Promise<RunOutcome>;
}

export interface ExecuteContext {
  /** Aborted when the batch must stop this run (wall time, Ctrl-C): the run ends as interrupted. */
  signal: AbortSignal;
  /** Report completed turns (one unless said) and their cost (for the budget and the progress line). */
  onTurn(costUsd: number, turns?: number): void;
  /** Report what the run had already spent before this invocation (a resumed run). */
  onPriorCost(costUsd: number): void;
}

/** What the progress line shows. */
export interface ProgressSnapshot {
  planned: number;
  /** Finished without failing (completed or stopped), earlier invocations included. */
  done: number;
  failed: number;
  interrupted: number;
  running: number;
  skipped: number;
  turns: number;
  turnsPerSec: number;
  costUsd: number;
  /** Seconds left at the current pace; undefined until something finished. */
  etaSec: number | undefined;
}

export interface ScheduleOptions {
  /** Runs to start or resume, in order. */
  pending: readonly ManifestRun[];
  /** Runs that ended in earlier invocations: they count toward totals and the budget. */
  finished: readonly RunOutcome[];
  planned: number;
  concurrency: number;
  budget?: BudgetLimits;
  wallTimeSec?: number;
  executor: Executor;
  /** Ctrl-C: stop starting runs, interrupt running ones. */
  signal?: AbortSignal;
  onProgress?: (snapshot: ProgressSnapshot) => void;
  /** Each run's outcome as soon as it is known. */
  onOutcome?: (outcome: RunOutcome) => void;
  now?: () => number;
}

export interface ScheduleResult {
  outcomes: RunOutcome[];
  skipped: SkippedRun[];
  /** Why the batch stopped early, if it did. */
  stoppedBy: 'wall_time' | 'interrupted' | undefined;
}

interface Active {
  run: ManifestRun;
  spent: number;
  abort: AbortController;
}

/**
 * Runs started before the event loop may turn (here and in process-pool children). A run's start (its actor, agents and first turn) costs
 * 0.1–0.3 ms of this thread; a group of 100 is 10–30 ms, a delay its first turns barely notice.
 */
export const START_GROUP = 100;

/** Run planned runs with a concurrency limit, a cost budget and a wall-time limit. */
export async function schedule(options: ScheduleOptions): Promise<ScheduleResult> {
  const now = options.now ?? (() => Date.now());
  const t0 = now();
  const budget = new Budget(options.budget);
  const outcomes: RunOutcome[] = [];
  const skipped: SkippedRun[] = [];
  const active = new Set<Active>();
  const queue = [...options.pending];
  // Forks wait for a parent of this batch still to run; how each parent ended decides whether they can start.
  const ended = new Map<string, RunOutcome>(options.finished.map((f) => [f.runId, f]));
  const batchIds = new Set([...queue.map((r) => r.runId), ...ended.keys()]);
  const parentOf = (run: ManifestRun): string | undefined => (run.fork && batchIds.has(run.fork.parentRunId) ? run.fork.parentRunId : undefined);
  const hasForks = queue.some((r) => parentOf(r) !== undefined);
  const ready = (run: ManifestRun): boolean => {
    const parent = parentOf(run);
    return parent === undefined || ended.has(parent);
  };
  let priorTurns = 0;
  let priorCost = 0;
  let turnsNow = 0;
  let costNow = 0;
  let done = 0;
  let failed = 0;
  let interrupted = 0;
  let stoppedBy: ScheduleResult['stoppedBy'];
  for (const f of options.finished) {
    budget.recordFinished(f.costUsd);
    priorTurns += f.turns;
    priorCost += f.costUsd;
    if (f.status === 'failed') failed++;
    else done++;
  }

  const snapshot = (): ProgressSnapshot => {
    const elapsed = Math.max(1e-3, (now() - t0) / 1000);
    const finishedHere = outcomes.length;
    const left = queue.length + active.size;
    return {
      planned: options.planned,
      done,
      failed,
      interrupted,
      running: active.size,
      skipped: skipped.length,
      turns: priorTurns + turnsNow,
      turnsPerSec: turnsNow / elapsed,
      costUsd: priorCost + costNow,
      etaSec: finishedHere > 0 ? (elapsed / finishedHere) * left : undefined,
    };
  };
  const progress = () => options.onProgress?.(snapshot());

  const stopAll = (reason: 'wall_time' | 'interrupted') => {
    if (stoppedBy) return;
    stoppedBy = reason;
    for (const run of queue.splice(0)) skipped.push({ runId: run.runId, cell: run.cell, reason });
    for (const a of active) a.abort.abort(reason);
    wake();
  };
  let wake: () => void = () => {};
  const onSignal = () => stopAll('interrupted');
  options.signal?.addEventListener('abort', onSignal, { once: true });
  if (options.signal?.aborted) stopAll('interrupted');
  const wallTimer = options.wallTimeSec !== undefined ? setTimeout(() => stopAll('wall_time'), options.wallTimeSec * 1000) : undefined;
  wallTimer?.unref();

  const launch = (run: ManifestRun) => {
    const a: Active = { run, spent: 0, abort: new AbortController() };
    active.add(a);
    const ctx: ExecuteContext = {
      signal: a.abort.signal,
      onTurn: (cost, turns = 1) => {
        a.spent += cost;
        turnsNow += turns;
        costNow += cost;
      },
      onPriorCost: (cost) => {
        a.spent += cost;
        priorCost += cost;
      },
    };
    options.executor
      .execute(run, ctx)
      .catch(
        (err: unknown): RunOutcome => ({
          runId: run.runId,
          runDir: '',
          status: 'failed',
          stopReason: 'error',
          turns: 0,
          costUsd: a.spent,
          resumed: false,
          error: err instanceof Error ? err.message : String(err),
        }),
      )
      .then((outcome) => {
        active.delete(a);
        outcomes.push(outcome);
        ended.set(run.runId, outcome);
        if (outcome.status === 'interrupted') interrupted++;
        else {
          budget.recordFinished(outcome.costUsd);
          if (outcome.status === 'failed') failed++;
          else done++;
        }
        options.onOutcome?.(outcome);
        progress();
        wake();
      });
  };

  let startedInGroup = 0;
  const ticker = setInterval(progress, 1000);
  ticker.unref();
  try {
    for (;;) {
      while (queue.length > 0 && active.size < options.concurrency) {
        const next = hasForks ? queue.findIndex(ready) : 0;
        if (next < 0) break;
        const run = queue[next]!;
        const parent = ended.get(parentOf(run) ?? '');
        if (parent && run.fork && parent.turns < run.fork.atTurn) {
          // A parent that ended short of the fork turn leaves its fork nothing to start from (an interrupted
          // one may yet get there when the batch is resumed).
          queue.splice(next, 1);
          skipped.push({ runId: run.runId, cell: run.cell, reason: parent.status === 'interrupted' ? 'interrupted' : 'parent_ended' });
          continue;
        }
        if (!budget.allowsAnother([...active].map((a) => a.spent))) {
          // Running runs may come in cheaper than projected; only give up once none is left to wait for.
          if (active.size > 0) break;
          for (const r of queue.splice(0)) skipped.push({ runId: r.runId, cell: r.cell, reason: 'budget' });
          break;
        }
        queue.splice(next, 1);
        launch(run);
        // Start runs a group at a time, letting the event loop turn between groups: the runs of a group
        // get their first turns going (requests sent, timers set) before the next group is built, instead
        // of every run waiting behind the whole burst when hundreds start at once.
        if (++startedInGroup >= START_GROUP && queue.length > 0 && active.size < options.concurrency) {
          startedInGroup = 0;
          await new Promise<void>((r) => setImmediate(r));
        }
      }
      progress();
      if (active.size === 0 && (queue.length === 0 || stoppedBy)) break;
      await new Promise<void>((r) => (wake = r));
    }
  } finally {
    clearInterval(ticker);
    if (wallTimer) clearTimeout(wallTimer);
    options.signal?.removeEventListener('abort', onSignal);
  }
  return { outcomes, skipped, stoppedBy };
}
