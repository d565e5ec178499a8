import { describe, expect, it } from 'vitest';
import { ArenaEventSchema } from '../../src/runlog/events.js';
import { EventStamper } from '../../src/runlog/stamp.js';

describe('EventStamper', () => {
  it('numbers persisted events after the last seq of the log, and live ones with the seq before them', () => {
    const at = new Date('2026-01-02T03:04:05.678Z');
    const stamper = new EventStamper('run-1', 7, () => at);
    const started = stamper.next({ type: 'turn.started', turn: 4, agentId: 'a' });
    const delta = stamper.live({ type: 'turn.delta', turn: 4, agentId: 'a', text: 'hi', i: 0 });
    const intervention = stamper.next({ type: 'intervention', turn: 4, kind: 'pause', by: 'user' });
    expect(started).toEqual({ v: 1, seq: 8, ts: '2026-01-02T03:04:05.678Z', runId: 'run-1', type: 'turn.started', turn: 4, agentId: 'a' });
    expect(delta.seq).toBe(8);
    expect(intervention.seq).toBe(9);
    expect(stamper.lastSeq).toBe(9);
    // What it stamps is a valid event of the contract, with the envelope first on the line.
    for (const e of [started, delta, intervention]) expect(ArenaEventSchema.safeParse(e).success).toBe(true);
    expect(JSON.stringify(started).startsWith('{"v":1,"seq":8,"ts":"2026-01-02T03:04:05.678Z","runId":"run-1","type":"turn.started"')).toBe(true);
  });
});
