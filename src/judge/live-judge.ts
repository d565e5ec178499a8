import type { Logger } from 'pino';
import type { RateLimiter } from '../agents/limiter.js';
import type { RunControl, RunObserver } from '../arena/observer.js';
import { Budget } from '../batch/budget.js';
import { describeError } from '../errors.js';
import type { ArenaEvent, EventBody, Judgement } from '../runlog/events.js';
import { emptyUsage } from '../usage.js';
import { runTurns, turnsHash } from './judge-runs.js';
import { judgeWindow } from './judge-window.js';
import { judgePrompt, type TurnWindow } from './prompt.js';
import type { JudgeClient } from './request.js';
import type { RubricSet } from './rubric.js';

export interface LiveJudgeOptions {
  client: JudgeClient;
  rubric: RubricSet;
  /** Judge once turn every, 2·every, … is complete. */
  every: number;
  /** Turns sent each time: the last `window` (default: every turn so far). */
  window?: number | undefined;
  /** A present verdict with at least this confidence sends the run an attractor command. */
  minConfidence: number;
  /** Send no judgement that would take this run's live judging cost over it. */
  budgetUsd?: number | undefined;
  /** How long `flush` (the run is ending) waits for a judgement in flight before cancelling it. */
  waitAtEndMs: number;
  /** Requests- and tokens-per-minute (and concurrency) limits of the judge's endpoint. */
  limiter?: RateLimiter | undefined;
  malformedRetries?: number | undefined;
  logger: Logger;
}

/** What a live judge did over a run (this process's part of it). */
export interface LiveJudgeSummary {
  judgements: number;
  failed: number;
  /** Attractor commands sent to the run. */
  triggered: number;
  costUsd: number;
  /**
   * Due judgements not sent: the budget was reached, a later one covering the same turns replaced them while
   * one was in flight, or the run ended before their turn came.
   */
  skipped: number;
}

interface Job {
  window: TurnWindow;
  controller: AbortController;
  recorded: boolean;
  done: Promise<void>;
}

/** How long a cancelled request may take to give up before its cancellation is recorded without it. */
const ABORT_GRACE_MS = 2_000;

const windowKey = (w: readonly [number, number]) => `${w[0]}-${w[1]}`;

/**
 * Judging while the run goes on: after every `every` completed turns a window is sent to the judge in the
 * background (turns go on meanwhile; one request at a time: windows that fall due while one is in flight wait
 * their turn, except that without `window`, where each judgement covers every turn so far, the latest replaces
 * the waiting one). Each answer is a `judgement` event published through the run's
 * writer, with the `turnsHash` `arena judge` caches by. A verdict that says an attractor is present with at
 * least `minConfidence`, when the judge's previous word on it was not that, sends the run
 * `{type: 'attractor', source: 'judge'}` so `stop.onAttractor` applies. A failed judgement (malformed,
 * refusal, error) is recorded and changes nothing else. On resume the judge's earlier judgements of this run
 * are read back: their windows are not sent again, what they said present is not triggered again, their cost
 * counts toward the budget, and a due window the kill left unanswered is sent first.
 */
export function createLiveJudgeObserver(options: LiveJudgeOptions): RunObserver & { summary(): LiveJudgeSummary } {
  const { client, rubric, every, logger } = options;
  const known: ArenaEvent[] = [];
  const judged = new Set<string>();
  const present = new Map<string, boolean>();
  const budget = options.budgetUsd !== undefined ? new Budget({ maxCostUsd: options.budgetUsd }) : undefined;
  const summary: LiveJudgeSummary = { judgements: 0, failed: 0, triggered: 0, costUsd: 0, skipped: 0 };
  let control: RunControl | undefined;
  let current: Job | undefined;
  let pending: number[] = [];
  let ended = false;
  let budgetWarned = false;

  const mine = (j: Judgement) => j.judge.backend === client.backend && j.judge.model === client.model && j.rubric.hash === rubric.hash;

  /** Remember a verdict set; send the attractors it newly finds present. */
  const apply = (j: EventBody<Judgement>, send: boolean) => {
    for (const v of j.verdicts ?? []) {
      const hit = v.present && v.confidence >= options.minConfidence;
      if (hit && !present.get(v.attractor) && send && control) {
        summary.triggered++;
        logger.info({ attractor: v.attractor, onsetTurn: v.onsetTurn, confidence: v.confidence, window: j.window }, 'live judge: attractor present');
        control.send({ type: 'attractor', attractor: v.attractor, turn: v.onsetTurn ?? j.window[1], source: 'judge' });
      }
      present.set(v.attractor, hit);
    }
  };

  const record = (job: Job, body: EventBody<Judgement>) => {
    if (job.recorded || ended || !control) return;
    job.recorded = true;
    control.publish(body);
    judged.add(windowKey(body.window));
    budget?.recordFinished(body.costUsd);
    summary.judgements++;
    summary.costUsd += body.costUsd;
    if (body.failure) {
      summary.failed++;
      logger.warn({ window: body.window, failure: body.failure }, 'live judge: no verdicts for this window');
    }
    apply(body, true);
  };

  const cancelled = (job: Job, why: string): EventBody<Judgement> => ({
    type: 'judgement',
    judge: { backend: client.backend, model: client.model },
    rubric: { name: rubric.name, hash: rubric.hash },
    window: [job.window[0], job.window[1]],
    failure: { kind: 'error', message: why },
    turnsHash: turnsHash(runTurns(known), job.window),
    usage: emptyUsage(),
    costUsd: 0,
  });

  const start = (turn: number) => {
    if (ended) return;
    const turns = runTurns(known);
    if (turns.length === 0) return;
    const first = turns[0]!.turn;
    const window: TurnWindow = [options.window === undefined ? first : Math.max(first, turn - options.window + 1), turn];
    if (judged.has(windowKey(window))) return;
    if (budget && !budget.allowsAnother([])) {
      summary.skipped++;
      if (!budgetWarned) {
        budgetWarned = true;
        logger.warn({ budgetUsd: options.budgetUsd, spentUsd: summary.costUsd }, 'live judge: budget reached; no more judgements in this run');
      }
      return;
    }
    const controller = new AbortController();
    const job: Job = { window, controller, recorded: false, done: Promise.resolve() };
    const signal = controller.signal;
    job.done = (async () => {
      const hash = turnsHash(turns, window);
      let release: (() => void) | undefined;
      try {
        let ticket;
        if (options.limiter) {
          release = await options.limiter.acquireSlot(signal);
          const { system, user } = judgePrompt(rubric, turns, window);
          ticket = await options.limiter.acquireRequest(Math.ceil((system.length + user.length) / 4) + 1000, signal);
        }
        const body = await judgeWindow(client, { rubric, turns, window, signal, ...(options.malformedRetries !== undefined ? { malformedRetries: options.malformedRetries } : {}) });
        ticket?.settle(body.usage.inputTokens + body.usage.outputTokens);
        record(job, { ...body, turnsHash: hash });
      } catch (err) {
        if (signal.aborted) record(job, cancelled(job, String(signal.reason ?? 'cancelled')));
        else {
          const e = describeError(err);
          record(job, { ...cancelled(job, client.redact(`${e.name}: ${e.message}`)), turnsHash: hash });
        }
      } finally {
        release?.();
      }
    })().finally(() => {
      if (current !== job) return;
      current = undefined;
      // The next waiting window (one passed over, for the budget or as judged already, makes way for the one after).
      while (!current && pending.length > 0) start(pending.shift()!);
    });
    current = job;
  };

  const due = (turn: number) => {
    if (current) {
      if (options.window === undefined) {
        summary.skipped += pending.length;
        pending = [];
      }
      pending.push(turn);
      return;
    }
    start(turn);
  };

  return {
    start(history: readonly ArenaEvent[], ctl: RunControl) {
      control = ctl;
      // Judgements written while the run ran (not those `arena judge` appended after a run.finished).
      let running = false;
      let lastLive = 0;
      for (const e of history) {
        if (e.type === 'run.started' || e.type === 'run.resumed') running = true;
        else if (e.type === 'run.finished') running = false;
        if (e.type === 'run.started' || e.type === 'turn.completed') known.push(e);
        if (e.type !== 'judgement' || !mine(e)) continue;
        // A judgement that failed with an error (or was cancelled at the end) is sent again, as arena judge does.
        const settled = e.verdicts !== undefined || e.failure?.kind !== 'error';
        if (settled) judged.add(windowKey(e.window));
        apply(e, false);
        if (running) {
          budget?.recordFinished(e.costUsd);
          if (settled) lastLive = Math.max(lastLive, e.window[1]);
        }
      }
      // Windows that fell due after the last live judgement, before the kill, go first.
      const last = runTurns(known).at(-1)?.turn ?? 0;
      for (let t = (Math.floor(lastLive / every) + 1) * every; t <= last; t += every) due(t);
    },
    onEvent(event: ArenaEvent, ctl: RunControl) {
      control ??= ctl;
      if (event.type === 'run.started') known.push(event);
      else if (event.type === 'turn.completed') {
        known.push(event);
        if (event.turn % every === 0) due(event.turn);
      }
    },
    async flush() {
      // The judgement in flight, then those waiting behind it (the last turns'), within one bounded wait.
      const deadline = Date.now() + options.waitAtEndMs;
      while (current) {
        const job = current;
        if (await settlesWithin(job.done, Math.max(0, deadline - Date.now()))) continue;
        summary.skipped += pending.length;
        pending = [];
        const why = `cancelled: the run ended and the judge had not answered within ${options.waitAtEndMs / 1000} s`;
        job.controller.abort(why);
        if (!(await settlesWithin(job.done, ABORT_GRACE_MS))) record(job, cancelled(job, why));
        break;
      }
      summary.skipped += pending.length;
      pending = [];
      ended = true;
      if (summary.judgements > 0 || summary.skipped > 0) {
        logger.info({ ...summary, judge: `${client.backend}:${client.model}` }, 'live judge: done');
      }
    },
    summary: () => ({ ...summary }),
  };
}

/** True when `p` settled within `ms`. */
async function settlesWithin(p: Promise<unknown>, ms: number): Promise<boolean> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<false>((resolve) => {
    timer = setTimeout(() => resolve(false), ms);
  });
  try {
    return await Promise.race([p.then(() => true, () => true), timeout]);
  } finally {
    clearTimeout(timer);
  }
}
