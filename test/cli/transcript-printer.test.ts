import { PassThrough } from 'node:stream';
import { describe, expect, it } from 'vitest';
import { transcriptPrinter } from '../../src/cli/_transcript-printer.js';
import type { ArenaEvent, EventBody } from '../../src/runlog/events.js';

/** Feed events to a printer and return what it wrote. */
function print(bodies: EventBody[], live: boolean): string {
  const out = new PassThrough();
  let text = '';
  out.on('data', (d: Buffer) => (text += d.toString()));
  const printer = transcriptPrinter(out, { colour: false, live, names: new Map([['bob', 'Bob']]) });
  bodies.forEach((b, i) => printer.onEvent({ v: 1, seq: i + 1, ts: '2026-01-01T00:00:00.000Z', runId: 'r', ...b } as ArenaEvent, undefined as never));
  return text;
}

const waiting = (attempt: number, attemptElapsedMs: number, elapsedMs = attemptElapsedMs): EventBody => ({ type: 'turn.waiting', turn: 2, agentId: 'bob', attempt, elapsedMs, attemptElapsedMs });

describe('the terminal transcript', () => {
  it('without a terminal, says a turn is still waiting once per 10 s of an attempt', () => {
    const text = print(
      [{ type: 'turn.started', turn: 2, agentId: 'bob' }, waiting(1, 1000), waiting(1, 9000), waiting(1, 10_000), waiting(1, 11_000), waiting(1, 20_000), waiting(2, 10_400, 31_000)],
      false,
    );
    expect(text.split('\n').filter((l) => l.includes('waiting'))).toEqual([
      '   … waiting for Bob: no answer after 10 s on attempt 1',
      '   … waiting for Bob: no answer after 20 s on attempt 1',
      '   … waiting for Bob: no answer after 10 s on attempt 2, 31 s since the turn began',
    ]);
  });

  it('on a terminal, redraws one waiting line in place and wipes it when the text comes', () => {
    const text = print([{ type: 'turn.started', turn: 2, agentId: 'bob' }, waiting(1, 1000), waiting(1, 2000), { type: 'turn.delta', turn: 2, agentId: 'bob', text: 'Hello' }], true);
    expect(text).toContain('\r\x1b[2K   … waiting for Bob: no answer after 1 s on attempt 1\r\x1b[2K   … waiting for Bob: no answer after 2 s on attempt 1\r\x1b[2KHello');
  });

  it('prints a turn cut short by a stop as a stop, not as a failed attempt', () => {
    const text = print(
      [
        { type: 'turn.started', turn: 2, agentId: 'bob' },
        { type: 'turn.delta', turn: 2, agentId: 'bob', text: 'Half a' },
        { type: 'intervention', turn: 1, kind: 'stop', by: 'viewer' },
        { type: 'turn.failed', turn: 2, agentId: 'bob', attempt: 1, error: { name: 'AbortedError', message: 'the run was stopped during this turn' }, willRetry: false, partialText: 'Half a', aborted: true },
      ],
      false,
    );
    expect(text).toContain('■ turn 2 cut short by the stop');
    expect(text).not.toMatch(/attempt \d+ failed/);
  });
});
