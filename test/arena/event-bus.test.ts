import { describe, expect, it } from 'vitest';
import { EventBus } from '../../src/arena/event-bus.js';
import type { ArenaEvent, EventBody } from '../../src/runlog/events.js';

const at = new Date('2026-01-01T00:00:00.000Z');

function bus(options: { keepEvents?: boolean; lastSeq?: number; history?: ArenaEvent[]; persistDeltas?: boolean } = {}): EventBus {
  const { lastSeq = 0, persistDeltas = false, ...rest } = options;
  return new EventBus('run-1', undefined, { now: () => at, persistDeltas, lastSeq, ...rest });
}

const started = (turn: number): EventBody => ({ type: 'turn.started', turn, agentId: 'a' });
const completed = (turn: number): EventBody =>
  ({ type: 'turn.completed', turn, agentId: 'a', text: `turn ${turn}`, finishReason: 'stop', usage: { inputTokens: 1, outputTokens: 2 }, costUsd: 0, latencyMs: 1, attempts: 1 }) as EventBody;
const embedding = (turn: number): EventBody => ({ type: 'embedding', turn, agentId: 'a', model: 'm', dims: 2, vector: 'AAAAAAAAAAA=' }) as EventBody;

/** A listener that records what it hears as `seq:type` (deltas as `seq:delta:i`). */
function recorder() {
  const heard: string[] = [];
  const listener = (e: ArenaEvent) => heard.push(e.type === 'turn.delta' ? `${e.seq}:delta:${e.i}` : `${e.seq}:${e.type}`);
  return { heard, listener };
}

describe('EventBus keeping events for late subscribers', () => {
  it('replays the kept events after afterSeq, then goes on live: nothing missed, nothing twice', () => {
    const b = bus({ keepEvents: true });
    b.publish(started(1));
    b.delta({ turn: 1, agentId: 'a', text: 'x' });
    b.publish(completed(1));
    b.publish(embedding(1));
    b.publish(started(2));

    const all = recorder();
    b.subscribe(all.listener, { afterSeq: 0 });
    // Replayed before subscribe returned; the embedding vector is not kept.
    expect(all.heard).toEqual(['1:turn.started', '2:turn.completed', '4:turn.started']);
    const tail = recorder();
    b.subscribe(tail.listener, { afterSeq: 2 });
    expect(tail.heard).toEqual(['4:turn.started']);

    b.delta({ turn: 2, agentId: 'a', text: 'y' });
    b.publish(completed(2));
    b.publish(embedding(2));
    expect(all.heard).toEqual(['1:turn.started', '2:turn.completed', '4:turn.started', '4:delta:0', '5:turn.completed', '6:embedding']);
    expect(tail.heard).toEqual(['4:turn.started', '4:delta:0', '5:turn.completed', '6:embedding']);
  });

  it('keeps a resumed run\'s history from its log, so a replay starts at seq 1', () => {
    const first = bus({ keepEvents: true });
    const history = [first.publish({ type: 'run.started', scenario: { name: 's' }, agents: [], seed: 1, limits: { maxTurns: 3 } }), first.publish(started(1)), first.publish(embedding(1))];
    const resumed = bus({ keepEvents: true, lastSeq: 3, history });
    resumed.publish({ type: 'run.resumed', fromTurn: 0, truncatedTail: false });
    const r = recorder();
    resumed.subscribe(r.listener, { afterSeq: 0 });
    expect(r.heard).toEqual(['1:run.started', '2:turn.started', '4:run.resumed']);
  });

  it('does not keep persisted deltas: their text is in the turn.completed', () => {
    const b = bus({ keepEvents: true, persistDeltas: true });
    b.publish(started(1));
    b.delta({ turn: 1, agentId: 'a', text: 'x' });
    b.publish(completed(1));
    const r = recorder();
    b.subscribe(r.listener, { afterSeq: 0, deltas: false });
    expect(r.heard).toEqual(['1:turn.started', '3:turn.completed']);
  });

  it('a subscriber added while an event is dispatched gets it once, and the events queued behind it once each, in order', () => {
    const b = bus({ keepEvents: true });
    const late = recorder();
    let published = false;
    b.subscribe((e) => {
      if (e.type !== 'turn.started' || published) return;
      published = true;
      // Queued behind turn.started: not kept yet when the late subscriber's replay runs.
      b.publish(completed(1));
      b.subscribe(late.listener, { afterSeq: 0 });
    });
    b.publish(started(1));
    b.publish(started(2));
    expect(late.heard).toEqual(['1:turn.started', '2:turn.completed', '3:turn.started']);
  });

  it('what a subscriber publishes during its replay comes after the replay, to every listener in seq order', () => {
    const b = bus({ keepEvents: true });
    b.publish(started(1));
    b.publish(completed(1));
    const early = recorder();
    b.subscribe(early.listener);
    const late = recorder();
    b.subscribe((e) => {
      late.listener(e);
      if (e.seq === 1) b.publish(started(2));
    }, { afterSeq: 0 });
    expect(late.heard).toEqual(['1:turn.started', '2:turn.completed', '3:turn.started']);
    expect(early.heard).toEqual(['3:turn.started']);
    expect(b.lastSeq).toBe(3);
  });

  it('refuses a replay when it keeps nothing, saying why', () => {
    const b = bus();
    expect(b.keepsEvents).toBe(false);
    expect(() => b.subscribe(() => undefined, { afterSeq: 0 })).toThrow(/run run-1: its events are not kept \(start it with keepEvents\)/);
  });
});
