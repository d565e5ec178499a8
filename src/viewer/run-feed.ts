import type { Logger } from 'pino';
import type { RunHandle } from '../arena/run-handle.js';
import type { ArenaEvent, EventOf } from '../runlog/events.js';
import { LogTail } from './log-tail.js';

type Delta = EventOf<'turn.delta'>;
export type FeedListener = (event: ArenaEvent) => void;

/**
 * Where a live feed's events come from: a run handle, or anything that delivers a run's events the same
 * way (the Redis relay). A source that keeps its events replays them when subscribed with `afterSeq`.
 */
export type LiveSource = Pick<RunHandle, 'runId' | 'subscribe'> & Partial<Pick<RunHandle, 'keepsEvents'>>;

const isLiveOnly = (event: ArenaEvent): boolean => event.type === 'turn.delta' || event.type === 'turn.waiting';

/**
 * One run's events, in seq order, for any number of viewers: the persisted events and the deltas of the
 * turns being streamed now. Late joiners replay from here; live listeners are called synchronously after
 * each event is stored. Where the events come from depends on the run:
 * - a run of this process that keeps its events: its handle alone, history and live events in one
 *   subscription (nothing is read from disk);
 * - a run of another process, or a finished one: its log, read and followed as it grows;
 * - a relayed run whose log this machine can read (joined mid-way), or a handle that keeps no events:
 *   live events are taken while they come in seq order, and the log supplies the rest in order (an event
 *   that arrives ahead of what the log has given so far is left to the log);
 * - a relayed run without a readable log: the relay alone, from its first event on.
 */
export class RunFeed {
  private readonly events: ArenaEvent[] = [];
  private last = 0;
  /** Beside a log: the highest persisted seq taken in from either side (persisted deltas in the log count). */
  private seen = 0;
  /** Deltas of turns still being streamed, by `turn:agentId`. */
  private readonly deltas = new Map<string, Delta[]>();
  private readonly finishedTurns = new Set<string>();
  private readonly listeners = new Set<FeedListener>();
  private tail: LogTail | undefined;
  private unsubscribe: (() => void) | undefined;
  private disposed = false;
  /** Callers of caughtUp, woken once the feed holds their seq. */
  private waiters: { seq: number; wake: () => void }[] = [];
  /** Resolves once the history is loaded: at once for a source in memory, after the first read of a log. */
  readonly ready: Promise<void>;

  private constructor(
    readonly runId: string,
    private readonly logger: Logger,
    fill: (feed: RunFeed) => Promise<void>,
  ) {
    this.ready = fill(this);
  }

  /** A run written by another process (or finished): its log, followed as it grows. */
  static fromLog(runId: string, logPath: string, logger: Logger, pollMs: number): RunFeed {
    return new RunFeed(runId, logger, (feed) => feed.followLog(logPath, pollMs, (events) => feed.acceptAll(events)));
  }

  /**
   * A run in this process, or relayed from another (see the class comment for which source serves what).
   * `logPath`: where its log is, when this machine can read it; a source that keeps its events never needs it.
   */
  static live(source: LiveSource, logger: Logger, options: { logPath?: string; pollMs: number }): RunFeed {
    return new RunFeed(source.runId, logger, (feed) => {
      if (source.keepsEvents) {
        feed.unsubscribe = source.subscribe((event) => feed.accept(event), { afterSeq: 0 });
        return Promise.resolve();
      }
      if (options.logPath === undefined) {
        feed.unsubscribe = source.subscribe((event) => feed.acceptRelayed(event));
        return Promise.resolve();
      }
      feed.unsubscribe = source.subscribe((event) => feed.acceptLiveBesideLog(event));
      return feed.followLog(options.logPath, options.pollMs, (events) => feed.acceptLogBesideLive(events));
    });
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

  /** Resolves once the feed holds the persisted event `seq` (or is disposed). */
  caughtUp(seq: number): Promise<void> {
    if (this.disposed || this.last >= seq) return Promise.resolve();
    return new Promise((wake) => this.waiters.push({ seq, wake }));
  }

  /** Live events from now on; with `fromStart`, the persisted events stored so far first. */
  listen(listener: FeedListener, options: { fromStart?: boolean } = {}): () => void {
    if (options.fromStart) for (const event of this.events) listener(event);
    this.listeners.add(listener);
    return () => this.listeners.delete(listener);
  }

  listenerCount(): number {
    return this.listeners.size;
  }

  dispose(): void {
    this.disposed = true;
    this.unsubscribe?.();
    this.unsubscribe = undefined;
    this.tail?.close();
    this.listeners.clear();
    for (const { wake } of this.waiters.splice(0)) wake();
  }

  private async followLog(logPath: string, pollMs: number, onEvents: (events: ArenaEvent[]) => void): Promise<void> {
    this.tail = new LogTail(logPath, onEvents, this.logger);
    await this.tail.readMore();
    if (!this.disposed) this.tail.follow(pollMs);
  }

  /** A relayed event, with no log to fill gaps: a gap is reported and passed over. */
  private acceptRelayed(event: ArenaEvent): void {
    if (!isLiveOnly(event) && this.last > 0 && event.seq > this.last + 1) {
      this.logger.warn({ runId: this.runId, from: this.last + 1, to: event.seq - 1 }, 'viewer: events missing from the relayed run; going on with a gap');
    }
    this.accept(event);
  }

  /**
   * A live event of a run whose log is followed too. Deltas go straight through. A persisted event is
   * taken when it is the next one; one further ahead (the log has not yet given the events before it)
   * is dropped: the log will supply it, in order.
   */
  private acceptLiveBesideLog(event: ArenaEvent): void {
    if (isLiveOnly(event)) {
      this.accept(event);
      return;
    }
    if (event.seq !== this.seen + 1) return;
    this.seen = event.seq;
    this.accept(event);
  }

  /** Lines of the log of a run whose live events come too: its deltas come live, so here they only count. */
  private acceptLogBesideLive(events: readonly ArenaEvent[]): void {
    for (const event of events) {
      if (event.seq > this.seen) this.seen = event.seq;
      if (event.type !== 'turn.delta') this.accept(event);
    }
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
    if (this.waiters.length > 0) this.wakeCaughtUp();
    // Cached embeddings are kilobytes of base64 per turn that no view draws.
    if (event.type === 'embedding') return;
    this.events.push(event);
    this.emit(event);
  }

  private wakeCaughtUp(): void {
    const waiting = this.waiters;
    this.waiters = [];
    for (const waiter of waiting) {
      if (waiter.seq <= this.last) waiter.wake();
      else this.waiters.push(waiter);
    }
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
