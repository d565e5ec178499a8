import type { Logger } from 'pino';
import type { RunHandle } from '../arena/run-handle.js';
import type { ArenaEvent, EventOf } from '../runlog/events.js';
import { LogTail } from './log-tail.js';

type Delta = EventOf<'turn.delta'>;
export type FeedListener = (event: ArenaEvent) => void;

/** Where a live feed's events come from: a run handle, or anything that delivers a run's events the same way (the Redis relay). */
export type LiveSource = Pick<RunHandle, 'runId' | 'subscribe'> & Partial<Pick<RunHandle, 'lastSeq'>>;

/** How often a feed just attached to a live run looks at its log again until the log has what the run published. */
const CATCH_UP_MS = 5;

/** How a live feed catches up with the log file when it is attached to a run already under way. */
export interface FeedTiming {
  /** Poll interval for tailing logs of other processes. */
  pollMs: number;
  /** How long a live event may wait for the log to supply the events before it, before it is passed on anyway. */
  syncTimeoutMs: number;
}

/**
 * One run's events, in seq order, for any number of viewers: the persisted events (read from the run
 * log, then appended live) and the deltas of the turn being streamed now. Late joiners replay from
 * here; live listeners are called synchronously after each event is stored.
 */
export class RunFeed {
  private readonly events: ArenaEvent[] = [];
  private last = 0;
  /** Deltas of turns still being streamed, by `turn:agentId`. */
  private readonly deltas = new Map<string, Delta[]>();
  private readonly finishedTurns = new Set<string>();
  private readonly listeners = new Set<FeedListener>();
  private readonly tail: LogTail;
  private unsubscribeHandle: (() => void) | undefined;
  private disposed = false;
  /** Live persisted events waiting for the log to supply the events before them. */
  private held: ArenaEvent[] = [];
  private initialised = false;
  private gapTimer: NodeJS.Timeout | undefined;
  private retry: NodeJS.Timeout | undefined;
  private filling = false;
  private readonly attached: boolean;
  /** False when no log can be read here: the history is what the source delivers, from its first event on. */
  private readonly logHistory: boolean;
  private idleWaiters: (() => void)[] = [];
  /** Highest seq read from the log, persisted deltas included (they are not kept when a handle supplies them). */
  private logSeq = 0;
  /** Resolves once the history on disk is loaded (and, for a live run, caught up with its handle). */
  readonly ready: Promise<void>;

  private constructor(
    readonly runId: string,
    readonly logPath: string,
    private readonly logger: Logger,
    private readonly timing: FeedTiming,
    handle: LiveSource | undefined,
    logHistory = true,
  ) {
    this.attached = handle !== undefined;
    this.logHistory = logHistory;
    // A live run's deltas come from its handle; any the log also has (persistDeltas) are not sent twice.
    this.tail = new LogTail(
      logPath,
      (events) => {
        for (const e of events) if (e.seq > this.logSeq) this.logSeq = e.seq;
        this.acceptAll(this.attached ? events.filter((e) => e.type !== 'turn.delta') : events);
      },
      logger,
    );
    if (handle) {
      this.ready = this.attachHandle(handle);
    } else {
      this.ready = this.tail.readMore().then(() => {
        if (!this.disposed) this.tail.follow(timing.pollMs);
      });
    }
  }

  /** A run written by another process (or finished): its log, followed as it grows. */
  static fromLog(runId: string, logPath: string, logger: Logger, timing: FeedTiming): RunFeed {
    return new RunFeed(runId, logPath, logger, timing, undefined);
  }

  /**
   * A run in this process (or relayed from another): history from its log, then every event (deltas
   * included) from its handle. Without `logHistory` the log is not read: the history starts with the
   * first event the source delivers, and gaps in seq are passed over at once (nothing could fill them).
   */
  static fromHandle(handle: LiveSource, logPath: string, logger: Logger, timing: FeedTiming, options: { logHistory?: boolean } = {}): RunFeed {
    return new RunFeed(handle.runId, logPath, logger, timing, handle, options.logHistory ?? true);
  }

  lastSeq(): number {
    return this.last;
  }

  /** Up to `limit` persisted events with seq greater than `afterSeq`. */
  eventsAfter(afterSeq: number, limit: number): ArenaEvent[] {
    let lo = 0;
    let hi = this.events.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (this.events[mid]!.seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    return this.events.slice(lo, lo + limit);
  }

  /** Deltas of the turn being streamed right now (not in the log), for viewers joining mid-turn. */
  currentDeltas(): Delta[] {
    return [...this.deltas.values()].flat();
  }

  /** Resolves once the history is loaded and no live event waits for the log (then every event is stored). */
  async settled(): Promise<void> {
    await this.ready;
    if (this.held.length === 0 || this.disposed) return;
    await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  listen(listener: FeedListener): () => void {
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  listenerCount(): number {
    return this.listeners.size;
  }

  dispose(): void {
    this.disposed = true;
    if (this.gapTimer) clearTimeout(this.gapTimer);
    if (this.retry) clearTimeout(this.retry);
    this.unsubscribeHandle?.();
    this.unsubscribeHandle = undefined;
    this.tail.close();
    this.listeners.clear();
    this.wakeIdle();
  }

  private async attachHandle(handle: LiveSource): Promise<void> {
    // Subscribe before reading the log, so nothing falls between the file and the live stream.
    this.unsubscribeHandle = handle.subscribe((event) => this.onLive(event));
    if (this.logHistory) {
      await this.tail.readMore();
      // What the run published before we subscribed is only in its log, and a new run's log is opened
      // a moment after the run starts: read again, briefly, until the log has all of it.
      const published = handle.lastSeq?.() ?? 0;
      const deadline = Date.now() + this.timing.syncTimeoutMs;
      while (this.logSeq < published && !this.disposed && Date.now() < deadline) {
        await new Promise((r) => setTimeout(r, CATCH_UP_MS));
        await this.tail.readMore();
      }
    }
    this.initialised = true;
    this.drainHeld();
    if (this.held.length > 0) this.fillGap();
  }

  /**
   * A live event from the handle. Deltas go straight through. A persisted event that would leave a gap
   * (the log writer still holds the lines before it: a turn's first lines are written when the turn
   * ends) waits until the log has them, so every viewer gets every event in seq order.
   */
  private onLive(event: ArenaEvent): void {
    if (this.disposed) return;
    if (event.type === 'turn.delta' || event.type === 'turn.waiting') {
      this.accept(event);
      return;
    }
    if (this.initialised && !this.logHistory) {
      if (this.last > 0 && event.seq > this.last + 1) this.logger.warn({ runId: this.runId, from: this.last + 1, to: event.seq - 1 }, 'viewer: events missing from the relayed run; going on with a gap');
      this.accept(event);
      return;
    }
    if (this.initialised && this.held.length === 0 && event.seq <= this.last + 1) {
      this.accept(event);
      return;
    }
    this.held.push(event);
    if (!this.initialised) return;
    this.drainHeld();
    if (this.held.length > 0) this.fillGap();
  }

  private fillGap(): void {
    if (!this.filling) {
      this.filling = true;
      void this.tail.readMore().then(() => {
        this.filling = false;
        this.drainHeld();
      });
    }
    this.gapTimer ??= setTimeout(() => {
      this.gapTimer = undefined;
      if (this.held.length === 0) return;
      this.logger.warn({ runId: this.runId, from: this.last + 1, to: this.held[0]!.seq - 1 }, 'viewer: the run log never caught up with the live run; going on with a gap');
      const held = this.held.sort((a, b) => a.seq - b.seq);
      this.held = [];
      for (const event of held) this.accept(event);
      this.wakeIdle();
    }, this.timing.syncTimeoutMs);
    this.gapTimer.unref();
  }

  private drainHeld(): void {
    if (this.held.length === 0) return;
    this.held.sort((a, b) => a.seq - b.seq);
    while (this.held.length > 0 && this.held[0]!.seq <= this.last + 1) this.accept(this.held.shift()!);
    if (this.held.length > 0) {
      // Usually the log already has the lines (the held event's write flushed them); else look again soon.
      if (!this.retry) {
        this.retry = setTimeout(() => {
          this.retry = undefined;
          if (!this.disposed && this.held.length > 0) this.fillGap();
        }, 25);
      }
    } else {
      if (this.gapTimer) clearTimeout(this.gapTimer);
      this.gapTimer = undefined;
      this.wakeIdle();
    }
  }

  private wakeIdle(): void {
    for (const wake of this.idleWaiters.splice(0)) wake();
  }

  private acceptAll(events: readonly ArenaEvent[]): void {
    for (const event of events) this.accept(event);
  }

  private accept(event: ArenaEvent): void {
    if (this.disposed) return;
    // Passed on, never kept: the next one follows within a second, and a finished turn makes it moot.
    if (event.type === 'turn.waiting') {
      if (!this.finishedTurns.has(`${event.turn}:${event.agentId}`)) this.emit(event);
      return;
    }
    if (event.type === 'turn.delta') {
      const key = `${event.turn}:${event.agentId}`;
      if (this.finishedTurns.has(key)) return;
      const list = this.deltas.get(key);
      if (list) list.push(event);
      else this.deltas.set(key, [event]);
      this.emit(event);
      return;
    }
    const known = event.seq <= this.last;
    this.trackTurns(event);
    if (known) return;
    this.last = event.seq;
    // Cached embeddings are kilobytes of base64 per turn that no view draws.
    if (event.type === 'embedding') return;
    this.events.push(event);
    this.emit(event);
  }

  private trackTurns(event: ArenaEvent): void {
    if (event.type !== 'turn.completed' && event.type !== 'turn.failed') return;
    const key = `${event.turn}:${event.agentId}`;
    // A completed turn's text is in its event; a failed attempt's text is void (a retry streams anew).
    this.deltas.delete(key);
    if (event.type === 'turn.completed' || !event.willRetry) this.finishedTurns.add(key);
  }

  private emit(event: ArenaEvent): void {
    for (const listener of this.listeners) {
      try {
        listener(event);
      } catch (err) {
        this.logger.error({ err, runId: this.runId }, 'viewer: feed listener threw');
      }
    }
  }
}
