import { existsSync, rmSync } from 'node:fs';
import { join, resolve } from 'node:path';
import type { Logger } from 'pino';
import type { Agent } from '../agents/agent.js';
import type { LimiterRegistry } from '../agents/limiter.js';
import { cacheFromEnv } from '../agents/remote/call-cache.js';
import { startRun } from '../arena/run.js';
import type { Scenario } from '../arena/scenario.js';
import type { RunObserver } from '../arena/observer.js';
import type { ArenaEvent } from '../runlog/events.js';
import { EVENTS_FILE, eventsFileOf } from '../runlog/layout.js';
import { forkMetaOf } from '../fork/fork-meta.js';
import { copiedCostUsd, readParentLog, writeChildLog } from '../fork/fork-log.js';
import { readRunLog, type RunLogContents } from '../runlog/reader.js';
import { runState, type RunState } from '../arena/run-state.js';
import { runMeta, type ManifestRun } from './manifest.js';
import type { RunOutcome } from './outcome.js';

/** What a run's observers are built with besides its scenario (see `observersFor` in src/app/run-observers.ts). */
export interface ObserversContext {
  env: Readonly<Record<string, string | undefined>>;
  /** The registry the run's agents take their limiters from, when the batch passes one (queue workers). */
  limiters?: LimiterRegistry;
  scenarioDir: string;
  scenarioFile?: string;
}

/** Where a planned run stands according to its folder. */
export type CellState =
  /** No run yet; `logExists` when a log without run.started is there (killed before its first write). */
  | { kind: 'new'; logExists: boolean }
  | { kind: 'finished'; outcome: RunOutcome }
  | { kind: 'resumable'; state: RunState; log: RunLogContents };

/**
 * Read a run folder. A log without run.started (killed before its first write) counts as new; a log whose
 * last run.finished says interrupted or log_unwritable, or that has none, is resumable; any other ending is final.
 */
export async function inspectRun(runDir: string): Promise<CellState> {
  const file = join(runDir, EVENTS_FILE);
  if (!existsSync(file)) return { kind: 'new', logExists: false };
  const log = await readRunLog(file);
  if (!log.events.some((e) => e.type === 'run.started')) return { kind: 'new', logExists: true };
  const state = runState(log.events, file);
  const f = state.finished;
  // A run whose log could not be written (a full disk) failed for want of room, not of its own: continue it.
  if (f && f.status !== 'interrupted' && f.stopReason !== 'log_unwritable') {
    return {
      kind: 'finished',
      outcome: { runId: state.started.runId, runDir, status: f.status, stopReason: f.stopReason, turns: state.turn, costUsd: state.totals.costUsd - copiedCost(state, log.events), resumed: false },
    };
  }
  return { kind: 'resumable', state, log };
}

/** What a forked run's log holds of its parent's spending (its copied turns): not spent by this run. */
function copiedCost(state: RunState, events: readonly ArenaEvent[]): number {
  const fork = forkMetaOf(state.started);
  return fork ? copiedCostUsd(events, fork.atTurn) : 0;
}

/**
 * A forked run's log, written before its first turn: its run.started and the parent's first turns (see
 * writeChildLog). The parent is read now, so a parent of the same batch must have finished first.
 */
async function writeForkPrefix(run: ManifestRun, fork: NonNullable<ManifestRun['fork']>, runDir: string, deps: Pick<RunCellDeps, 'batchId' | 'batchDir'>): Promise<void> {
  const parentRunDir = resolve(deps.batchDir, fork.parentDir);
  const parent = await readParentLog(eventsFileOf(parentRunDir));
  writeChildLog({
    runId: run.runId,
    runDir,
    parent,
    parentRunDir,
    atTurn: fork.atTurn,
    sample: fork.sample,
    perturbation: fork.perturbation,
    ...(fork.baseSeed !== undefined ? { baseSeed: fork.baseSeed } : {}),
    scenario: run.scenario,
    ...(run.cell.scenarioFile ? { scenarioFile: run.cell.scenarioFile } : {}),
    meta: runMeta(deps.batchId, run.cell),
  });
}

/**
 * The cache salt of a fork child: its base seed, fork turn and sample. The same fork run again (same seed)
 * gets the same salts and replays; the samples of one fork turn, and forks from another base seed, do not
 * share answers. Conditions share it, as they share seeds: their requests differ by the perturbation itself.
 */
export function forkCacheSalt(fork: Pick<NonNullable<ManifestRun['fork']>, 'atTurn' | 'sample' | 'baseSeed'>): string {
  return `fork:${fork.baseSeed ?? ''}:${fork.atTurn}:${fork.sample}`;
}

/** What running a planned run in this process needs besides the run itself. */
export interface RunCellDeps {
  batchId: string;
  /** Runs go to `<batchDir>/<runId>`. */
  batchDir: string;
  env: Readonly<Record<string, string | undefined>>;
  logger: Logger;
  signal: AbortSignal;
  onTurn?: (costUsd: number) => void;
  onPriorCost?: (costUsd: number) => void;
  /** Every event of the run as it happens (deltas included): relays, viewers. */
  onEvent?: (event: ArenaEvent) => void;
  /**
   * Live observers for each run (analysis, live judge), built per run as `arena run` builds them, with the
   * environment and rate limiters the run's agents get, and where its scenario came from.
   */
  observersFor?: (scenario: Scenario, logger: Logger, context: ObserversContext) => Promise<RunObserver[]>;
  /**
   * The caller holds the batch's lock (`arena batch` and its process pool): run folders then need no lock
   * of their own. Queue workers leave this unset, so each run folder they write is locked.
   */
  batchLocked?: boolean;
  /** Agents to use instead of the scenario's (embedding, tests). */
  agentsFor?: (run: ManifestRun) => Agent[] | undefined;
  /** Rate limiters the run shares (a queue worker's, shared with every worker through Redis). */
  limiters?: LimiterRegistry;
}

/**
 * Start, resume or leave alone one planned run, according to its folder; resolves when it has ended.
 * A kill at any moment leaves a folder this function continues from the last completed turn.
 */
export async function runCell(run: ManifestRun, deps: RunCellDeps): Promise<RunOutcome> {
  const runDir = join(deps.batchDir, run.runId);
  let found = await inspectRun(runDir);
  if (found.kind === 'finished') return found.outcome;
  const continued = found.kind === 'resumable';
  if (found.kind === 'new' && found.logExists) rmSync(join(runDir, EVENTS_FILE), { force: true });
  // A fork starts as a run resumed from the prefix it copied from its parent.
  if (found.kind === 'new' && run.fork) {
    await writeForkPrefix(run, run.fork, runDir, deps);
    found = await inspectRun(runDir);
    if (found.kind === 'finished') return found.outcome;
  }
  const { scenario } = run;
  const resume = found.kind === 'resumable' ? found : undefined;
  const prior = resume ? resume.state.totals.costUsd - (run.fork ? copiedCostUsd(resume.log.events, run.fork.atTurn) : 0) : 0;
  const prefill = run.fork?.perturbation?.prefill;
  if (prior > 0) deps.onPriorCost?.(prior);
  let cost = prior;
  const agents = deps.agentsFor?.(run);
  const logger = deps.logger.child({ runId: run.runId });
  // The live judge reads the run's environment (the CLI's, `.env` included) and shares the agents' limiters: with
  // no registry given, agents and judge both take the one the environment object keys.
  let observers = deps.observersFor
    ? await deps.observersFor(scenario, logger, {
        env: deps.env,
        ...(deps.limiters ? { limiters: deps.limiters } : {}),
        scenarioDir: run.scenarioDir,
        ...(run.cell.scenarioFile ? { scenarioFile: run.cell.scenarioFile } : {}),
      })
    : undefined;
  // A relay must hear run.started and the first turn.started too, which startRun publishes before it
  // returns the handle: as an observer it hears every event from the first on. Streamed tokens are
  // only built when something relays them (a queue worker's event channel).
  const onEvent = deps.onEvent;
  if (onEvent) observers = [...(observers ?? []), { deltas: true, onEvent: (e) => onEvent(e) }];
  // Children of a fork share the cache folder, each under its own salt: a rerun of the same fork replays each
  // child's own calls, while samples whose requests are identical (no seed in the request) still differ.
  const forkCache = run.fork ? cacheFromEnv(deps.env)?.withSalt(forkCacheSalt(run.fork)) : undefined;
  const handle = await startRun({
    scenario,
    scenarioDir: run.scenarioDir,
    ...(forkCache ? { cache: forkCache } : {}),
    scenarioFile: run.cell.scenarioFile,
    runsDir: deps.batchDir,
    runId: run.runId,
    runDir,
    env: deps.env,
    logger: deps.logger,
    ...(observers ? { observers } : {}),
    ...(agents ? { agents } : {}),
    ...(deps.limiters ? { limiters: deps.limiters } : {}),
    meta: runMeta(deps.batchId, run.cell),
    ...(deps.batchLocked ? { lockRunDir: false } : {}),
    // Only the child's first generated turn starts from the prefill, not a turn after a resume.
    ...(prefill && resume?.state.turn === run.fork?.atTurn ? { firstTurnPrefill: prefill } : {}),
    ...(resume
      ? { resume: { state: resume.state, validBytes: resume.log.validBytes, truncatedTail: resume.log.truncatedTail, history: resume.log.events, totalBytes: resume.log.totalBytes } }
      : {}),
  });
  handle.subscribe(
    (e) => {
      if (e.type === 'turn.completed') {
        cost += e.costUsd;
        deps.onTurn?.(e.costUsd);
      }
    },
    { deltas: false },
  );
  const stop = () => handle.send({ type: 'stop', by: 'batch', reason: 'interrupted' });
  if (deps.signal.aborted) stop();
  deps.signal.addEventListener('abort', stop, { once: true });
  try {
    const result = await handle.done;
    return { ...result, costUsd: cost, resumed: continued };
  } finally {
    deps.signal.removeEventListener('abort', stop);
  }
}
