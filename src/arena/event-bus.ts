import type { ArenaEvent, EventBody } from '../runlog/events.js';
import { EventStamper } from '../runlog/stamp.js';
import type { RunLogWriter } from '../runlog/writer.js';

export type EventListener = (event: ArenaEvent) => void;

/** How a listener subscribes: with or without live deltas, and from which seq on (see EventBus.subscribe). */
export interface SubscribeOptions {
  /** False leaves out the live turn.delta and turn.waiting events. */
  deltas?: boolean;
  /**
   * Replay the kept events with a higher seq first (synchronously, inside `subscribe`), then go on live:
   * no event is missed or delivered twice. Only on a bus that keeps its events (`keepEvents`).
   */
  afterSeq?: number;
}

/**
 * The persisted events a bus keeps for late subscribers: all but the persisted deltas (a finished turn's
 * text is in its turn.completed) and the cached embedding vectors (kilobytes of base64 each, drawn by no view).
 */
export function isKept(event: ArenaEvent): boolean {
  return event.type !== 'turn.delta' && event.type !== 'turn.waiting' && event.type !== 'embedding';
}

const isLiveOnly = (event: ArenaEvent): boolean => event.type === 'turn.delta' || event.type === 'turn.waiting';

/** Event types written out promptly (see scheduleFlush): a crash loses no finished turn, and followers of the file see each turn start. */
const BOUNDARY = new Set<ArenaEvent['type']>([
  'run.started',
  'run.resumed',
  'turn.started',
  'turn.completed',
  'turn.failed',
  'context.trimmed',
  'analysis.turn',
  'embedding',
  'attractor.entered',
  'attractor.exited',
  'intervention',
  'run.finished',
]);

/**
 * Stamps events (v, seq, ts, runId: see EventStamper), appends them to the run log and hands them to listeners
 * in seq order.
 * A listener may publish while being notified; its event is queued and delivered after the current one,
 * so every listener sees every event in seq order. With `keepEvents` the bus also keeps the run's
 * persisted events (see isKept), from seq 1 when `history` holds the events a resumed run's log already
 * had, so a subscriber that comes late (a viewer) gets the whole run from memory.
 */
export class EventBus {
  private readonly stamper: EventStamper;
  private deltaIndex = 0;
  private readonly listeners = new Set<EventListener>();
  /** The listeners that also want live turn.delta events; with none, deltas are not even built. */
  private readonly deltaListeners = new Set<EventListener>();
  private readonly queue: ArenaEvent[] = [];
  /** Kept persisted events in seq order (keepEvents), each added as it is dispatched. */
  private readonly kept: ArenaEvent[] | undefined;
  private dispatching = false;
  private closed = false;
  private flushScheduled = false;

  constructor(
    readonly runId: string,
    private readonly writer: RunLogWriter | undefined,
    private readonly options: {
      now: () => Date;
      persistDeltas: boolean;
      lastSeq: number;
      /** A listener that throws is reported here and the others still get the event. */
      onListenerError?: (err: unknown, event: ArenaEvent) => void;
      /** Keep the persisted events for `subscribe(…, { afterSeq })` (a run that is viewed). */
      keepEvents?: boolean;
      /** The events the log already holds (a resumed run, up to `lastSeq`): kept too, so replays start at seq 1. */
      history?: readonly ArenaEvent[];
    },
  ) {
    this.stamper = new EventStamper(runId, options.lastSeq, options.now);
    if (options.keepEvents) this.kept = (options.history ?? []).filter((e) => isKept(e) && e.seq <= options.lastSeq);
  }

  /** Whether `subscribe` can replay: the bus keeps its persisted events. */
  get keepsEvents(): boolean {
    return this.kept !== undefined;
  }

  get lastSeq(): number {
    return this.stamper.lastSeq;
  }

  publish(body: EventBody): ArenaEvent {
    if (this.closed) throw new Error(`run ${this.runId}: event ${body.type} after the run log was closed`);
    const event = this.stamper.next(body);
    if (event.type === 'turn.started') this.deltaIndex = 0;
    this.writer?.append(event, false);
    if (BOUNDARY.has(event.type)) this.scheduleFlush();
    this.dispatch(event);
    return event;
  }

  /** A streamed token: to listeners only, carrying the last persisted seq, unless deltas are persisted. */
  delta(body: { turn: number; agentId: string; text: string; channel?: 'text' | 'thinking' }): void {
    if (this.closed) return;
    if (!this.options.persistDeltas && this.deltaListeners.size === 0) {
      this.deltaIndex++;
      return;
    }
    if (this.options.persistDeltas) {
      this.publish({ type: 'turn.delta', ...body, i: this.deltaIndex++ });
      return;
    }
    this.dispatch(this.stamper.live({ type: 'turn.delta', ...body, i: this.deltaIndex++ }));
  }

  /** A turn still waiting for its first token: to live listeners only, never to the log. */
  waiting(body: { turn: number; agentId: string; attempt: number; elapsedMs: number; attemptElapsedMs: number }): void {
    if (this.closed || this.deltaListeners.size === 0) return;
    this.dispatch(this.stamper.live({ type: 'turn.waiting', ...body }));
  }

  /**
   * Listen to every event in seq order; `deltas: false` leaves out the live turn.delta and turn.waiting
   * events. With `afterSeq`, the kept events after it are replayed to the listener before this returns,
   * and live events follow from the first one not replayed.
   */
  subscribe(listener: EventListener, options: SubscribeOptions = {}): () => void {
    let target = listener;
    if (options.afterSeq !== undefined) {
      if (!this.kept) throw new Error(`run ${this.runId}: its events are not kept (start it with keepEvents), so they cannot be replayed after seq ${options.afterSeq}`);
      target = this.replayTo(listener, options.afterSeq);
    }
    this.listeners.add(target);
    if (options.deltas !== false) this.deltaListeners.add(target);
    // Events published by the listener during its replay waited in the queue: they come now, in order.
    if (!this.dispatching) this.drain();
    return () => {
      this.listeners.delete(target);
      this.deltaListeners.delete(target);
    };
  }

  /**
   * Hand `listener` the kept events after `afterSeq`; returns the listener to add for the live ones. The
   * event being dispatched right now (a listener subscribing another) is kept already and may reach the
   * new listener once more from the dispatch loop: the returned listener passes over what was replayed.
   */
  private replayTo(listener: EventListener, afterSeq: number): EventListener {
    const kept = this.kept!;
    let lo = 0;
    let hi = kept.length;
    while (lo < hi) {
      const mid = (lo + hi) >>> 1;
      if (kept[mid]!.seq <= afterSeq) lo = mid + 1;
      else hi = mid;
    }
    let replayedTo = afterSeq;
    const wasDispatching = this.dispatching;
    // What the listener publishes meanwhile is queued, not dispatched ahead of the history.
    this.dispatching = true;
    try {
      for (let i = lo; i < kept.length; i++) {
        const event = kept[i]!;
        replayedTo = event.seq;
        this.call(listener, event);
      }
    } finally {
      this.dispatching = wasDispatching;
    }
    return (event) => {
      if (!isLiveOnly(event) && event.seq <= replayedTo) return;
      listener(event);
    };
  }

  /**
   * Boundary events are written before control returns to the event loop: the events one step of the
   * conversation produces (a turn's end, its analysis, the next turn's start) go out in a single write.
   */
  private scheduleFlush(): void {
    if (this.flushScheduled || !this.writer) return;
    this.flushScheduled = true;
    queueMicrotask(() => {
      this.flushScheduled = false;
      if (!this.closed) this.writer?.flush();
    });
  }

  close(options: { sync?: boolean } = {}): void {
    this.closed = true;
    this.writer?.close(options);
  }

  private dispatch(event: ArenaEvent): void {
    this.queue.push(event);
    if (!this.dispatching) this.drain();
  }

  private drain(): void {
    this.dispatching = true;
    try {
      while (this.queue.length > 0) {
        const next = this.queue.shift()!;
        // Kept as it is dispatched: a replay hands out exactly the events the listeners have had.
        if (this.kept && isKept(next)) this.kept.push(next);
        for (const listener of isLiveOnly(next) ? this.deltaListeners : this.listeners) this.call(listener, next);
      }
    } finally {
      this.dispatching = false;
    }
  }

  private call(listener: EventListener, event: ArenaEvent): void {
    try {
      listener(event);
    } catch (err) {
      this.options.onListenerError?.(err, event);
    }
  }
}
