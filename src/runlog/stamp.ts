import { SCHEMA_VERSION, type ArenaEvent, type EventBody } from './events.js';

/**
 * The one place an event body gets its envelope: `v`, `seq`, `ts` and `runId` (see DESIGN.md). The event
 * bus stamps every event of a live run with one; `analyze --write` and `import` stamp what they append to a
 * log with one too, so the numbering rule lives here alone.
 */
export class EventStamper {
  private seq: number;
  private lastDate: Date | undefined;
  private lastTs = '';

  /**
   * `lastSeq`: the seq of the last event already in the log (0 for a new run). `now` returns the moment to
   * stamp; the same Date object again means the same moment (it is not expected to be mutated).
   */
  constructor(
    readonly runId: string,
    lastSeq: number,
    private readonly now: () => Date,
  ) {
    this.seq = lastSeq;
  }

  /** The seq of the last persisted event stamped (or found in the log). */
  get lastSeq(): number {
    return this.seq;
  }

  /** A persisted event: the next seq. */
  next(body: EventBody): ArenaEvent {
    return this.stamp(++this.seq, body);
  }

  /** A live-only event (a token, a turn still waiting): it carries the seq of the last persisted event. */
  live(body: EventBody<Extract<ArenaEvent, { type: 'turn.delta' | 'turn.waiting' }>>): ArenaEvent {
    return this.stamp(this.seq, body);
  }

  private stamp(seq: number, body: EventBody): ArenaEvent {
    const at = this.now();
    // Import and analyze stamp thousands of events with one moment: format it once.
    if (at !== this.lastDate) {
      this.lastDate = at;
      this.lastTs = at.toISOString();
    }
    // The spread of a union loses the link between `type` and its fields; EventBody guarantees it.
    return { v: SCHEMA_VERSION, seq, ts: this.lastTs, runId: this.runId, ...body } as ArenaEvent;
  }
}
