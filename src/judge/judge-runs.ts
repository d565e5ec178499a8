import { createHash } from 'node:crypto';
import { dirname } from 'node:path';
import { addUsage } from '../agents/prices.js';
import { describeError } from '../errors.js';
import type { ArenaEvent, Judgement, JudgeFailure, Verdict } from '../runlog/events.js';
import { describeProblems, readRunLog } from '../runlog/reader.js';
import { noStartProblem } from '../runlog/log-check.js';
import { EventStamper } from '../runlog/stamp.js';
import { RunLogWriter } from '../runlog/writer.js';
import { lockBatchOfRun } from '../runlog/writer-lock.js';
import type { Usage } from '../usage.js';
import { judgeWindow } from './judge-window.js';
import { judgePrompt, type JudgeTurn, type TurnWindow } from './prompt.js';
import type { RateLimiter } from '../agents/limiter.js';
import { Budget } from '../batch/budget.js';
import type { JudgeClient } from './request.js';
import type { RubricSet } from './rubric.js';

/**
 * The version of the judge prompt's wording (src/judge/prompt.ts), part of every cache key: the rubric hash
 * covers the rubric's text, not the instructions around it. Raise it when the wording changes.
 */
export const JUDGE_PROMPT_VERSION = 1;

export type FailureKind = JudgeFailure['kind'];

export interface WindowReport {
  window: [number, number];
  /** True when the log already held this window's judgement: nothing was sent. */
  cached: boolean;
  verdicts?: Verdict[];
  failure?: JudgeFailure;
  /** Judged now, with an answer from the record/replay cache (`--cache`): nothing was sent, at no cost. */
  replayed?: boolean;
  /** Why the window was not judged this time: the budget ran out, the run could not be written, or Ctrl-C. */
  notJudged?: 'budget' | 'unwritable' | 'interrupted';
}

export interface RunJudgeReport {
  runId: string;
  runDir: string;
  windows: WindowReport[];
  /** Why the run was passed over (not finished). */
  skipped?: string;
}

export interface JudgeRunsResult {
  runs: RunJudgeReport[];
  /** Windows sent this time. */
  judged: number;
  /** Windows answered by the log. */
  cached: number;
  /** Of the windows judged now, those answered from the record/replay cache (`--cache`): nothing sent, no cost. */
  replayed: number;
  /** Windows whose judgement (sent now or cached) is a failure, and how many of each kind. */
  failed: number;
  failures: Record<FailureKind, number>;
  /** Windows left unjudged because the budget was spent. */
  budgetStopped: number;
  /** Runs passed over (not finished, or their log could not be written). */
  refusedRuns: number;
  interrupted: boolean;
  usage: Usage;
  costUsd: number;
}

/** Windows to send this time, counted as a batch counts its runs (the progress line is the batch's). */
export interface JudgeProgress {
  planned: number;
  /** Judged with verdicts. */
  done: number;
  running: number;
  /** Judged, and the judgement is a failure (malformed, refusal, error). */
  failed: number;
  /** Not sent: the budget, or a log that could not be written. */
  skipped: number;
  /** Not sent, or cut off, by an interruption. */
  interrupted: number;
  costUsd: number;
}

export interface JudgeRunsOptions {
  files: readonly string[];
  client: JudgeClient;
  rubric: RubricSet;
  /** Turns per window; undefined: one window of all turns. */
  windowSize?: number | undefined;
  /** Windows judged at once (default 4). */
  concurrency?: number | undefined;
  /**
   * The cost budget of this invocation, kept as a batch keeps its own (src/batch/budget.ts): a window is sent
   * only while what was spent, plus each window in flight and this one at the mean cost of those judged so
   * far, stays within it. Before any window is judged nothing is projected, so the first one is always sent.
   */
  budgetUsd?: number | undefined;
  /** Send again windows whose judgement was malformed or a refusal (an `error` one is always sent again). */
  retryFailed?: boolean | undefined;
  malformedRetries?: number | undefined;
  /**
   * Requests- and tokens-per-minute limits: each window waits for room for one request of its prompt's
   * estimated size (4 characters a token, plus the answer) and is then charged its real tokens.
   */
  limiter?: RateLimiter | undefined;
  signal?: AbortSignal | undefined;
  warn: (line: string) => void;
  onProgress?: ((p: JudgeProgress) => void) | undefined;
  now?: () => Date;
}

/** The run's completed turns with speaker names; a turn completed again (after a resume) counts once, its last text. */
export function runTurns(events: readonly ArenaEvent[]): JudgeTurn[] {
  const started = events.find((e) => e.type === 'run.started');
  const names = new Map(started?.type === 'run.started' ? started.agents.map((a) => [a.id, a.name || a.id]) : []);
  const byTurn = new Map<number, JudgeTurn>();
  for (const e of events) {
    if (e.type === 'turn.completed') byTurn.set(e.turn, { turn: e.turn, speaker: names.get(e.agentId) ?? e.agentId, text: e.text });
  }
  return [...byTurn.values()].sort((a, b) => a.turn - b.turn);
}

/** Windows over the turns: all of them in one, or K at a time ([1..K], [K+1..2K], …, the last one shorter). */
export function windowsOf(turns: readonly JudgeTurn[], size?: number): TurnWindow[] {
  if (turns.length === 0) return [];
  const first = turns[0]!.turn;
  const last = turns[turns.length - 1]!.turn;
  if (size === undefined) return [[first, last]];
  const out: TurnWindow[] = [];
  for (let start = first; start <= last; start += size) out.push([start, Math.min(start + size - 1, last)]);
  return out;
}

/** A hash of what a window sends: its turns (numbers, speakers, texts) and the prompt's version. */
export function turnsHash(turns: readonly JudgeTurn[], window: TurnWindow): string {
  const inside = turns.filter((t) => t.turn >= window[0] && t.turn <= window[1]).map((t) => [t.turn, t.speaker, t.text]);
  const canonical = JSON.stringify([JUDGE_PROMPT_VERSION, inside]);
  return `sha256:${createHash('sha256').update(canonical).digest('hex').slice(0, 16)}`;
}

interface Task {
  run: PlannedRun;
  report: WindowReport;
  window: TurnWindow;
  hash: string;
}

interface PlannedRun {
  runId: string;
  runDir: string;
  turns: JudgeTurn[];
  lastSeq: number;
  validBytes: number;
  totalBytes: number;
  pending: number;
}

interface OpenRun {
  writer: RunLogWriter;
  stamper: EventStamper;
  releaseBatch: () => void;
}

/**
 * Judge the windows of finished runs that their logs do not already answer, appending each `judgement` as
 * soon as it arrives (so a killed invocation resumes by running again). A run's folder lock (and its
 * batch's) is taken before its first request and held until its last window is written.
 */
export async function judgeRuns(options: JudgeRunsOptions): Promise<JudgeRunsResult> {
  const { client, rubric } = options;
  const result: JudgeRunsResult = {
    runs: [],
    judged: 0,
    cached: 0,
    replayed: 0,
    failed: 0,
    failures: { malformed: 0, refusal: 0, error: 0 },
    budgetStopped: 0,
    refusedRuns: 0,
    interrupted: false,
    usage: { inputTokens: 0, outputTokens: 0 },
    costUsd: 0,
  };
  const countFailure = (f: JudgeFailure | undefined) => {
    if (!f) return;
    result.failed++;
    result.failures[f.kind]++;
  };
  const tasks: Task[] = [];

  for (const file of options.files) {
    const log = await readRunLog(file);
    for (const line of describeProblems(log)) options.warn(line);
    const started = log.events.find((e) => e.type === 'run.started');
    if (!started) {
      options.warn(noStartProblem(file));
      continue;
    }
    const runDir = dirname(file);
    const report: RunJudgeReport = { runId: started.runId, runDir, windows: [] };
    result.runs.push(report);
    const last = log.events.findLast((e) => e.type === 'run.finished' || e.type === 'run.resumed');
    if (last?.type !== 'run.finished') {
      report.skipped = 'not finished (still running, or interrupted: resume it first)';
      options.warn(`${started.runId}: ${report.skipped}; not judged`);
      result.refusedRuns++;
      continue;
    }
    const turns = runTurns(log.events);
    const judgements = log.events.filter((e): e is Judgement => e.type === 'judgement');
    const run: PlannedRun = {
      runId: started.runId,
      runDir,
      turns,
      lastSeq: log.events.reduce((m, e) => Math.max(m, e.seq), 0),
      validBytes: log.validBytes,
      totalBytes: log.totalBytes,
      pending: 0,
    };
    for (const window of windowsOf(turns, options.windowSize)) {
      const hash = turnsHash(turns, window);
      const found = judgements.findLast(
        (j) =>
          j.judge.backend === client.backend &&
          j.judge.model === client.model &&
          j.rubric.hash === rubric.hash &&
          j.window[0] === window[0] &&
          j.window[1] === window[1] &&
          j.turnsHash === hash,
      );
      const w: WindowReport = { window: [window[0], window[1]], cached: false };
      report.windows.push(w);
      const reusable = found && (found.verdicts !== undefined || (found.failure?.kind !== 'error' && !options.retryFailed));
      if (found && reusable) {
        w.cached = true;
        if (found.verdicts) w.verdicts = found.verdicts;
        if (found.failure) w.failure = found.failure;
        result.cached++;
        countFailure(found.failure);
        continue;
      }
      run.pending++;
      tasks.push({ run, report: w, window, hash });
    }
  }

  const open = new Map<string, Promise<OpenRun | undefined>>();
  const batchLocks = new Map<string, { release: () => void; count: number }>();
  const acquireBatch = (runDir: string): (() => void) => {
    const key = dirname(runDir);
    let held = batchLocks.get(key);
    if (!held) {
      held = { release: lockBatchOfRun(runDir), count: 0 };
      batchLocks.set(key, held);
    }
    held.count++;
    const h = held;
    return () => {
      if (--h.count === 0) {
        batchLocks.delete(key);
        h.release();
      }
    };
  };
  const openRun = (run: PlannedRun): Promise<OpenRun | undefined> => {
    let p = open.get(run.runDir);
    if (!p) {
      p = (async () => {
        let releaseBatch: (() => void) | undefined;
        try {
          releaseBatch = acquireBatch(run.runDir);
          const writer = await RunLogWriter.openAsync(run.runDir, { validBytes: run.validBytes, expectedBytes: run.totalBytes, lastSeq: run.lastSeq });
          return { writer, stamper: new EventStamper(run.runId, run.lastSeq, options.now ?? (() => new Date())), releaseBatch };
        } catch (err) {
          releaseBatch?.();
          options.warn(`${run.runId}: cannot write its log: ${describeError(err).message}; not judged`);
          result.refusedRuns++;
          return undefined;
        }
      })();
      open.set(run.runDir, p);
    }
    return p;
  };
  const finishRun = async (run: PlannedRun) => {
    if (--run.pending > 0) return;
    const o = await open.get(run.runDir);
    if (!o) return;
    o.writer.close();
    await o.writer.closed();
    o.releaseBatch();
  };

  const progress: JudgeProgress = { planned: tasks.length, done: 0, running: 0, failed: 0, skipped: 0, interrupted: 0, costUsd: 0 };
  const budget = new Budget(options.budgetUsd !== undefined ? { maxCostUsd: options.budgetUsd } : undefined);
  const tell = () => options.onProgress?.({ ...progress });
  tell();
  let next = 0;
  // Windows past the budget check and not yet recorded: the budget counts each at the projected cost.
  let sending = 0;
  // A failed write stops every worker before its next window; the first such error is thrown at the end.
  let fatal: { error: unknown } | undefined;
  const worker = async () => {
    while (next < tasks.length && !fatal) {
      const task = tasks[next++]!;
      let reserved = false;
      try {
        if (options.signal?.aborted) {
          task.report.notJudged = 'interrupted';
          progress.interrupted++;
          continue;
        }
        if (!budget.allowsAnother(new Array<number>(sending).fill(0))) {
          task.report.notJudged = 'budget';
          result.budgetStopped++;
          progress.skipped++;
          tell();
          continue;
        }
        sending++;
        reserved = true;
        const o = await openRun(task.run);
        if (!o) {
          task.report.notJudged = 'unwritable';
          progress.skipped++;
          tell();
          continue;
        }
        progress.running++;
        tell();
        let body;
        try {
          let ticket;
          if (options.limiter) {
            const { system, user } = judgePrompt(rubric, task.run.turns, task.window);
            ticket = await options.limiter.acquireRequest(Math.ceil((system.length + user.length) / 4) + 1000, options.signal);
          }
          body = await judgeWindow(client, { rubric, turns: task.run.turns, window: task.window, malformedRetries: options.malformedRetries, signal: options.signal });
          // A replayed answer sent nothing: its tokens are not the endpoint's to count.
          ticket?.settle(body.replay ? 0 : body.usage.inputTokens + body.usage.outputTokens);
        } catch (err) {
          if (!options.signal?.aborted) throw err;
          task.report.notJudged = 'interrupted';
          result.interrupted = true;
          progress.interrupted++;
          continue;
        } finally {
          progress.running--;
        }
        o.writer.append(o.stamper.next({ ...body, turnsHash: task.hash }), true);
        o.writer.throwIfFailed();
        result.judged++;
        result.usage = addUsage(result.usage, body.usage);
        result.costUsd += body.costUsd;
        budget.recordFinished(body.costUsd);
        if (body.replay) {
          result.replayed++;
          task.report.replayed = true;
        }
        if (body.verdicts) task.report.verdicts = body.verdicts;
        if (body.failure) task.report.failure = body.failure;
        countFailure(body.failure);
        if (body.failure) progress.failed++;
        else progress.done++;
        progress.costUsd = result.costUsd;
        tell();
      } catch (error) {
        fatal ??= { error };
      } finally {
        if (reserved) sending--;
        await finishRun(task.run);
      }
    }
  };
  try {
    await Promise.all(Array.from({ length: Math.max(1, Math.min(options.concurrency ?? 4, tasks.length)) }, worker));
    if (fatal) throw fatal.error;
  } finally {
    // After a failure some runs' writers are still open: close them all (closing twice is harmless).
    for (const p of open.values()) {
      const o = await p;
      if (!o) continue;
      o.writer.close();
      await o.writer.closed().catch(() => {});
    }
    for (const held of batchLocks.values()) held.release();
  }
  if (options.signal?.aborted) result.interrupted = true;
  return result;
}
