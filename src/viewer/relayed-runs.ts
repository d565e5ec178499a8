import { existsSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { Logger } from 'pino';
import type { ArenaEvent } from '../runlog/events.js';
import { eventsFileOf } from '../runlog/layout.js';
import type { FeedRegistry } from './feed-registry.js';
import type { LiveSource, RunFeed } from './run-feed.js';
import type { RunIndex } from './run-index.js';

/** A run of another process whose events reach this viewer one by one (a queue worker's, through Redis). */
interface Relayed {
  batchId: string;
  source: RelaySource;
  feed: RunFeed;
  unlisten: () => void;
  /** The run's log is readable here: history comes from it, and it outlives the run's buffer. */
  fromLog: boolean;
  finished: boolean;
  /** When its last event arrived. */
  heardMs: number;
}

/** Hands relayed events to the run's feed as a RunHandle would. */
class RelaySource implements LiveSource {
  private readonly listeners = new Set<(event: ArenaEvent) => void>();
  constructor(readonly runId: string) {}
  subscribe(listener: (event: ArenaEvent) => void): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }
  emit(event: ArenaEvent): void {
    for (const listener of this.listeners) listener(event);
  }
}

export interface RelayedRunsOptions {
  runsDir: string;
  index: RunIndex;
  feeds: FeedRegistry;
  logger: Logger;
  /** Runs attached in this process are theirs to show; relayed events with their id are ignored. */
  isAttached(runId: string): boolean;
  /** Finished runs without a readable log are kept in memory; beyond this many, the oldest are forgotten. */
  keepFinished: number;
  /** A run silent this long gives way to a run of another batch with its id (its worker is gone). */
  quietMs?: number;
}

/**
 * Runs of other processes shown live from their relayed events, like runs of this process: listed
 * (grouped by batch), subscribable, replayed to late joiners. Their history comes from the run log
 * when the runs dir holds it (`<runsDir>/<batchId>/<runId>/events.jsonl`, or wherever a scan found
 * it); otherwise from what arrived since this viewer started listening. Either way a run's buffer holds
 * its persisted events and only the in-flight turn's deltas.
 */
export class RelayedRuns {
  private readonly runs = new Map<string, Relayed>();
  /** Finished runs that live only in memory, oldest first (Map keeps insertion order). */
  private readonly memoryOnly = new Map<string, true>();
  private readonly warnedClash = new Set<string>();

  constructor(private readonly options: RelayedRunsOptions) {}

  has(runId: string): boolean {
    return this.runs.has(runId);
  }

  /** One event from a worker of batch `batchId`, in the order the worker published it. */
  push(batchId: string, event: ArenaEvent): void {
    const { runId } = event;
    if (this.options.isAttached(runId)) return;
    let run = this.runs.get(runId);
    if (run && run.batchId !== batchId) {
      // Run ids repeat across batches of one plan; the viewer keys runs by id, so one of them is shown.
      if (!run.finished && Date.now() - run.heardMs < (this.options.quietMs ?? 120_000)) {
        this.warnClash(runId, batchId, run.batchId);
        return;
      }
      run = undefined;
    } else if (run && event.type === 'run.started' && event.seq <= run.feed.lastSeq()) {
      // Started afresh (a worker that could not see the first one's log): a new history.
      run = undefined;
    } else if (run?.finished && event.type !== 'run.finished') {
      // Going on after its end (interrupted, then `arena batch resume`). A feed without a log still holds
      // the history; one with a log is opened again and reads it.
      if (run.fromLog) run = undefined;
      else {
        run.finished = false;
        this.memoryOnly.delete(runId);
      }
    }
    run ??= this.open(batchId, event);
    run.heardMs = Date.now();
    run.source.emit(event);
    if (event.type === 'run.finished') this.finish(runId, run, event.seq);
  }

  close(): void {
    for (const run of this.runs.values()) run.unlisten();
    this.runs.clear();
    this.memoryOnly.clear();
  }

  private open(batchId: string, first: ArenaEvent): Relayed {
    const { runId } = first;
    const old = this.runs.get(runId);
    if (old) this.forget(runId, old);
    const { index, feeds, runsDir, logger } = this.options;
    // Workers write `<runs-dir>/<batchId>/<runId>/`: a log of this id in another batch's folder is another run.
    const known = index.logPathOf(runId);
    const ofThisBatch = known !== undefined && basename(dirname(dirname(known))) === batchId && existsSync(known);
    const logPath = ofThisBatch ? known : eventsFileOf(join(runsDir, batchId, runId));
    // Seen from its start, the relay has the whole history; a log found here could be an older attempt's.
    const fromLog = first.type !== 'run.started' && existsSync(logPath);
    index.attachRelayed(runId, dirname(logPath), batchId, logPath);
    const source = new RelaySource(runId);
    const feed = feeds.attach(source, fromLog ? { logPath } : {});
    const unlisten = feed.listen((event) => index.foldLive(runId, event));
    const run: Relayed = { batchId, source, feed, unlisten, fromLog, finished: false, heardMs: Date.now() };
    this.runs.set(runId, run);
    logger.info({ runId, batchId, history: fromLog ? 'run log' : 'relayed events' }, 'viewer: relaying a run from the queue');
    return run;
  }

  private finish(runId: string, run: Relayed, lastSeq: number): void {
    run.finished = true;
    if (run.fromLog) {
      // Its log holds everything: once the feed has stored the end, subscribers may read the log instead.
      void run.feed.caughtUp(lastSeq).then(() => {
        if (this.runs.get(runId) !== run || !run.finished) return;
        run.unlisten();
        this.runs.delete(runId);
        if (!this.options.isAttached(runId)) this.options.feeds.unpin(runId);
      });
      return;
    }
    this.memoryOnly.delete(runId);
    this.memoryOnly.set(runId, true);
    while (this.memoryOnly.size > this.options.keepFinished) {
      const [oldest] = this.memoryOnly.keys();
      if (oldest === undefined) break;
      const victim = this.runs.get(oldest);
      this.memoryOnly.delete(oldest);
      if (victim) this.forget(oldest, victim);
      this.options.logger.info({ runId: oldest }, 'viewer: forgot a finished relayed run (keeping only the newest ones without a readable log)');
    }
  }

  private forget(runId: string, run: Relayed): void {
    run.unlisten();
    this.runs.delete(runId);
    this.memoryOnly.delete(runId);
    // The id may belong to a run of this process by now; its feed and list entry are not ours to drop.
    if (this.options.isAttached(runId)) return;
    this.options.feeds.unpin(runId);
    this.options.index.dropRelayed(runId);
  }

  private warnClash(runId: string, batchId: string, shown: string): void {
    const key = `${batchId}/${runId}`;
    if (this.warnedClash.has(key)) return;
    this.warnedClash.add(key);
    this.options.logger.warn({ runId, batchId, shownBatch: shown }, 'viewer: two batches relay runs with the same id at once; showing the first');
  }
}
