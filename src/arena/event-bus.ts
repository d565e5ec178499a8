import type { ArenaEvent, EventBody } from '../runlog/events.js';
import { EventStamper } from '../runlog/stamp.js';
import type { RunLogWriter } from '../runlog/writer.js';

export type EventListener = (event: ArenaEvent) => void;

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
 * so every listener sees every event in seq order.
 */
export class EventBus {
  private readonly stamper: EventStamper;
  private deltaIndex = 0;
  private readonly listeners = new Set<EventListener>();
  /** The listeners that also want live turn.delta events; with none, deltas are not even built. */
  private readonly deltaListeners = new Set<EventListener>();
  private readonly queue: ArenaEvent[] = [];
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
    },
  ) {
    this.stamper = new EventStamper(runId, options.lastSeq, options.now);
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

  /** Listen to every event in seq order; `deltas: false` leaves out the live turn.delta and turn.waiting events. */
  subscribe(listener: EventListener, options: { deltas?: boolean } = {}): () => void {
    this.listeners.add(listener);
    if (options.deltas !== false) this.deltaListeners.add(listener);
    return () => {
      this.listeners.delete(listener);
      this.deltaListeners.delete(listener);
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
    if (this.dispatching) return;
    this.dispatching = true;
    try {
      while (this.queue.length > 0) {
        const next = this.queue.shift()!;
        for (const listener of next.type === 'turn.delta' || next.type === 'turn.waiting' ? this.deltaListeners : this.listeners) {
          try {
            listener(next);
          } catch (err) {
            this.options.onListenerError?.(err, next);
          }
        }
      }
    } finally {
      this.dispatching = false;
    }
  }
}
